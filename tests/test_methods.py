"""Every comparison method has the one call shape, reproduces the paper's numbers on its toys, validates its
arguments, leaves the model as it was, and the captum ones degrade to a clear message without captum."""
import sys

import pytest
import torch
from torch import nn

from attrkit import methods as M
from attrkit import toys

torch.set_num_threads(1)
X31 = toys.point(3.0, 1.0)
TOY = {"agi": {"bounds": None}}


def run(name, model, x, baseline=None, **kw):
    return M.attribute(name, model, x, toys.TARGET, baseline, **{**TOY.get(name, {}), **kw})


def test_registry_one_call_shape_and_titles():
    assert list(M.METHODS) == ["gradient", "gradient_x_input", "smoothgrad", "ig", "agi", "deeplift", "lrp",
                               "lrp_epsilon"]
    assert set(M.TITLES) == set(M.METHODS) == set(M.USES_BASELINE)
    x = torch.rand(3, 4, dtype=torch.float64)
    net = toys.random_net(4, (6,), "relu", seed=0)
    for name, fn in M.METHODS.items():
        out = fn(net, x, 1, None, **TOY.get(name, {}))
        assert isinstance(out, torch.Tensor) and out.shape == x.shape, name
        assert fn.__doc__ and fn.__name__


def test_gradient_on_the_saturated_toy_is_zero():
    m, x = toys.saturating(), toys.point(2.0)
    assert run("gradient", m, x).item() == 0.0
    assert run("gradient_x_input", m, x).item() == 0.0
    assert run("smoothgrad", m, x).item() == 0.0
    assert run("gradient", m, toys.point(0.5)).item() == 1.0


def test_ig_gives_the_whole_change_on_the_saturated_toy():
    assert run("ig", toys.saturating(), toys.point(2.0)).item() == pytest.approx(1.0, abs=1e-9)


def test_paper_F_G_numbers():
    F, G = toys.relu_pair()
    expect = {"ig": ([1.5, -0.5], [1.5, -0.5]), "deeplift": ([1.5, -0.5], [2.0, -1.0]),
              "lrp": ([1.5, -0.5], [2.0, -1.0]), "lrp_epsilon": ([3.0, -1.0], [3.0, -1.0]),
              "gradient": ([1.0, -1.0], [1.0, -1.0]), "gradient_x_input": ([3.0, -1.0], [3.0, -1.0])}
    for name, (on_f, on_g) in expect.items():
        assert run(name, F, X31)[0].tolist() == pytest.approx(on_f, abs=1e-6), name
        assert run(name, G, X31)[0].tolist() == pytest.approx(on_g, abs=1e-6), name


def test_ig_on_x_y_plus_z_is_the_slides_example():
    assert run("ig", toys.product_plus(), toys.point(1.0, 1.0, 1.0))[0].tolist() == pytest.approx([0.5, 0.5, 1.0])


def test_lrp_epsilon_equals_gradient_times_input_on_relu_nets():
    net = toys.random_net(4, (8, 8), "relu", seed=1)
    x = torch.rand(5, 4, dtype=torch.float64)
    assert torch.allclose(run("lrp_epsilon", net, x), run("gradient_x_input", net, x), atol=1e-6)


def test_smoothgrad_is_seeded_and_exact_on_linear_functions():
    net = toys.random_net(4, (), "relu", seed=0)              # no hidden layer: f(x) = w·x + b
    x = torch.rand(3, 4, dtype=torch.float64)
    w = net[0].weight[1].detach()
    assert torch.allclose(run("smoothgrad", net, x), w.expand(3, 4))
    m = toys.sin_dummy()
    a, b = run("smoothgrad", m, x[:, :2], seed=1), run("smoothgrad", m, x[:, :2], seed=1)
    assert torch.equal(a, b) and not torch.equal(a, run("smoothgrad", m, x[:, :2], seed=2))
    with pytest.raises(ValueError, match="samples"):
        run("smoothgrad", m, x[:, :2], samples=0)


