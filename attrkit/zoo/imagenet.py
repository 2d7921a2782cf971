"""The home path: torchvision's ImageNet models on [0, 1] RGB images, plus the kit's photos.

    model = load_imagenet_model("resnet18")      # pretrained: needs the weights in torch's hub cache
    x = load_photo("chelsea")                    # (3, 224, 224) in [0, 1]
    model(x[None]).softmax(1).topk(3)            # indices into model.categories

Pretrained weights come from download.pytorch.org, which this kit never contacts: fetch them once at home
(see WeightsNotCachedError) and they are found in the cache afterwards. Everything else works offline.
The model takes pixels in [0, 1]; ImageNet's mean/std normalisation is its first layer, so the black image
is the zero tensor, as in the IG paper's baseline (Sundararajan et al. 2017, Sec. 3).
"""

import io
import warnings
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlparse

import torch
import torchvision.transforms.functional as TF
from PIL import Image, UnidentifiedImageError
from torch import nn
from torchvision.models import get_model, get_model_weights

from .entries import data_dir

MODELS = {"resnet18": 224, "resnet50": 224, "vgg19_bn": 224, "inception_v3": 299}  # name -> input size
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
IMAGE_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "WEBP")  # the only decoders PIL may try on a user's file
MAX_BYTES = 20_000_000


class WeightsNotCachedError(RuntimeError):
    """Pretrained weights were asked for but are not in torch's hub cache (and we never download)."""


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
    # inception_v3's old random init takes seconds (and warns); the default PyTorch init is fine here.
    extra = {"init_weights": False} if name == "inception_v3" and w is None else {}
    net = get_model(name, weights=w, **extra)
    model = nn.Sequential(OrderedDict(normalize=Normalize(), net=net)).eval()
    model.categories, model.input_size = imagenet_classes(), MODELS[name]
    return model


def photos():
    """Names of the photos shipped in data/photos (scikit-image's sample images, see data/LICENSES.md)."""
    return sorted(p.stem for p in (data_dir() / "photos").glob("*.jpg"))


def load_photo(name, size=224):
    """Shipped photo `name` as a float tensor (3, size, size) in [0, 1] (299 for inception_v3)."""
    if name not in photos():
        raise ValueError(f"unknown photo {name!r}; choose one of: {', '.join(photos())}")
    return load_image(data_dir() / "photos" / f"{name}.jpg", size=size)


def load_image(source, size=224, max_bytes=MAX_BYTES, max_pixels=None):
    """A user's image (path or bytes) as float (3, size, size) in [0, 1]: shorter side resized, centre crop.

    size=None keeps the original size. Only JPEG, PNG, BMP, GIF (first frame) and WebP are decoded;
    files over max_bytes, or over max_pixels (default PIL's Image.MAX_IMAGE_PIXELS) pixels, are refused
    before decoding, so a small file that unpacks into a huge image (a decompression bomb) can't exhaust
    memory. Every refusal is a ValueError saying why.
    """
    label = "the given bytes"
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path, label = Path(source), str(source)
        if not path.is_file():
            raise ValueError(f"image file not found: {path}")
        if path.stat().st_size > max_bytes:
            raise ValueError(f"image file too large: {path} has {path.stat().st_size:,} bytes, "
                             f"the limit is {max_bytes:,}")
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise ValueError(f"image too large: {len(data):,} bytes, the limit is {max_bytes:,}")
    max_pixels = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)  # reads the header only
            if max_pixels and img.width * img.height > max_pixels:
                raise ValueError(f"image too large: {label} declares {img.width}x{img.height} pixels, "
                                 f"the limit is {max_pixels:,} pixels")
            img.load()
            img = img.convert("RGB")  # greyscale, palette (GIF) and alpha (PNG) -> plain RGB
    except UnidentifiedImageError:
        raise ValueError(f"unsupported image file: {label}; use JPEG or PNG "
                         f"(BMP, GIF and WebP are accepted too)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError(f"image too large: {label} declares more pixels than PIL's limit "
                         f"({Image.MAX_IMAGE_PIXELS:,}); refusing a possible decompression bomb") from None
    except (OSError, SyntaxError) as e:  # truncated or corrupt data inside a known format
        raise ValueError(f"could not decode image {label}: {e}") from None
    if size is not None:
        img = TF.center_crop(TF.resize(img, size), size)
    return TF.pil_to_tensor(img).float().div(255)
