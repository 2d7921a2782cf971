"""Hostile and odd files (issue 17): cached weights are checked and never unpickled, images are bounded before any
resize and shown as a photo viewer would, and attrkit.load reads only what a result file needs, within a limit,
rebuilding only registered result types."""
import hashlib
import io
import json
import pickle
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image
from torchvision.models import ResNet18_Weights, resnet18

import attrkit
from attrkit import imagenet
from attrkit.common import saving
from attrkit.lab.curves import CausalCurve
from attrkit.widgets import upload

torch.set_num_threads(1)


# ---- ImageNet weights in torch's hub cache ---------------------------------------------------------------------

class Plant:
    """Unpickling this object creates the file ``marker``: proof that a pickle ran code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch hub cache; any download attempt fails the test."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def no_download(*args, **kwargs):
        raise AssertionError("attempted a download")
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    path = imagenet.cached_weights_path(ResNet18_Weights.DEFAULT)
    path.parent.mkdir(parents=True)
    return path


def plant_with_matching_hash(hub, monkeypatch, obj):
    """Save ``obj`` under the name torchvision would give a file with its hash, and point resnet18's weights
    entry at that name: the hash check passes, so only weights_only stands between the file and the kit."""
    tmp = hub.parent / "tmp.pth"
    torch.save(obj, tmp)
    name = f"resnet18-{hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]}.pth"
    tmp.rename(hub.parent / name)
    entry = ResNet18_Weights.DEFAULT.value
    monkeypatch.setattr(entry, "url", entry.url.rsplit("/", 1)[0] + "/" + name)
    return hub.parent / name


def test_planted_pickle_under_the_real_name_is_refused_by_its_hash(hub, tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"fc.weight": Plant(marker)}, hub)  # resnet18-f37072fd.pth, as the offline message suggests
    with pytest.raises(imagenet.WeightsFileError, match=rf"(?s){hub.name}.*SHA-256 starts [0-9a-f]{{8}}.*f37072fd"):
        imagenet.load_imagenet_model("resnet18")
    assert not marker.exists()


def test_planted_pickle_with_a_matching_hash_is_not_unpickled(hub, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    path = plant_with_matching_hash(hub, monkeypatch, {"fc.weight": Plant(marker)})
    with pytest.raises(imagenet.WeightsFileError, match=rf"{path.name} holds more than tensors"):
        imagenet.load_imagenet_model("resnet18")
    assert not marker.exists()


def test_weights_with_a_matching_hash_are_loaded_by_the_kit(hub, monkeypatch):
    torch.manual_seed(0)
    reference = resnet18()
    plant_with_matching_hash(hub, monkeypatch, reference.state_dict())
    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url",  # torchvision's loader is not used
                        lambda *a, **k: pytest.fail("torchvision read the weights file"))
    model = imagenet.load_imagenet_model("resnet18")
    assert torch.equal(model.net.fc.weight, reference.fc.weight)
    assert torch.equal(model.net.layer1[0].bn1.running_mean, reference.layer1[0].bn1.running_mean)


# ---- images: memory bounded before any resize -----------------------------------------------------------------

def png(mode, size, **save):
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, "PNG", **save)
    return buf.getvalue()


def png_declaring(width, height):
    """A PNG header claiming width x height, with (almost) no pixel data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 2)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width,height", [(4000, 1), (1, 20000)])
