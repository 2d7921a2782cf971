"""attrkit.metrics: deletion/insertion on models whose evidence is known, the agi-repo protocol against a literal
port of RISE's single_run, and the controls."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from attrkit import metrics as M

torch.set_num_threads(1)


class Linear(nn.Module):
    """logit_0 = Σ w·x, logit_1 = 0: the evidence for class 0 is exactly w ⊙ x."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w.clone(), requires_grad=False)

    def forward(self, x):
        s = (x * self.w).flatten(1).sum(1, keepdim=True)
        return torch.cat([s, torch.zeros_like(s)], 1)


def _linear_case(h=4, w=4):
    weights = torch.arange(1.0, h * w + 1).view(1, h, w)  # pixel weights 1..16, distinct
    return Linear(weights).eval(), torch.ones(1, h, w), weights


def test_perfect_vs_reversed_map_deletion_exact():
    model, x, wts = _linear_case()
    perfect, reversed_ = wts, -wts
    good = M.deletion(model, x, perfect, target=0, output="logit", pixels_per_step=4)
    bad = M.deletion(model, x, reversed_, target=0, output="logit", pixels_per_step=4)
    # perfect: removes 16..13, then 12..9, ...: remaining sums 136, 78, 36, 10, 0
    assert good.scores.tolist() == [136.0, 78.0, 36.0, 10.0, 0.0]
    assert bad.scores.tolist() == [136.0, 126.0, 100.0, 58.0, 0.0]
    assert good.fractions.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert good.auc == pytest.approx(0.25 * (136 / 2 + 78 + 36 + 10 + 0 / 2))
    assert good.auc < bad.auc
    assert good.pixels_changed.tolist() == [4, 4, 4, 4]


def test_perfect_vs_reversed_map_insertion_black():
    model, x, wts = _linear_case()
    good = M.insertion(model, x, wts, target=0, output="logit", pixels_per_step=4, substrate="black")
    bad = M.insertion(model, x, -wts, target=0, output="logit", pixels_per_step=4, substrate="black")
    assert good.scores.tolist() == [0.0, 58.0, 100.0, 126.0, 136.0]
    assert good.auc > bad.auc


def test_last_step_partial_and_trapezoid_over_true_fractions():
    model, x, wts = _linear_case()
    c = M.deletion(model, x, wts, target=0, output="logit", pixels_per_step=5)
    assert c.pixels_changed.tolist() == [5, 5, 5, 1]
    assert c.fractions.tolist() == pytest.approx([0, 5 / 16, 10 / 16, 15 / 16, 1])
    assert c.auc == pytest.approx(float(M.trapezoid_auc(c.scores, c.fractions)))


def test_rise_auc_formula():
    s = torch.tensor([1.0, 0.5, 0.25, 0.0])
    assert float(M.trapezoid_auc(s, torch.linspace(0, 1, 4))) == pytest.approx((s.sum() - 0.5 - 0) / 3)


def test_ties_are_broken_stably_in_raster_order():
    model, x, _ = _linear_case()
    c = M.causal_images(x, torch.zeros(4, 4), "deletion", steps=[1], pixels_per_step=4, substrate="black")
    assert c[0, 0, 0].tolist() == [0, 0, 0, 0] and c[0, 0, 1:].eq(1).all()  # first row goes first


def test_reduce_abs_sum_vs_sum():
    sal = torch.tensor([[[1.0, -3.0]], [[1.0, 0.0]]])  # (C=2, 1, 2)
    assert M.saliency_2d(sal.unsqueeze(0), "sum").tolist() == [[[2.0, -3.0]]]
    assert M.saliency_2d(sal.unsqueeze(0), "abs_sum").tolist() == [[[2.0, 3.0]]]


def _rise_single_run(model, img, sal, mode, step):
    """RISE evaluation.py CausalMetric.single_run, transcribed (zeros substrate, as in the AGI evaluator),
    with HW taken from the image instead of 224*224; returns the n+1 scores."""
    c_, h, w = img.shape[1:]
    HW = h * w
    n_steps = (HW + step - 1) // step
    pred = model(img)
    c = int(pred.argmax())
    if mode == "del":
        start, finish = img.clone(), torch.zeros_like(img)
    else:
        start, finish = torch.zeros_like(img), img.clone()
    scores = np.empty(n_steps + 1)
    salient_order = np.flip(np.argsort(sal.reshape(-1, HW), axis=1), axis=-1)
    for i in range(n_steps + 1):
        scores[i] = torch.softmax(model(start), 1)[0, c].item()
        if i < n_steps:
            coords = salient_order[:, step * i:step * (i + 1)]
            start.cpu().numpy().reshape(1, c_, HW)[0, :, coords] = finish.cpu().numpy().reshape(1, c_, HW)[0, :, coords]
    return scores


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.w = nn.Parameter(torch.randn(3, 3 * 6 * 6, generator=g), requires_grad=False)

    def forward(self, x):
        return x.flatten(1) @ self.w.t()


