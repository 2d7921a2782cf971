"""attrkit.sanity: cascading randomisation changes the copies' weights stage by stage, never the caller's model,
and the similarity measures give the known answers."""
import numpy as np
import pytest
import torch
from torch import nn

from attrkit import sanity as S

torch.set_num_threads(1)


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 8),
                         nn.ReLU(), nn.Linear(8, 3)).eval()


def _gradient(model, x, target):
    x = x.clone().requires_grad_(True)
    out = model(x).gather(1, target[:, None]).sum()
    return torch.autograd.grad(out, x)[0]


def test_layers_top_down():
    assert S.layers_top_down(_net()) == ["5", "3", "0"]


def test_each_stage_changes_one_more_layer_and_caller_untouched():
    model = _net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    stages = list(S.randomised_models(model, seed=0))
    assert [s for s, _ in stages] == ["original", "5", "3", "0"]
    for k, (stage, m) in enumerate(stages):
        changed = {n for n, v in m.state_dict().items() if not torch.equal(v, before[n])}
        expected = {f"{layer}.{p}" for layer in ["5", "3", "0"][:k] for p in ("weight", "bias")}
        assert changed == expected, stage
        assert m is not model
    for n, v in model.state_dict().items():
        assert torch.equal(v, before[n])


def test_cascading_randomisation_result_and_model_untouched():
    model = _net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.rand(5, 1, 6, 6)
    r = S.cascading_randomisation(model, x, _gradient, method_name="gradient")
    assert r.stages == ["original", "5", "3", "0"]
    assert r.maps.shape == (4, 5, 1, 6, 6)
    assert torch.allclose(r.spearman_abs[0], torch.ones(5, dtype=torch.float64))
    assert torch.allclose(r.ssim[0], torch.ones(5, dtype=torch.float64))
    assert r.changed[0] == [] and set(r.changed[-1]) == {"0.weight", "0.bias", "3.weight", "3.bias",
                                                        "5.weight", "5.bias"}
    assert r.table()[-1]["spearman_abs"] < 0.9
    for n, v in model.state_dict().items():
        assert torch.equal(v, before[n])
    assert not model.training and "gradient" in repr(r)


def test_seeded_and_repeatable():
    x = torch.rand(2, 1, 6, 6)
    a = S.cascading_randomisation(_net(), x, _gradient, seed=3)
    b = S.cascading_randomisation(_net(), x, _gradient, seed=3)
    assert torch.equal(a.maps, b.maps)


def test_spearman_known_values_and_ties():
    a = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    assert S.spearman(a, a).item() == pytest.approx(1.0)
    assert S.spearman(a, -a).item() == pytest.approx(-1.0)
    assert S.spearman(a, a ** 3).item() == pytest.approx(1.0)  # ranks only
    # ties: ranks (1.5, 1.5, 3, 4) vs (1, 2, 3, 4): Pearson of ranks
    t = torch.tensor([[0.0, 0.0, 1.0, 2.0]])
    rx, ry = np.array([1.5, 1.5, 3, 4]) - 2.5, np.array([1, 2, 3, 4]) - 2.5
    assert S.spearman(t, a).item() == pytest.approx((rx * ry).sum() / np.sqrt((rx ** 2).sum() * (ry ** 2).sum()))
    assert torch.isnan(S.spearman(torch.zeros(1, 4), a)).all()


def test_ssim_identity_and_noise():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(2, 16, 16, generator=g)
    assert torch.allclose(S.ssim(a, a), torch.ones(2, dtype=torch.float64))
    b = torch.rand(2, 16, 16, generator=g)
    assert (S.ssim(a, b) < 0.2).all()
    assert (S.ssim(a, (a + 0.05 * b).clamp(0, 1)) > 0.8).all()


def test_unknown_layer_named():
    with pytest.raises(ValueError, match="not modules"):
        list(S.randomised_models(_net(), ["fc9"]))


def test_support_restricts_the_rank_correlation():
    a = torch.tensor([[1.0, 2.0, 3.0, 0.0, 0.0, 0.0]])
    b = torch.tensor([[3.0, 2.0, 1.0, 0.0, 0.0, 0.0]])
    assert S.spearman(a, b).item() > 0                       # the shared zeros agree
    keep = torch.tensor([[True, True, True, False, False, False]])
    assert S.spearman(a, b, keep).item() == pytest.approx(-1.0)
    x = torch.zeros(3, 1, 6, 6)
    x[:, :, 2:4, 2:4] = 1.0
    r = S.cascading_randomisation(_net(), x, lambda m, xx, t: xx * _gradient(m, xx, t), support="input")
    assert r.spearman_abs_support.shape == r.spearman_abs.shape and "support" in repr(r)
