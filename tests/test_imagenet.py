"""attrkit.imagenet: offline model building, never a download, and careful image loading."""

import io
import struct
import zlib

import pytest
import torch
from PIL import Image

from attrkit import imagenet

torch.set_num_threads(1)


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    """An empty torch hub cache, and any download attempt fails the test."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def no_download(*args, **kwargs):
        raise AssertionError("attempted a download")
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    return tmp_path / "torch" / "hub" / "checkpoints"


def png_bytes(mode="RGB", size=(20, 10), fmt="PNG"):
    buf = io.BytesIO()
    Image.new(mode, size, color=(200, 30, 30, 128)[: len(mode)] if mode != "L" else 77).save(buf, fmt)
    return buf.getvalue()


def png_declaring(width, height):
    """A valid-looking 1-pixel-data PNG whose header claims width x height: a decompression bomb."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 4))
            + chunk(b"IEND", b""))


def test_photos_load_in_unit_range():
    assert {"astronaut", "chelsea", "coffee", "rocket"} <= set(imagenet.photos())  # + data/photos/photos.json
    x = imagenet.load_photo("chelsea")
    assert x.shape == (3, 224, 224) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert imagenet.load_photo("coffee", size=299).shape == (3, 299, 299)
    with pytest.raises(ValueError, match="unknown photo 'dog'.*chelsea"):
        imagenet.load_photo("dog")


def test_random_weights_resnet18_on_a_photo(empty_hub):
    model = imagenet.load_imagenet_model("resnet18", weights=None)
    assert not model.training and model.input_size == 224 and len(model.categories) == 1000
    with torch.no_grad():
        out = model(imagenet.load_photo("chelsea")[None])
    assert out.shape == (1, 1000) and torch.isfinite(out).all()


def test_normalisation_is_inside_the_model():
    model = imagenet.load_imagenet_model("resnet18", weights=None)
    x = torch.full((1, 3, 4, 4), 0.5)
    expected = (x - torch.tensor(imagenet.IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(
        imagenet.IMAGENET_STD).view(1, 3, 1, 1)
    assert torch.allclose(model.normalize(x), expected) and model.net.__class__.__name__ == "ResNet"


def test_inception_takes_299():
    model = imagenet.load_imagenet_model("inception_v3", weights=None)
    assert model.input_size == 299
    with torch.no_grad():
        assert model(torch.rand(1, 3, 299, 299)).shape == (1, 1000)


@pytest.mark.parametrize("name", list(imagenet.MODELS))
def test_uncached_pretrained_weights_raise_a_clear_error(empty_hub, name):
    with pytest.raises(imagenet.WeightsNotCachedError, match=rf"(?s){name}.*get_model\('{name}'.*zoo"):
        imagenet.load_imagenet_model(name)
    assert issubclass(imagenet.WeightsNotCachedError, RuntimeError)


def test_fallback_warns_and_returns_random_model(empty_hub):
    with pytest.warns(UserWarning, match="RANDOM weights"):
        model = imagenet.load_imagenet_model("resnet18", fallback=True)
    assert model(torch.rand(1, 3, 64, 64)).shape == (1, 1000)


def test_cached_weights_are_used_without_download(empty_hub, monkeypatch):
    """Put a (random) state_dict where torch.hub keeps resnet18's file: it must be loaded from there. Its name
    carries its own hash, as torchvision's files do (the kit checks it), so the weights entry is pointed at it."""
    import hashlib
    from torchvision.models import ResNet18_Weights, resnet18
    assert imagenet.cached_weights_path(ResNet18_Weights.DEFAULT).parent == empty_hub
    empty_hub.mkdir(parents=True)
    torch.manual_seed(0)
    reference = resnet18()
    torch.save(reference.state_dict(), empty_hub / "tmp.pth")
    name = f"resnet18-{hashlib.sha256((empty_hub / 'tmp.pth').read_bytes()).hexdigest()[:8]}.pth"
    (empty_hub / "tmp.pth").rename(empty_hub / name)
    entry = ResNet18_Weights.DEFAULT.value
    monkeypatch.setattr(entry, "url", entry.url.rsplit("/", 1)[0] + "/" + name)
    model = imagenet.load_imagenet_model("resnet18")
    assert torch.equal(model.net.fc.weight, reference.fc.weight)


def test_unknown_model_name():
    with pytest.raises(ValueError, match="unknown ImageNet model 'alexnet'.*resnet18"):
        imagenet.load_imagenet_model("alexnet")


def test_classes_offline():
    names = imagenet.imagenet_classes()
    assert len(names) == 1000 and names[281] == "tabby"


@pytest.mark.parametrize("mode,fmt", [("RGB", "PNG"), ("RGBA", "PNG"), ("L", "JPEG"), ("P", "GIF"),
                                      ("RGB", "BMP"), ("RGB", "WEBP")])
def test_load_image_accepts_common_formats(mode, fmt):
    x = imagenet.load_image(png_bytes(mode, fmt=fmt), size=16)
    assert x.shape == (3, 16, 16) and 0 <= x.min() and x.max() <= 1


def test_load_image_from_path_keeps_size(tmp_path):
    p = tmp_path / "a.png"
    p.write_bytes(png_bytes(size=(20, 10)))
    assert imagenet.load_image(p, size=None).shape == (3, 10, 20)


def test_rejects_non_images(tmp_path):
    with pytest.raises(ValueError, match="unsupported image file: the given bytes; use JPEG or PNG"):
        imagenet.load_image(b"hello, I am not a picture")
    p = tmp_path / "notes.txt"
    p.write_text("plain text")
    with pytest.raises(ValueError, match="unsupported image file: .*notes.txt"):
        imagenet.load_image(p)
    with pytest.raises(ValueError, match="unsupported image file"):  # PIL reads TIFF; we don't allow it
        imagenet.load_image(png_bytes(fmt="TIFF"))
    with pytest.raises(ValueError, match="image file not found"):
        imagenet.load_image(tmp_path / "missing.png")


def test_rejects_oversize_files(tmp_path):
    data = png_bytes()
    with pytest.raises(ValueError, match="image too large"):
        imagenet.load_image(data, max_bytes=len(data) - 1)
    p = tmp_path / "big.png"
    p.write_bytes(data)
    with pytest.raises(ValueError, match="image file too large"):
        imagenet.load_image(p, max_bytes=10)


def test_rejects_decompression_bombs(monkeypatch):
    with pytest.raises(ValueError, match="image too large"):
        imagenet.load_image(png_declaring(100_000, 100_000))  # 10 gigapixels in ~60 bytes
    with pytest.raises(ValueError, match="declares 20x10 pixels"):
        imagenet.load_image(png_bytes(), max_pixels=100)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 150)  # PIL's own limit is honoured too
    with pytest.raises(ValueError, match="image too large"):
        imagenet.load_image(png_bytes())


def test_rejects_truncated_image():
    data = png_bytes(fmt="JPEG", size=(64, 64))
    with pytest.raises(ValueError, match="could not decode image"):
        imagenet.load_image(data[: len(data) // 2])


def test_cmyk_and_palette_images_become_rgb():
    cmyk = io.BytesIO()
    Image.new("CMYK", (4, 4), (255, 0, 0, 0)).save(cmyk, "JPEG", quality=95)  # pure cyan ink
    x = imagenet.load_image(cmyk.getvalue(), size=None)
    assert x.shape == (3, 4, 4) and x[0].max() < 0.1 and x[1:].min() > 0.9
    assert imagenet.load_image(png_bytes("P", fmt="GIF"), size=None).shape == (3, 10, 20)