@pytest.mark.parametrize("kind,mode", [("deletion", "del"), ("insertion", "ins")])
def test_agi_repo_matches_rise_single_run(kind, mode):
    torch.manual_seed(1)
    model = Tiny().eval()
    img = torch.rand(1, 3, 6, 6)
    sal = torch.randn(3, 6, 6)  # per-channel map: the union quirk is active
    ref = _rise_single_run(model, img, sal.numpy(), mode, step=6)
    ours = M.causal_metric(model, img, sal.unsqueeze(0), kind, protocol="agi-repo")
    assert np.allclose(ours.scores[0].numpy(), ref, atol=1e-6)
    assert ours.auc[0].item() == pytest.approx(ref.mean(), abs=1e-6)


def test_quirk_changes_more_pixels_than_stated_on_three_channels():
    model = Tiny().eval()
    img = torch.rand(3, 6, 6)
    sal = M.random_map((3, 6, 6), seed=0)
    quirk = M.deletion(model, img, sal, protocol="agi-repo")
    assert quirk.pixels_per_step == 6
    assert quirk.pixels_changed[0] > 6 and quirk.pixels_changed[0] <= 18
    assert quirk.fractions[-1] == 1 and (quirk.fractions < 1).sum() < 6  # all deleted before the last step
    ours = M.deletion(model, img, sal)
    assert ours.pixels_changed.tolist() == [6] * 6
    # a 2-D map gives exactly the stated number under the repository's code too
    flat = M.deletion(model, img, sal.sum(0), protocol="agi-repo")
    assert flat.pixels_changed.tolist() == [6] * 6


def test_quirk_at_224_matches_research_figure():
    sal = M.random_map((1, 3, 224, 224), seed=0)
    first = (M.change_steps(sal, 224, "agi-repo") == 1).sum()
    assert 640 < int(first) <= 672  # ≈ 670 for a random normal map (research notes §5)


def test_agi_repo_refuses_settings_it_does_not_have():
    model, x, wts = _linear_case()
    with pytest.raises(ValueError, match="zeros"):
        M.insertion(model, x, wts, protocol="agi-repo", substrate="blur")
    with pytest.raises(ValueError, match="reduce"):
        M.deletion(model, x, wts, protocol="agi-repo", reduce="abs_sum")
    with pytest.raises(ValueError, match="protocol"):
        M.deletion(model, x, wts, protocol="rise")
    with pytest.raises(ValueError, match="shape"):
        M.deletion(model, x, torch.ones(3, 3))


def test_substrates():
    x = torch.rand(2, 3, 28, 28)
    assert M.make_substrate(x, "black").eq(0).all()
    mean = M.make_substrate(x, "mean")
    assert torch.allclose(mean[:, :, 5, 7], x.mean((2, 3)))
    blurred = M.make_substrate(x, "blur")
    assert blurred.std() < x.std()
    model, img, wts = _linear_case()
    c = M.insertion(model, img, wts, target=0, output="logit", pixels_per_step=4)
    assert c.substrate == "blur"  # RISE's choice for insertion


def test_batch_equals_single_and_images_untouched():
    torch.manual_seed(0)
    model = Tiny().eval()
    x = torch.rand(3, 3, 6, 6)
    x0 = x.clone()
    sal = torch.randn(3, 3, 6, 6)
    batch = M.causal_metric(model, x, sal, "deletion", batch_size=10)
    for i in range(3):
        one = M.deletion(model, x[i], sal[i])
        assert torch.allclose(batch.scores[i], one.scores, atol=1e-6)
    assert torch.equal(x, x0)
    assert len(batch) == 3 and isinstance(batch[1], M.CausalCurve)


def test_save_load_roundtrip(tmp_path):
    model, x, wts = _linear_case()
    c = M.deletion(model, x, wts)
    c.save(tmp_path / "c.npz")
    d = M.CausalCurve.load(tmp_path / "c.npz")
    assert torch.equal(d.scores, c.scores) and d.auc == c.auc and "lower" in repr(d)
    assert "Deletion" in d._repr_html_()


def test_controls():
    r1, r2 = M.random_map((1, 28, 28), 3), M.random_map((1, 28, 28), 3)
    assert torch.equal(r1, r2) and r1.shape == (1, 28, 28)
    img = torch.zeros(1, 8, 8)
    img[:, :, 4:] = 1.0  # one vertical edge between columns 3 and 4
    e = M.edge_map(img)
    assert e.shape == img.shape
    assert e[0, :, :3].eq(0).all() and e[0, :, 5:].eq(0).all() and e[0, :, 3:5].gt(0).all()
    assert M.edge_map(img.unsqueeze(0)).shape == (1, 1, 8, 8)
