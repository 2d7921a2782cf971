"""The IG paper's axioms and worked examples (Sundararajan et al. 2017 §2–4; numbers from research/algorithms.md
§1.5 and §5), on float64 toy functions."""
import os

os.environ.setdefault("ATTRKIT_PROGRESS", "0")

import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from attrkit.ig import integrated_gradients

from scalar_model import Scalar

torch.set_num_threads(1)
relu = torch.relu


def ig(f, x, baseline=None, **kw):
    x = torch.tensor([x], dtype=torch.float64)
    if baseline is not None:
        baseline = torch.tensor(baseline, dtype=torch.float64)
    kw.setdefault("record", "none")
    return integrated_gradients(Scalar(f).eval(), x, target=0, baseline=baseline, **kw)


def attr(res):
    return res.attributions[0].tolist()


# ---- completeness (Prop. 1) ------------------------------------------------------------------------------

def smooth_net(seed, width, depth, features):
    torch.manual_seed(seed)
    layers, d = [], features
    for i in range(depth):
        layers += [nn.Linear(d, width), (nn.Tanh, nn.Softplus, nn.SiLU)[i % 3]()]
        d = width
    return nn.Sequential(*layers, nn.Linear(d, 3)).double().eval()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), width=st.integers(2, 16), depth=st.integers(1, 3), features=st.integers(1, 8),
       scale=st.floats(0.1, 2.0), output=st.sampled_from(["logit", "probability"]))
def test_completeness_on_random_smooth_nets(seed, width, depth, features, scale, output):
    model = smooth_net(seed, width, depth, features)
    g = torch.Generator().manual_seed(seed)
    x = scale * torch.randn(3, features, generator=g, dtype=torch.float64)
    base = scale * torch.randn(3, features, generator=g, dtype=torch.float64)
    res = integrated_gradients(model, x, baseline=base, steps=64, method="gausslegendre", output=output,
                               record="none")
    change = res.score - res.baseline_score
    assert (res.delta.abs() <= 1e-6 * change.abs() + 1e-12).all(), (res.delta, change)


def test_completeness_on_relu_nets_at_enough_steps():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4)).double().eval()
    x = torch.randn(8, 10, dtype=torch.float64)
    for method in ("riemann_trapezoid", "riemann_middle", "gausslegendre"):
        res = integrated_gradients(model, x, steps=300, method=method, record="none")
        change = res.score - res.baseline_score
        assert (res.delta.abs() <= 0.05 * change.abs()).all()
    few = integrated_gradients(model, x, steps=2, method="riemann_left", record="none")
    assert (few.delta.abs() > 0.05 * (few.score - few.baseline_score).abs()).any()  # the check can fail


# ---- sensitivity (a): f(x) = 1 − ReLU(1 − x), x = 2, x′ = 0 -------------------------------------------------

def saturating(x):
    return 1 - relu(1 - x[:, 0])


def test_sensitivity_a_where_the_gradient_is_zero():
    x = torch.tensor([[2.0]], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(saturating(x).sum(), x)
    assert grad.item() == 0  # gradients (and gradient × input) credit nothing
    for method in ("riemann_middle", "gausslegendre"):
        assert attr(ig(saturating, [2.0], steps=50, method=method)) == pytest.approx([1.0], abs=1e-12)
    # the integrand is 1[α < ½]: a right Riemann sum counts the nodes left of the kink (§5 numbers)
    assert attr(ig(saturating, [2.0], steps=4, method="riemann_right")) == pytest.approx([0.5])
    assert attr(ig(saturating, [2.0], steps=50, method="riemann_right")) == pytest.approx([0.96])
    assert attr(ig(saturating, [2.0], steps=300, method="riemann_right")) == pytest.approx([0.9933], abs=1e-4)


# ---- sensitivity (b) / dummy -----------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["riemann_left", "riemann_trapezoid", "gausslegendre", "adaptive"])
def test_dummy_feature_gets_exactly_zero(method):
    f = lambda x: torch.sin(3 * x[:, 0]) + x[:, 0] ** 2
    res = ig(f, [0.7, -2.5], baseline=[-0.3, 4.0], steps=20, method=method)
    assert res.attributions[0, 1].item() == 0.0
    assert res.attributions[0, 0].item() != 0.0


# ---- implementation invariance: the paper's F and G --------------------------------------------------------------

def paper_f(x):
    return relu(relu(x[:, 0]) - 1 - relu(x[:, 1]))


def paper_g(x):
    return relu(relu(x[:, 0] - 1) - relu(x[:, 1]))


def test_f_and_g_are_the_same_function():
    pts = 4 * torch.randn(10_000, 2, dtype=torch.float64)
    assert torch.equal(paper_f(pts), paper_g(pts))


@pytest.mark.parametrize("method", ["riemann_middle", "gausslegendre"])
def test_implementation_invariance(method):
    # along the path both are ReLU(2α − 1): the integrand is a step at α = ½, integrated exactly by these rules
    for f in (paper_f, paper_g):
        assert attr(ig(f, [3.0, 1.0], steps=8, method=method)) == pytest.approx([1.5, -0.5], abs=1e-12)


# ---- linearity --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["riemann_left", "riemann_trapezoid", "gausslegendre"])
def test_linearity(method):
    f1 = lambda x: torch.tanh(x[:, 0] * x[:, 1]) + x[:, 2] ** 3
    f2 = lambda x: relu(x[:, 0] - x[:, 2]) * x[:, 1]
    a, b = 2.5, -0.75
    x, base = [0.3, -1.2, 0.8], [0.1, 0.4, -0.5]
    both = ig(lambda x: a * f1(x) + b * f2(x), x, base, steps=9, method=method).attributions
    separately = a * ig(f1, x, base, steps=9, method=method).attributions + \
        b * ig(f2, x, base, steps=9, method=method).attributions
    torch.testing.assert_close(both, separately, rtol=1e-13, atol=1e-14)


# ---- symmetry preservation -------------------------------------------------------------------------------------

def xy_plus_z(x):
    return x[:, 0] * x[:, 1] + x[:, 2]


def test_symmetry_x_y_plus_z():
    assert attr(ig(xy_plus_z, [1.0, 1.0, 1.0], steps=4, method="gausslegendre")) == pytest.approx([0.5, 0.5, 1.0])
    res = ig(xy_plus_z, [1.0, 1.0, 2.0], steps=7, method="riemann_left")
    a = attr(res)
    assert a[0] == a[1] and a[2] == pytest.approx(2.0)  # equal, whatever the quadrature error


def test_x1_x2_rule_by_rule_numbers_from_the_notes():
    f = lambda x: x[:, 0] * x[:, 1]
    expected = {"riemann_left": 0.375, "riemann_right": 0.625, "riemann_middle": 0.5, "riemann_trapezoid": 0.5,
                "gausslegendre": 0.5}
    for method, value in expected.items():
        assert attr(ig(f, [1.0, 1.0], steps=4, method=method)) == pytest.approx([value, value])
    assert attr(ig(f, [1.0, 1.0], steps=50, method="riemann_left")) == pytest.approx([0.49, 0.49])


def test_linear_model_is_exact_for_every_rule():
    w = torch.tensor([1.5, -2.0, 0.25], dtype=torch.float64)
    f = lambda x: x @ w + 0.7
    for method in ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre"):
        res = ig(f, [1.0, 2.0, -4.0], steps=3, method=method)
        torch.testing.assert_close(res.attributions[0], w * torch.tensor([1.0, 2.0, -4.0], dtype=torch.float64))
        assert abs(res.delta.item()) < 1e-14
