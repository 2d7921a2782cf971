"""The home path: torchvision's ImageNet models on [0, 1] RGB images, plus the kit's photos.

    model = load_imagenet_model("resnet18")      # pretrained: needs the weights in torch's hub cache
    x = load_photo("chelsea")                    # (3, 224, 224) in [0, 1]
    model(x[None]).softmax(1).topk(3)            # indices into model.categories

Pretrained weights come from download.pytorch.org, which this kit never contacts: fetch them once at home
(see WeightsNotCachedError) and they are found in the cache afterwards. Everything else works offline.
A ``.pth`` file is a pickle and a pickle can run code, so the kit reads the cached file itself: its SHA-256 must
start with the hash torchvision puts in the file name (what torch.hub checks on download, never afterwards),
and it is unpacked with ``torch.load(weights_only=True)`` (tensors only) before ``load_state_dict``.
The model takes pixels in [0, 1]; ImageNet's mean/std normalisation is its first layer, so the black image
is the zero tensor, as in the IG paper's baseline (Sundararajan et al. 2017, Sec. 3).
"""

import hashlib
import io
import math
import re
import warnings
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from torch import nn
from torchvision.models import get_model, get_model_weights

from .files import data_dir

MODELS = {"resnet18": 224, "resnet50": 224, "vgg19_bn": 224, "inception_v3": 299}  # name -> input size
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
IMAGE_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "WEBP")  # the only decoders PIL may try on a user's file
MAX_BYTES = 20_000_000
MAX_SIDE = 30_000            # pixels per side, of the file and of the image resized for the model
HASH_IN_NAME = re.compile(r"-([a-f0-9]+)\.")  # torch.hub's rule: "resnet18-f37072fd.pth" -> f37072fd
HIGH_BIT_MODES = {"I;16": 65535, "I;16B": 65535, "I;16L": 65535, "I;16N": 65535, "I": 65535}  # mode -> white


class WeightsNotCachedError(RuntimeError):
    """Pretrained weights were asked for but are not in torch's hub cache (and we never download)."""


class WeightsFileError(ValueError):
    """The cached weights file is not the one torchvision publishes (wrong hash, or not plain tensors)."""


class ImageRejected(ValueError):
    """load_image refuses a file; the message says why and what is allowed."""


