"""The caller's state survives odd models (issue 17): a model that writes to its input in place changes only the
kit's copies, in every entry point; captum-backed methods leave the parameters in their storage, with their
version counters, so a backward the user has pending still works."""
import pytest
import torch
from torch import nn

from attrkit import methods, metrics, sanity
from attrkit.lab import explain as E

torch.set_num_threads(1)


class InPlace(nn.Module):
    """Subtracts 0.5 from its input in place before a linear layer: F(x) = W (x − 0.5) + b."""

    def __init__(self, d=12, classes=4):
        super().__init__()
        torch.manual_seed(0)
        self.flat, self.linear = nn.Flatten(), nn.Linear(d, classes)

    def forward(self, x):
        x.sub_(0.5)
        return self.linear(self.flat(x))


@pytest.fixture
def model():
    return InPlace().eval()


@pytest.fixture
def x():
    return torch.rand(3, 3, 2, 2, generator=torch.Generator().manual_seed(1))


def untouched(x, call):
    """Run ``call(x)``; the caller's ``x`` must hold the same values afterwards (whatever ``call`` returned)."""
    before = x.clone()
    out = call(x)
    assert torch.equal(x, before), "the caller's tensor was changed"
    return out


@pytest.mark.parametrize("name", ["gradient", "gradient_x_input", "smoothgrad"])
def test_gradient_methods_leave_inputs_and_are_right(model, x, name):
    out = untouched(x, lambda x: methods.METHODS[name](model, x, target=1))
    w = model.linear.weight[1].detach().view(3, 2, 2)  # ∂F_1/∂x: the same at every x, despite the in-place sub_
    expected = {"gradient": w, "gradient_x_input": x * w, "smoothgrad": w}[name]
    assert torch.allclose(out, expected.expand_as(x), atol=1e-6)


@pytest.mark.parametrize("name,options", [("ig", {}), ("agi", {"bounds": None}),
                                          ("agi", {"bounds": None, "batch_size": 2})])
def test_ig_and_agi_leave_inputs(model, x, name, options):
    def call(x):
        try:
            return methods.METHODS[name](model, x, 1, None, **options)
        except (ValueError, RuntimeError) as e:  # the core's own message about in-place models is its concern
            return e
    untouched(x, call)


def test_explain_leaves_the_image(model, x):
    chosen = {"gradient": lambda m, x, t: E.gradient(m, x, t), "smoothgrad": methods.smoothgrad}
    ex = untouched(x[:1], lambda img: E.explain(model, img, methods=chosen, metric_steps=2))
    assert set(ex.maps) == {"gradient", "smoothgrad"}


def test_causal_metrics_leave_the_images(model, x):
    curves = untouched(x, lambda x: metrics.causal_metric(model, x, torch.rand(3, 2, 2), "deletion"))
    reference = metrics.causal_metric(model, x.clone(), torch.rand(3, 2, 2), "deletion")
    assert curves.scores.shape[0] == 3 and torch.equal(curves.scores[:, 0], reference.scores[:, 0])


def test_sanity_leaves_the_inputs(model, x):
    res = untouched(x, lambda x: sanity.cascading_randomisation(model, x, methods.gradient, progress=False))
    assert res.maps.shape[:2] == (2, 3)


def test_shortcut_report_leaves_the_images(model, x):
    def add_marker(images, labels):
        return images.index_fill(3, torch.tensor([0]), 1.0)
    untouched(x, lambda x: E.shortcut_report(model, x, torch.tensor([0, 1, 2]), add_marker,
                                             lambda c: torch.zeros(2, 2, dtype=torch.bool).index_fill(1, torch.tensor([0]), True),
                                             {"gradient": methods.gradient}))


def test_captum_methods_leave_parameter_storage_and_versions():
    pytest.importorskip("captum")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 5)).eval()
    x = torch.rand(2, 6)
    for name in ("lrp", "lrp_epsilon", "deeplift"):
        before = [(p.data_ptr(), p._version, p.detach().clone()) for p in net.parameters()]
        pending = net(torch.rand(3, 6)).square().sum()   # the user's graph, waiting for backward()
        out = methods.METHODS[name](net, x.clone(), target=1)
        assert out.shape == x.shape and torch.isfinite(out).all()
        for p, (ptr, version, value) in zip(net.parameters(), before):
            assert p.data_ptr() == ptr and p._version == version and torch.equal(p, value), name
        pending.backward()                                 # fails if a saved weight was modified in place
        assert all(p.grad is not None for p in net.parameters())
        net.zero_grad(set_to_none=True)


class TupleOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(12, 4)

    def forward(self, x):
        return self.linear(x.flatten(1)), "extra"


def test_a_model_returning_a_tuple_gets_a_clear_message(x):
    model = TupleOut().eval()
    calls = [lambda: methods.gradient(model, x), lambda: methods.smoothgrad(model, x),
             lambda: metrics.causal_metric(model, x, torch.rand(3, 2, 2)),
             lambda: E.explain(model, x[:1], methods={"gradient": methods.gradient}),
             lambda: sanity.cascading_randomisation(model, x, methods.gradient, progress=False)]
    for call in calls:
        with pytest.raises(TypeError, match=r"the model returned a tuple, not a tensor of class scores \(N, classes\); "
                                            "wrap it in an nn.Module"):
            call()
