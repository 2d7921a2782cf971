"""The paper's toy models compute what the paper says, follow the kit's (N, 2) = [-f, f] convention, and the
random/paired/combined networks are exactly the functions they claim to be."""
import pytest
import torch
from torch import nn

from attrkit import toys
from attrkit.common import checks as _checks

torch.set_num_threads(1)


def grad_f(model, x):
    x = x.clone().requires_grad_(True)
    g, = torch.autograd.grad(model(x)[:, toys.TARGET].sum(), x)
    return g


def test_convention_two_mirrored_columns_eval_mode_float64():
    F, G = toys.relu_pair()
    for m, d in [(toys.saturating(), 1), (F, 2), (G, 2), (toys.product_plus(), 3), (toys.sin_dummy(), 2),
                 (toys.random_net(4), 4), (toys.symmetric_net(3), 3)]:
        out = m(torch.rand(5, d))                             # float32 inputs are accepted
        assert out.shape == (5, 2) and out.dtype == torch.float64
        assert torch.equal(out[:, 0], -out[:, 1])
        assert not m.training
        assert _checks.check_logits(out, 5) == 2
        _checks.check_model(m)


def test_saturating_is_one_minus_relu_one_minus_x():
    m = toys.saturating()
    xs = torch.tensor([[-1.0], [0.0], [0.5], [1.0], [2.0], [5.0]], dtype=torch.float64)
    assert toys.f_of(m, xs).tolist() == [-1.0, 0.0, 0.5, 1.0, 1.0, 1.0]
    assert grad_f(m, toys.point(2.0)).item() == 0.0          # saturated: the gradient misses the change
    assert grad_f(m, toys.point(0.5)).item() == 1.0


def test_paper_F_and_G_are_equal_functions_but_different_networks():
    F, G = toys.relu_pair()
    x = toys.point(3.0, 1.0)
    assert toys.f_of(F, x).item() == toys.f_of(G, x).item() == 1.0
    assert toys.max_difference(F, G, 2, samples=20000) == 0.0
    assert not torch.equal(F[0].bias, G[0].bias) and not torch.equal(F[2].bias, G[2].bias)
    assert grad_f(F, x).tolist() == grad_f(G, x).tolist() == [[1.0, -1.0]]
    # along the straight path from 0: F(αx) = ReLU(2α − 1)
    for a in (0.25, 0.5, 0.75, 1.0):
        assert toys.f_of(F, a * x).item() == pytest.approx(max(2 * a - 1, 0.0))


def test_product_plus_and_sin_dummy():
    assert toys.f_of(toys.product_plus(), toys.point(1.0, 1.0, 2.0)).item() == 3.0
    m = toys.sin_dummy()
    x = torch.rand(50, 2, dtype=torch.float64)
    y = x.clone()
    y[:, 1] = torch.randn(50, dtype=torch.float64) * 10
    assert torch.equal(toys.f_of(m, x), toys.f_of(m, y))
    assert torch.allclose(toys.f_of(m, x), torch.sin(3 * x[:, 0]) + x[:, 0] ** 2)
    assert grad_f(m, x)[:, 1].abs().max() == 0
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        m(torch.rand(3, 3))


@pytest.mark.parametrize("activation", ["relu", "tanh", "softplus"])
def test_random_net_seeded_with_dummies(activation):
    a = toys.random_net(5, (6, 4), activation, seed=3, dummy=(1, 4))
    b = toys.random_net(5, (6, 4), activation, seed=3, dummy=(1, 4))
    x = torch.randn(20, 5, dtype=torch.float64)
    assert torch.equal(a(x), b(x))
    y = x.clone()
    y[:, [1, 4]] = torch.randn(20, 2, dtype=torch.float64)
    assert torch.equal(a(x), a(y))
    assert not torch.equal(a(x), toys.random_net(5, (6, 4), activation, seed=4)(x))


def test_random_net_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        toys.random_net(activation="gelu")
    with pytest.raises(ValueError, match="out of range"):
        toys.random_net(3, dummy=(3,))
    with pytest.raises(ValueError, match="two different inputs"):
        toys.symmetric_net(3, swap=(1, 1))


def test_symmetric_net_is_symmetric_in_the_swapped_pair_only():
    m = toys.symmetric_net(4, swap=(1, 3), seed=2)
    x = torch.randn(100, 4, dtype=torch.float64)
    assert torch.allclose(m(x), m(x[:, [0, 3, 2, 1]]), atol=1e-14)
    assert not torch.allclose(m(x), m(x[:, [1, 0, 2, 3]]))


def test_reparameterised_is_the_same_function_with_other_weights():
    net = toys.random_net(4, (8,), seed=1)
    copy = toys.reparameterised(net, seed=2)
    assert toys.max_difference(net, copy, 4) < 1e-12
    assert not torch.allclose(net[0].weight, copy[0].weight)
    with pytest.raises(ValueError, match="one-hidden-layer ReLU"):
        toys.reparameterised(toys.random_net(4, (8, 8)))


@pytest.mark.parametrize("hidden", [(), (5,), (5, 3)])
def test_combine_is_one_network_computing_the_mix(hidden):
    f1, f2 = toys.random_net(3, hidden, "tanh", seed=1), toys.random_net(3, hidden, "tanh", seed=2)
    mix = toys.combine(f1, f2, 2.0, -0.5)
    assert all(isinstance(m, (nn.Linear, nn.Tanh)) for m in mix)
    x = torch.randn(30, 3, dtype=torch.float64)
    assert torch.allclose(mix(x), 2 * f1(x) - 0.5 * f2(x), atol=1e-12)
    with pytest.raises(ValueError, match="same layer types"):
        toys.combine(f1, toys.random_net(3, hidden + (2,), "tanh"), 1.0, 1.0)
