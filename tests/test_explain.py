"""attrkit.explain: one-view explanations, shortcut quantification, and the validated image upload."""
import io
import math
import struct
import zlib

import pytest
import torch
from torch import nn

from attrkit import explain as X
from attrkit import viz
from attrkit.widgets import upload as U
from attrkit import zoo

torch.set_num_threads(1)


def _tiny():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 3)).eval()


def test_marker_share_known_values():
    a = torch.zeros(2, 1, 4, 4)
    a[0, 0, 0, 0], a[0, 0, 3, 3], a[0, 0, 2, 2] = 3.0, 1.0, -5.0   # 3 of 4 positive units inside
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[0, 0, 0] = True
    s = X.marker_share(a, mask)
    assert s[0].item() == pytest.approx(0.75)
    assert math.isnan(s[1].item())                                  # no positive attribution at all
    rgb = torch.zeros(1, 3, 4, 4)
    rgb[0, :, 0, 0] = torch.tensor([1.0, 1.0, -1.0])                 # channels summed first: +1 inside
    rgb[0, 0, 1, 1] = 1.0
    assert X.marker_share(rgb, mask).item() == pytest.approx(0.5)


def test_explain_one_view_and_model_untouched():
    model = _tiny()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.rand(1, 8, 8)
    ex = X.explain(model, x, class_names=["a", "b", "c"], ig_steps=8, agi_classes=2, max_steps=3, metric_steps=4)
    assert set(ex.maps) == set(X.METHODS)
    assert all(m.shape == x.shape for m in ex.maps.values())
    assert ex.target == ex.top_classes[0][0] and len(ex.top_classes) == 3
    assert set(ex.deletion) == set(ex.insertion) == set(X.METHODS)
    assert "deletion" in repr(ex) and "beats both controls" in repr(ex)
    assert "Explanation" in ex._repr_html_() and "base64" in ex._repr_html_()
    fig = viz.plot_explanation(ex)
    assert len(fig.axes) >= 7
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    assert not model.training


def test_explain_checks_arguments():
    with pytest.raises(ValueError, match="class_names"):
        X.explain(_tiny(), torch.rand(1, 8, 8), class_names=["a"])
    with pytest.raises(ValueError, match="one image"):
        X.explain(_tiny(), torch.rand(2, 1, 8, 8))


def test_gradient_probability_and_logit():
    model = _tiny()
    x, t = torch.rand(2, 1, 8, 8), torch.tensor([0, 2])
    g_logit = X.gradient(model, x, t, output="logit")
    xx = x.clone().requires_grad_(True)
    ref, = torch.autograd.grad(model(xx).gather(1, t[:, None]).sum(), xx)
    assert torch.allclose(g_logit, ref)
    g_abs = X.gradient(model, x, t, absolute=True)
    assert (g_abs >= 0).all() and not torch.allclose(g_abs, g_logit.abs())


def test_shortcut_model_is_caught_by_gradient():
    e = zoo.load("mnist_shortcut")
    x, y = e.x_test_clean[:12], e.y_test[:12]
    methods = {"gradient": lambda m, xx, t: X.gradient(m, xx, t, output="logit")}
    r = X.shortcut_report(e.model, x, y, e.add_marker, e.marker_mask, methods)
    row = r.table()[0]
    assert row["with_marker"] > 5 * row["chance"] and row["with_marker"] > row["without_marker"]
    assert r.accuracy_marked >= r.accuracy_wrong_marker
    assert "marker" in repr(r)


# ---- upload ----------------------------------------------------------------------------------------------------

def _png(width, height, idat=b""):
    """A PNG whose header declares width × height (its pixel data need not be there: PIL reads the header first)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat or zlib.compress(b"\0")) + chunk(b"IEND", b"")


def _real_png():
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, format="PNG")
    return buf.getvalue()


def _value(name, data, kind="image/png"):
    return ({"name": name, "type": kind, "size": len(data), "content": memoryview(data)},)


def test_upload_accepts_an_image():
    img, msg = U.image_from_upload(_value("red.png", _real_png()), size=32)
    assert img.shape == (3, 32, 32) and msg == "using your upload 'red.png'"
    assert img[0].mean() > 0.7 and img[2].mean() < 0.1


def test_upload_rejects_non_images_with_fallback_message():
    img, msg = U.image_from_upload(_value("notes.txt", b"hello, not an image", "text/plain"), size=32)
    assert img.shape == (3, 32, 32)
    assert msg.startswith("upload refused: unsupported image file") and "using the shipped photo 'chelsea'" in msg
    with pytest.raises(ValueError, match="unsupported image file"):
        U.image_from_upload(_value("x.svg", b"<svg></svg>", "image/svg+xml"), fallback=None)


def test_upload_rejects_oversize_and_bombs():
    with pytest.raises(ValueError, match="too large.*bytes"):
        U.image_from_upload(_value("big.png", _real_png()), max_bytes=100, fallback=None)
    bomb = _png(100_000, 100_000)                    # a few dozen bytes declaring 10^10 pixels
    assert len(bomb) < 100
    with pytest.raises(ValueError, match="too large"):
        U.image_from_upload(_value("bomb.png", bomb), fallback=None)
    _, msg = U.image_from_upload(_value("bomb.png", bomb))
    assert "too large" in msg and "shipped photo" in msg


def test_upload_nothing_and_widget():
    img, msg = U.image_from_upload(None, size=32)
    assert msg == "no image uploaded; using the shipped photo 'chelsea'" and img.shape == (3, 32, 32)
    w = U.upload_widget()
    assert w.accept == "image/*" and w.multiple is False
    assert U.image_from_upload(w, size=16)[1].startswith("no image uploaded")
    with pytest.raises(ValueError, match="one image"):
        U.image_from_upload(_value("a.png", _real_png()) * 2, fallback=None)


def test_probability_wrapper_never_changes_the_callers_training_flag():
    model = _tiny().train()
    with pytest.raises(ValueError, match="training mode"):
        X.gradient(model, torch.rand(1, 1, 8, 8), torch.tensor([0]))
    assert model.training and all(m.training for m in model.modules())