def test_aspect_ratio_bombs_are_refused_before_the_resize(width, height):
    data = png("L", (width, height))  # a real, tiny file: resizing its 1-pixel side to 224 would take GBs
    assert len(data) < 200
    tracemalloc.start()
    try:
        with pytest.raises(imagenet.ImageRejected, match=rf"{width}x{height}.*limit of 30,000 per side"):
            imagenet.load_image(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000
    assert imagenet.load_image(data, size=None).shape == (3, height, width)  # unresized, it is harmless


@pytest.mark.parametrize("width,height", [(40000, 1), (1, 2_000_000), (89_000_000, 1)])
def test_overlong_sides_are_refused_from_the_header(width, height):
    with pytest.raises(imagenet.ImageRejected, match=rf"declares {width}x{height} pixels, the limit is 30,000 "
                                                     "pixels per side"):
        imagenet.load_image(png_declaring(width, height))


def test_limits_are_arguments():
    with pytest.raises(ValueError, match="limit is 100 pixels per side"):
        imagenet.load_image(png("RGB", (101, 101)), max_side=100)
    with pytest.raises(ValueError, match="resized to 16 it would be 64 pixels long, over the limit of 50"):
        imagenet.load_image(png("RGB", (40, 10)), size=16, max_side=50)


def test_upload_widget_falls_back_on_a_memory_bomb():
    data = png("L", (1, 2_000_000))  # today: MemoryError from the resize, escaping the widget
    image, message = upload.image_from_upload([{"name": "tall.png", "content": data}], size=32)
    assert image.shape == (3, 32, 32)
    assert message.startswith("upload refused: image too large") and "'chelsea'" in message
    with pytest.raises(imagenet.ImageRejected, match="upload refused"):
        upload.image_from_upload([{"name": "tall.png", "content": data}], fallback=None)
    _, message = upload.image_from_upload([{"name": "x.png", "content": 10 ** 12}], size=16)  # not bytes
    assert message.startswith("upload refused: could not read the upload")


# ---- images: the pixels a photo viewer shows ------------------------------------------------------------------

def png16(values: np.ndarray) -> bytes:
    """A 16-bit greyscale PNG written by hand (colour type 0, bit depth 16, big-endian samples)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    h, w = values.shape
    rows = b"".join(b"\x00" + values[r].astype(">u2").tobytes() for r in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("writer", ["by hand", "by PIL"])
def test_16_bit_images_are_scaled_not_clipped(writer):
    ramp = np.linspace(0, 65535, 64).round().astype(np.uint16)[None].repeat(64, 0)  # black to white, left to right
    if writer == "by hand":
        data = png16(ramp)
    else:
        buf = io.BytesIO()
        Image.fromarray(ramp).save(buf, "PNG")  # mode I;16
        data = buf.getvalue()
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    x = imagenet.load_image(data, size=None)
    assert x.shape == (3, 64, 64) and torch.equal(x[0], x[2])
    assert torch.allclose(x[0], torch.from_numpy(ramp / 65535.0).float(), atol=1e-6)
    small = imagenet.load_image(data, size=8)  # resized in float: still the ramp, not 99 % white
    assert small.shape == (3, 8, 8) and small[0, :, 0].max() < 0.15 and small[0, :, -1].min() > 0.85
    assert torch.allclose(small[0].mean(), torch.tensor(0.5), atol=0.01)


def test_exif_orientation_is_applied():
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = (255, 0, 0)                      # stored: red left half, blue right half
    arr[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6                               # "rotate 90° clockwise to display": a portrait phone photo
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", exif=exif, quality=95)
    x = imagenet.load_image(buf.getvalue(), size=None)
    assert x.shape == (3, 40, 20)                  # standing up
    assert x[0, :15].mean() > 0.9 > 0.1 > x[2, :15].mean()  # the left half is now on top
    assert x[2, 25:].mean() > 0.9 > 0.1 > x[0, 25:].mean()


def test_transparency_is_composited_on_white():
    rgba = Image.new("RGBA", (4, 2), (0, 0, 0, 0))  # fully transparent black: a viewer shows white
    rgba.putpixel((1, 0), (255, 0, 0, 255))
    rgba.putpixel((2, 0), (255, 0, 0, 128))
    buf = io.BytesIO()
    rgba.save(buf, "PNG")
    x = imagenet.load_image(buf.getvalue(), size=None)
    assert torch.equal(x[:, 1, 0], torch.ones(3)) and torch.equal(x[:, 0, 1], torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(x[:, 0, 2], torch.tensor([1.0, 127 / 255, 127 / 255]), atol=1.5 / 255)
    gif = io.BytesIO()                                  # a palette image with a transparent index
    pal = Image.new("P", (3, 1), 0)
    pal.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    pal.putpixel((1, 0), 1)
    pal.save(gif, "GIF", transparency=0)
    y = imagenet.load_image(gif.getvalue(), size=None)
    assert torch.equal(y[:, 0, 0], torch.ones(3)) and torch.equal(y[:, 0, 1], torch.tensor([0.0, 1.0, 0.0]))


# ---- attrkit.load: sizes, members, classes --------------------------------------------------------------------

def small_result(path):
    res = attrkit.integrated_gradients(torch.nn.Sequential(torch.nn.Linear(3, 2)).eval(), torch.ones(1, 3),
                                       steps=4, progress=False)
    res.save(path)
    return res


def add_member(path, name, data: bytes):
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)


def npy_bytes(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def test_load_reads_only_the_members_the_tree_names(tmp_path):
    path = tmp_path / "r.npz"
    res = small_result(path)
    add_member(path, "junk.npy", npy_bytes(np.zeros(2 ** 26 // 8)))  # 64 MiB of zeros in ~64 KB
    tracemalloc.start()
    try:
        back = attrkit.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2 ** 20 and torch.equal(back.attributions, res.attributions)


def test_load_refuses_a_member_over_the_limit_before_decompressing(tmp_path):
    path = tmp_path / "big.npz"
    scores = torch.zeros(2 ** 21)  # 8 MiB of float32, a few KB compressed
    CausalCurve("deletion", "ours", 0, scores, scores[:2], scores[:1], 0.0, "rule", "black", 1, None, "logit").save(path)
    tracemalloc.start()
    try:
        with pytest.raises(saving.ResultFileError, match=r"refusing to unpack 'r.scores': 8,388,736 bytes, over what "
                                                         r"is left of the 1,048,576-byte limit.*max_bytes="):
            attrkit.load(path, max_bytes=2 ** 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 ** 20
    assert attrkit.load(path).scores.shape == (2 ** 21,)  # the default limit (1 GiB) lets it through


def test_load_refuses_a_member_larger_than_declared(tmp_path):
    path = tmp_path / "r.npz"
    small_result(path)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("r.attributions.npy")
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local header, central directory entry
        start = raw.find(sig, 0)
        while start >= 0:
            name_len = struct.unpack_from("<H", raw, start + (26 if sig == b"PK\x03\x04" else 28))[0]
            name_at = start + (30 if sig == b"PK\x03\x04" else 46)
            if raw[name_at:name_at + name_len] == info.filename.encode():
                struct.pack_into("<I", raw, start + offset, 16)  # "16 bytes", but the stream holds more
            start = raw.find(sig, start + 4)
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="is not an attrkit result file"):
        attrkit.load(path)


@pytest.mark.parametrize("cls,fields", [
    ("attrkit.viz.features:matplotlib.font_manager.FontEntry", {}),
    ("attrkit.common.checks:torch.utils._pytree.SequenceKey", {"idx": {"t": "value", "v": 0}}),
    ("attrkit.ig.result:IGResult.__init__.__globals__", {}),
])
def test_load_rebuilds_only_registered_types(tmp_path, cls, fields):
    tree = {"t": "dataclass", "cls": cls, "fields": fields}
    np.savez(tmp_path / "walk.npz", __tree__=np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match=rf"not an attrkit result file \(it names the class '{cls}', which is "
                                         "not an attrkit result type"):
        attrkit.load(tmp_path / "walk.npz")


def test_result_types_register_themselves():
    from attrkit.agi.result import AGIResult, Trajectory
    from attrkit.ig.result import IGResult, IGTrace
    from attrkit.lab.curves import CausalCurve, CausalCurves
    from attrkit.lab.sanity import SanityResult
    for cls in (IGResult, IGTrace, AGIResult, Trajectory, CausalCurve, CausalCurves, SanityResult):
        assert saving.RESULT_TYPES[f"{cls.__module__}:{cls.__qualname__}"] is cls


def test_non_result_files_get_the_kits_words_not_numpys(tmp_path):
    np.savez(tmp_path / "objects.npz", __tree__=np.array([{"a": 1}], dtype=object))
    np.save(tmp_path / "plain.npy", np.zeros(3))
    (tmp_path / "model.pkl").write_bytes(pickle.dumps({"weights": [1, 2]}))
    (tmp_path / "notes.npz").write_text("not a zip")
    for name in ("objects.npz", "plain.npy", "model.pkl", "notes.npz"):
        with pytest.raises(ValueError, match="is not an attrkit result file") as e:
            attrkit.load(tmp_path / name)
        assert "allow_pickle" not in str(e.value) and "result.save(path)" in str(e.value), name
        assert isinstance(e.value, saving.ResultFileError)
