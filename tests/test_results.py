"""Result files: save → load gives back the same dataclasses and tensors; loading never runs code."""
import base64
import dataclasses
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from attrkit.common import html, saving as results


@dataclasses.dataclass
class Inner(results.SaveLoad):
    points: torch.Tensor
    reached: bool


@dataclasses.dataclass
class Outer(results.SaveLoad):
    attributions: torch.Tensor
    classes: torch.Tensor
    method: str
    epsilon: float
    bounds: tuple | None
    trajectories: list
    extra: dict


# save/load only rebuilds registered result types; subclassing SaveLoad registers these test classes.


def make():
    g = torch.Generator().manual_seed(0)
    return Outer(attributions=torch.randn(2, 1, 3, 3, generator=g, dtype=torch.float64),
                 classes=torch.tensor([[1, 4], [0, 2]]), method="paper", epsilon=0.05, bounds=(0.0, 1.0),
                 trajectories=[[Inner(torch.rand(3, 4, generator=g), True), Inner(torch.rand(1, 4), False)]],
                 extra={"note": "x", "n": None})


def test_round_trip(tmp_path):
    r = make()
    r.save(tmp_path / "r.npz")
    back = Outer.load(tmp_path / "r.npz")
    assert torch.equal(back.attributions, r.attributions) and back.attributions.dtype == torch.float64
    assert torch.equal(back.classes, r.classes) and back.classes.dtype == torch.long
    assert (back.method, back.epsilon, back.bounds, back.extra) == ("paper", 0.05, (0.0, 1.0), r.extra)
    t = back.trajectories[0]
    assert isinstance(t[0], Inner) and t[0].reached is True and t[1].reached is False
    assert torch.equal(t[0].points, r.trajectories[0][0].points)


def test_load_checks_type_and_refuses_foreign_classes(tmp_path):
    r = make()
    r.save(tmp_path / "r.npz")
    with pytest.raises(ValueError, match="holds a Outer, not a Inner"):
        Inner.load(tmp_path / "r.npz")
    # A crafted file naming a class outside the registry is refused, not imported.
    tree = {"t": "dataclass", "cls": "os:system", "fields": {}}
    np.savez(tmp_path / "evil.npz", __tree__=np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match="not an attrkit result file.*'os:system'.*not an attrkit result type"):
        results.load(tmp_path / "evil.npz")
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not an attrkit result file"):
        results.load(tmp_path / "plain.npz")


def test_to_numpy_recurses():
    d = make().numpy()
    assert isinstance(d["attributions"], np.ndarray)
    assert isinstance(d["trajectories"][0][1]["points"], np.ndarray)


@pytest.mark.parametrize("attr", [torch.zeros(1, 5, 5), torch.full((3, 4, 4), 7.0), -torch.rand(4, 4),
                                  torch.rand(6) * 1e-30])
def test_heatmap_png_is_a_valid_image_on_degenerate_maps(attr):
    png = html.heatmap_png(attr)
    img = Image.open(io.BytesIO(base64.b64decode(png)))
    arr = np.asarray(img)
    assert arr.ndim == 3 and arr.shape[2] == 3


def test_heatmap_colour_convention():
    a = torch.tensor([[1.0, 0.0, -1.0]])
    arr = np.asarray(Image.open(io.BytesIO(base64.b64decode(html.heatmap_png(a, size=3)))))
    assert tuple(arr[0, 0]) == (255, 0, 0)      # positive: red
    assert tuple(arr[0, 1]) == (255, 255, 255)  # zero: white
    assert tuple(arr[0, 2]) == (0, 0, 255)      # negative: blue


def test_html_summary_escapes():
    out = html.html_summary("<b>t", [("<script>", "1 < 2")])
    assert "<script>" not in out and "&lt;script&gt;" in out