class Normalize(nn.Module):
    """(x - mean) / std per channel, as a layer: the model's input stays in [0, 1] pixel space."""

    def __init__(self, mean=IMAGENET_MEAN, std=IMAGENET_STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def imagenet_classes():
    """The 1,000 ImageNet class names (from torchvision's metadata: no download)."""
    return list(get_model_weights("resnet18").DEFAULT.meta["categories"])


def cached_weights_path(weights):
    """Where torch.hub keeps (or would keep) the file for a torchvision Weights entry."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(weights.url).path).name


def load_imagenet_model(name="resnet18", weights="DEFAULT", fallback=False):
    """nn.Sequential(Normalize, torchvision net) in eval mode, for inputs (N, 3, S, S) in [0, 1].

    weights: "DEFAULT", another enum name such as "IMAGENET1K_V1", or None for random weights.
    Pretrained weights are used only if already cached; otherwise WeightsNotCachedError, or with
    fallback=True random weights and a warning. The result carries `.categories` (1,000 names),
    `.input_size` (224, or 299 for inception_v3) and `.net` (the torchvision model, for layer hooks).
    """
    if name not in MODELS:
        raise ValueError(f"unknown ImageNet model {name!r}; choose one of: {', '.join(MODELS)}")
    w = None
    if weights is not None:
        w = get_model_weights(name)[weights] if isinstance(weights, str) else weights
        path = cached_weights_path(w)
        if not path.is_file():  # checked before torchvision is called: it would try to download
            message = (
                f"pretrained weights for {name} ({w}) are not in torch's hub cache: {path} is missing. "
                f"This kit never downloads. At home, with internet, run once:\n"
                f"    python -c \"import torchvision; torchvision.models.get_model('{name}', "
                f"weights='{w.name}')\"\n"
                f"(or copy {path.name} into {path.parent}). Offline, the embedded zoo works "
                f"(attrkit.zoo.load('mnist')), and load_imagenet_model('{name}', fallback=True) gives "
                f"random weights for trying out code.")
            if not fallback:
                raise WeightsNotCachedError(message)
            warnings.warn(message + "\nUsing RANDOM weights now: the predictions mean nothing.",
                          stacklevel=2)
            w = None
    # What torchvision's builders set with these weights: no random init to overwrite, and for inception_v3 the
    # input transform and the auxiliary head its file holds (its old random init takes seconds, so never).
    if name == "inception_v3":
        extra = {"init_weights": False, **({"transform_input": True, "aux_logits": True} if w is not None else {})}
    else:
        extra = {"init_weights": False} if name == "vgg19_bn" and w is not None else {}
    net = get_model(name, weights=None, **extra)  # torchvision never sees the weights: it would unpickle them
    if w is not None:
        try:
            net.load_state_dict(verified_state_dict(path))
        except RuntimeError as e:  # wrong keys or shapes: a genuine file for another model
            raise WeightsFileError(f"{path} does not fit {name}: {str(e).splitlines()[0]}") from None
    model = nn.Sequential(OrderedDict(normalize=Normalize(), net=net)).eval()
    model.categories, model.input_size = imagenet_classes(), MODELS[name]
    return model


def verified_state_dict(path) -> dict:
    """The tensors in a cached torchvision weights file, after checking its SHA-256 against the hash prefix in
    its name (as torch.hub does on download); read with ``weights_only=True``, so it cannot run code."""
    path = Path(path)
    expected = HASH_IN_NAME.search(path.name)
    if expected is None:
        raise WeightsFileError(f"{path}: the file name carries no hash (torchvision names its files "
                               f"'<model>-<sha256 prefix>.pth'); the kit loads no weights it cannot check")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    got, want = digest.hexdigest(), expected.group(1)
    if not got.startswith(want):
        raise WeightsFileError(
            f"{path} is not the file torchvision publishes: its SHA-256 starts {got[:len(want)]}, the name says "
            f"{want}. It may be a broken download or a planted file (a .pth file can run code), so it was not "
            f"opened. Delete it and fetch the weights again (see load_imagenet_model's message when the file is "
            f"missing).")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # weights_only refuses anything but tensors and plain containers
        raise WeightsFileError(f"{path} holds more than tensors, so it was not loaded ({type(e).__name__}: "
                               f"{str(e).splitlines()[0] if str(e) else ''}); delete it and fetch it again") from None
    if not isinstance(state, dict):
        raise WeightsFileError(f"{path} holds a {type(state).__name__}, not a state_dict of tensors")
    return state


def photos():
    """Names of the photos shipped in data/photos (scikit-image's sample images, see data/LICENSES.md)."""
    return sorted(p.stem for p in (data_dir() / "photos").glob("*.jpg"))


def load_photo(name, size=224):
    """Shipped photo `name` as a float tensor (3, size, size) in [0, 1] (299 for inception_v3)."""
    if name not in photos():
        raise ValueError(f"unknown photo {name!r}; choose one of: {', '.join(photos())}")
    return load_image(data_dir() / "photos" / f"{name}.jpg", size=size)


def _check_size(width, height, size, max_pixels, max_side, label):
    """Refuse, from the header alone, an image whose decoding or resizing would take too much memory: too many
    pixels, a side too long, or (resized to ``size`` on its short side) a side too long after the resize."""
    if max(width, height) > max_side:
        raise ImageRejected(f"image too large: {label} declares {width}x{height} pixels, the limit is "
                            f"{max_side:,} pixels per side")
    if max_pixels and width * height > max_pixels:
        raise ImageRejected(f"image too large: {label} declares {width}x{height} pixels, the limit is "
                            f"{max_pixels:,} pixels")
    if size is not None:
        long_side = math.ceil(max(width, height) * size / max(1, min(width, height)))
        if max(size, long_side) > max_side or (max_pixels and size * long_side > max_pixels):
            raise ImageRejected(f"image too elongated: {label} is {width}x{height} pixels; with its short side "
                                f"resized to {size} it would be {long_side:,} pixels long, over the limit of "
                                f"{max_side:,} per side (keep the aspect ratio under {max_side // size}:1)")


def _as_viewed(img: Image.Image) -> Image.Image:
    """The image as a photo viewer shows it: EXIF orientation applied; transparency composited on white;
    CMYK through its ICC profile when it has one; 16-bit greyscale as a float image in [0, 1] (mode "F")."""
    img = ImageOps.exif_transpose(img)
    if img.mode in HIGH_BIT_MODES:
        white = HIGH_BIT_MODES[img.mode]
        return Image.fromarray(np.clip(np.asarray(img).astype(np.float32) / white, 0, 1))
    if img.mode in ("RGBA", "LA", "La", "RGBa", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    if img.mode == "CMYK" and img.info.get("icc_profile"):
        try:
            return ImageCms.profileToProfile(img, io.BytesIO(img.info["icc_profile"]),
                                             ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError):  # a broken profile: the plain conversion below
            pass
    return img.convert("RGB")


def load_image(source, size=224, max_bytes=MAX_BYTES, max_pixels=None, max_side=MAX_SIDE):
    """A user's image (path or bytes) as float (3, size, size) in [0, 1]: shorter side resized, centre crop.

    size=None keeps the original size. Only JPEG, PNG, BMP, GIF (first frame) and WebP are decoded. Memory is
    bounded before decoding, from the header: files over max_bytes, images over max_pixels pixels (default
    PIL's Image.MAX_IMAGE_PIXELS) or over max_side pixels on a side, and images that resizing to ``size`` would
    stretch past max_side (a 20000x1 PNG of 99 bytes) are refused, so a small file can't exhaust memory.
    Every refusal is an :class:`ImageRejected` (a ValueError) saying why.

    The pixels are those a photo viewer shows: EXIF orientation applied (a portrait phone photo stands up),
    transparent pixels composited on white, palette and CMYK converted to RGB, 16-bit greyscale (PNG mode I;16)
    scaled from 0..65535 to [0, 1] and repeated on the three channels.
    """
    label = "the given bytes"
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path, label = Path(source), str(source)
        if not path.is_file():
            raise ImageRejected(f"image file not found: {path}")
        if path.stat().st_size > max_bytes:
            raise ImageRejected(f"image file too large: {path} has {path.stat().st_size:,} bytes, "
                                f"the limit is {max_bytes:,}")
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise ImageRejected(f"image too large: {len(data):,} bytes, the limit is {max_bytes:,}")
    max_pixels = (Image.MAX_IMAGE_PIXELS or 89_478_485) if max_pixels is None else max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)  # reads the header only
            _check_size(img.width, img.height, size, max_pixels, max_side, label)
            img.load()
            img = _as_viewed(img)
            if size is not None:
                img = TF.center_crop(TF.resize(img, size), size)
    except UnidentifiedImageError:
        raise ImageRejected(f"unsupported image file: {label}; use JPEG or PNG "
                            f"(BMP, GIF and WebP are accepted too)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(f"image too large: {label} declares more pixels than PIL's limit "
                            f"({Image.MAX_IMAGE_PIXELS:,}); refusing a possible decompression bomb") from None
    except (MemoryError, OverflowError):
        raise ImageRejected(f"image too large: {label} does not fit in memory; use a smaller image") from None
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt data inside a known format
        if isinstance(e, ImageRejected):
            raise
        raise ImageRejected(f"could not decode image {label}: {e}") from None
    if img.mode == "F":  # high bit depth, already in [0, 1]
        return torch.from_numpy(np.array(img, dtype=np.float32)).clamp(0, 1).expand(3, -1, -1).clone()
    return TF.pil_to_tensor(img).float().div(255)