def test_gradient_x_input_uses_the_baseline():
    m = toys.product_plus()
    x, b = toys.point(2.0, 3.0, 1.0), toys.point(1.0, 1.0, 1.0)
    assert run("gradient_x_input", m, x, b)[0].tolist() == [3.0, 4.0, 0.0]   # (x − x′) ⊙ (y, x, 1)


def test_agi_ignores_the_baseline_and_returns_its_sum_over_classes():
    net = toys.random_net(4, (6,), "tanh", seed=2)
    x = torch.rand(2, 4, dtype=torch.float64)
    a = run("agi", net, x)
    assert torch.equal(a, run("agi", net, x, baseline=torch.ones_like(x)))
    r = M.agi_result(net, x, 1, bounds=None)
    assert torch.equal(r.attributions, a) and r.classes.tolist() == [[0], [0]]


def test_bad_arguments_give_clear_errors():
    net = toys.random_net(4, (6,), seed=0)
    x = torch.rand(2, 4)
    with pytest.raises(ValueError, match="unknown method 'saliency'.*gradient"):
        M.get("saliency")
    with pytest.raises(TypeError, match="name .* or a function"):
        M.get(3)
    with pytest.raises(ValueError, match="baseline must have the shape"):
        M.gradient_x_input(net, x, 1, torch.zeros(3))
    with pytest.raises(ValueError, match="class id 5 out of range"):
        M.gradient(net, x, 5)
    with pytest.raises(ValueError, match="training mode"):
        M.gradient(net.train(), x, 1)
    with pytest.raises(ValueError, match="single column"):
        M.gradient(nn.Linear(4, 1).eval(), x)
    with pytest.raises(ValueError, match="rule must be one of"):
        M.lrp(net.eval(), x, 1, rule="alpha-beta")
    with pytest.raises(ValueError, match=r"inputs' shape \(2, 4\)"):
        M.attribute(lambda model, inputs, target, baseline: inputs[:, :2], net, x, 1)


def test_methods_leave_model_and_inputs_as_they_were():
    F, _ = toys.relu_pair()
    before = {k: v.clone() for k, v in F.state_dict().items()}
    x = X31.clone()
    for name in M.METHODS:
        run(name, F, x)
        assert all(p.grad is None and p.requires_grad for p in F.parameters()), name
        assert all(torch.equal(v, before[k]) for k, v in F.state_dict().items()), name
        assert not any(hasattr(m, "rule") or hasattr(m, "activations") for m in F.modules()), name
        assert not any(m._forward_hooks or m._backward_hooks or m._forward_pre_hooks for m in F.modules()), name
        assert not x.requires_grad and x.grad is None


def test_lrp_needs_layers_it_has_rules_for():
    with pytest.raises(M.UnsupportedModel, match="layer modules"):
        M.lrp(toys.sin_dummy(), toys.point(1.0, 2.0), 1)
    soft = toys.random_net(activation="softplus")
    with pytest.raises(M.UnsupportedModel, match="Softplus"):
        M.lrp(soft, torch.rand(2, 4), 1)
    assert not any(hasattr(m, "rule") or hasattr(m, "activations") for m in soft.modules())
    with pytest.raises(M.UnsupportedModel, match="nn.Sequential"):
        M.lrp(nn.Linear(4, 2).eval(), torch.rand(2, 4), 1)


def test_without_captum_deeplift_and_lrp_say_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "captum", None)
    monkeypatch.setitem(sys.modules, "captum.attr", None)
    F, _ = toys.relu_pair()
    for name in M.NEEDS_CAPTUM:
        with pytest.raises(M.MissingDependency, match="pip install captum"):
            run(name, F, X31)
        with pytest.raises(ImportError):
            run(name, F, X31)
    avail = M.available()
    assert avail["gradient"] == "ok" and "pip install captum" in avail["deeplift"]
    assert run("gradient", F, X31)[0].tolist() == [1.0, -1.0]         # the rest of the kit still works
