"""Every scorecard verdict is asserted (with the paper's numbers), every check is shown to fail on a method
built to violate it (so none passes vacuously), and bad inputs to the checks give clear errors."""
import sys

import pytest
import torch
from torch import nn

from attrkit import axioms as A
from attrkit import methods as M
from attrkit import toys

torch.set_num_threads(1)

H, HA, F_, NA = "holds", "holds approximately", "fails", "not available"
NAP = "not applicable"
AXES = ["sensitivity_a", "dummy", "implementation_invariance", "completeness", "linearity", "symmetry"]
EXPECTED = {                # sens (a)  dummy  impl. inv.  completeness  linearity  symmetry
    "gradient":           [F_,       H,     H,          F_,           H,         H],
    "gradient_x_input":   [F_,       H,     H,          F_,           H,         H],
    "smoothgrad":         [F_,       H,     H,          F_,           H,         HA],   # noise breaks ties a little
    "ig":                 [H,        H,     H,          H,            H,         H],
    "agi":                [NAP,      H,     H,          F_,           F_,        H],
    "deeplift":           [H,        H,     F_,         H,            H,         H],
    "lrp":                [F_,       H,     F_,         H,            F_,        H],    # completeness: to F(x)
    "lrp_epsilon":        [F_,       H,     H,          F_,           H,         H],
}


@pytest.fixture(scope="module")
def card():
    return A.scorecard()


def test_every_verdict_of_the_scorecard(card):
    assert card.methods == list(EXPECTED) and card.axioms == AXES
    got = {m: [card.verdict(m, a) for a in AXES] for m in card.methods}
    assert got == EXPECTED


def test_the_papers_claims_with_their_numbers(card):
    ii = lambda m: card.result(m, "implementation_invariance").numbers["paper's F, G at (3, 1)"]
    assert ii("ig")["F"] == pytest.approx([1.5, -0.5]) and ii("ig")["G"] == pytest.approx([1.5, -0.5])
    assert ii("deeplift")["F"] == pytest.approx([1.5, -0.5]) and ii("deeplift")["G"] == pytest.approx([2, -1])
    assert ii("lrp")["F"] == pytest.approx([1.5, -0.5]) and ii("lrp")["G"] == pytest.approx([2, -1])
    assert ii("lrp_epsilon")["F"] == pytest.approx([3, -1]) == ii("lrp_epsilon")["G"]   # captum's default rule
    assert ii("deeplift")["max |F - G|"] == 0.0
    sens = lambda m: card.result(m, "sensitivity_a").numbers
    assert sens("gradient")["attribution"] == [0.0] and sens("gradient")["F(x) - F(x')"] == [1.0]
    assert sens("ig")["attribution"] == pytest.approx([1.0], abs=1e-9)
    assert sens("deeplift")["attribution"] == pytest.approx([1.0])
    assert card.result("ig", "completeness").numbers["paper's F at (3, 1)"]["relative gap"] < 1e-9
    assert card.result("ig", "symmetry").numbers["x·y + z at (1, 1, 2)"]["attributions"] == \
        pytest.approx([0.5, 0.5, 2.0])


def test_agi_is_judged_against_its_own_endpoints(card):
    r = card.result("agi", "completeness")
    assert "own endpoints" in r.key and "own endpoints" in r.explanation
    assert r.numbers["reference"].startswith("f_i(x_0) - f_i(x_T)")
    assert 0.05 < r.numbers["paper's F at (3, 1)"]["relative gap"] < 0.15      # ε = 0.05 is coarse here
    finer = A.check_completeness("agi", options={"epsilon": 0.01, "max_steps": 100})
    assert finer.verdict == HA                                               # … and the gap shrinks with ε
    assert "agi own score change" in card.result("agi", "sensitivity_a").numbers


def test_sensitivity_a_is_not_applicable_to_agi_because_it_has_no_baseline():
    r = A.check_sensitivity_a("agi")
    assert r.verdict == "not applicable" and "no baseline" in r.explanation and "no baseline" in r.key
    # on the user's model too, and whatever baseline is passed: AGI never reads it
    r2 = A.check_sensitivity_a("agi", toys.saturating(), toys.point(0.5), toys.point(0.0))
    assert r2.verdict == "not applicable"
    # the same check still grades methods that take a baseline
    assert A.check_sensitivity_a("gradient").verdict == F_ and A.check_sensitivity_a("ig").verdict == H


def test_results_explain_themselves_and_render(card):
    for r in card.results:
        assert r.verdict in A.VERDICTS and r.explanation and r.key
        assert "\n" not in r.explanation
    page = card._repr_html_()
    for colour in (A.COLOURS[H], A.COLOURS[F_], A.COLOURS[HA]):
        assert colour in page
    assert "(2, -1)" in page and "title=" in page and "<ol" in page
    text = repr(card)
    assert text.splitlines()[0].startswith("method") and "DeepLift (Rescale)" in text
    one = card.result("deeplift", "implementation_invariance")
    assert "fails" in repr(one) and "fails" in one._repr_html_()


def test_scorecard_save_and_load(tmp_path, card):
    small = A.scorecard(methods=["gradient"], axioms=["dummy", "symmetry"])
    small.save(tmp_path / "card.npz")
    back = A.Scorecard.load(tmp_path / "card.npz")
    assert back.verdict("gradient", "symmetry") == small.verdict("gradient", "symmetry")
    assert back.results[0].numbers == small.results[0].numbers


# ---- each check fails on a method built to violate it --------------------------------------------------------

def ig_without_delta(model, inputs, target=None, baseline=None):
    """IG with the (x − x′) factor forgotten: the mean path gradient (64 midpoints)."""
    x, t, b = M.prepare(model, inputs, target, baseline)
    return sum(M.target_gradient(model, b + (k + 0.5) / 64 * (x - b), t) for k in range(64)) / 64


def midpoint_ig(model, inputs, target=None, baseline=None):
    """The same path sum done right."""
    x, _, b = M.prepare(model, inputs, target, baseline)
    return (x - b) * ig_without_delta(model, inputs, target, baseline)


def noisy_gradient(model, inputs, target=None, baseline=None):
    """Gradient plus a random term proportional to each feature: credits features F ignores."""
    g = torch.Generator().manual_seed(0)
    return M.gradient(model, inputs, target) + 0.1 * torch.randn(inputs.shape, generator=g,
                                                                 dtype=inputs.dtype) * inputs


def first_layer_bias_gxi(model, inputs, target=None, baseline=None):
    """Gradient × input scaled by the first layer's bias: depends on how the network is built."""
    bias = next(m for m in model.modules() if isinstance(m, nn.Linear)).bias.detach().abs().sum()
    return M.gradient_x_input(model, inputs, target, baseline) * (1 + bias)


def score_weighted_gradient(model, inputs, target=None, baseline=None):
    """Gradient × F(x): quadratic in f, so not linear."""
    x, t, _ = M.prepare(model, inputs, target, baseline)
    with torch.no_grad():
        f = model(x).gather(1, t[:, None])
    return M.gradient(model, x, t) * f.view(-1, *[1] * (x.dim() - 1)).to(x.dtype)


def first_feature_bias(model, inputs, target=None, baseline=None):
    """IG with 10 % extra credit for the first feature."""
    a = midpoint_ig(model, inputs, target, baseline).clone()
    a[:, 0] *= 1.1
    return a


@pytest.mark.parametrize("check, broken, good", [
    (A.check_sensitivity_a, "gradient", midpoint_ig),
    (A.check_dummy, noisy_gradient, "gradient"),
    (A.check_implementation_invariance, first_layer_bias_gxi, "gradient_x_input"),
    (A.check_completeness, ig_without_delta, midpoint_ig),
    (A.check_linearity, score_weighted_gradient, "gradient"),
    (A.check_symmetry, first_feature_bias, midpoint_ig),
])
def test_each_check_catches_a_method_built_to_break_it(check, broken, good):
    bad = check(broken)
    assert bad.verdict == F_, bad
    assert check(good).ok
    if callable(broken):
        assert bad.method == broken.__name__


def test_checks_on_your_own_models():
    net = toys.random_net(3, (5,), "tanh", seed=9, dummy=(1,))
    x = torch.rand(3, 3, dtype=torch.float64)
    assert A.check_dummy("gradient", net, x, dummy=[1]).verdict == H
    assert A.check_completeness("deeplift", net, x).verdict == H
    assert A.check_completeness("gradient", net, x).verdict == F_
    assert A.check_implementation_invariance("ig", pair=toys.relu_pair(), inputs=toys.point(2.0, 0.5)).verdict == H
    assert A.check_linearity("ig", models=(net, toys.random_net(3, (5,), "tanh", seed=8)), inputs=x).verdict == H
    sym = toys.symmetric_net(4, swap=(0, 2), seed=1)
    xs = torch.tensor([[0.3, 0.9, 0.3, 0.1]], dtype=torch.float64)
    assert A.check_symmetry("gradient", sym, xs, pair=(0, 2)).verdict == H
    assert A.check_sensitivity_a("ig", toys.saturating(), toys.point(0.5)).verdict == H
    # a general nn.Module mix (not a toys.Net) works too
    lin = nn.Sequential(nn.Linear(3, 2)).double().eval()
    assert A.check_linearity("gradient", models=(lin, net), inputs=x).verdict == H


def test_checks_keep_a_float32_models_dtype():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).eval()
    with torch.no_grad():
        model[0].weight[:, 3] = 0.0                                    # input 3 is a dummy
    x = torch.rand(2, 4)
    assert A.check_completeness("ig", model, x, target=2).ok
    assert A.check_dummy("gradient", model, x, dummy=[3], target=0).verdict == H
    assert A.check_implementation_invariance("gradient", pair=(model, model), inputs=x, target=1).verdict == H


def test_not_applicable_and_not_available(monkeypatch):
    r = A.check_dummy("lrp", toys.sin_dummy(), toys.point(1.0, 2.0), dummy=[1])
    assert r.verdict == "not applicable" and "no rule" in r.explanation
    monkeypatch.setitem(sys.modules, "captum", None)
    monkeypatch.setitem(sys.modules, "captum.attr", None)
    card = A.scorecard(methods=["gradient", "deeplift", "lrp"], axioms=["dummy"])
    assert [card.verdict(m, "dummy") for m in card.methods] == [H, NA, NA]
    assert "pip install captum" in card.result("lrp", "dummy").explanation
    assert "not available" in repr(card)


# ---- bad inputs ---------------------------------------------------------------------------------------------

def test_bad_inputs_give_clear_errors():
    net = toys.random_net(4, (6,), seed=0)
    x = torch.rand(2, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="unknown method 'saliency'"):
        A.check_completeness("saliency")
    with pytest.raises(TypeError, match="method must be a name"):
        A.check_dummy(42)
    with pytest.raises(ValueError, match="exactly one feature"):
        A.check_sensitivity_a("ig", toys.relu_pair()[0], toys.point(3.0, 1.0))
    with pytest.raises(ValueError, match=r"F\(x\) ≠ F\(x′\)"):
        A.check_sensitivity_a("ig", toys.saturating(), toys.point(2.0), toys.point(3.0))
    with pytest.raises(ValueError, match="baseline must have the shape"):
        A.check_completeness("ig", net, x, baseline=torch.zeros(3))
    with pytest.raises(ValueError, match="cannot take inputs of shape"):
        A.check_completeness("ig", net, torch.rand(2, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="give inputs"):
        A.check_completeness("ig", net)
    with pytest.raises(ValueError, match="pass dummy="):
        A.check_dummy("ig", net, x)
    with pytest.raises(ValueError, match="not dummies"):
        A.check_dummy("ig", net, x, dummy=[0])
    with pytest.raises(ValueError, match="feature indices"):
        A.check_dummy("ig", net, x, dummy=[7])
    with pytest.raises(ValueError, match="not functionally equal"):
        A.check_implementation_invariance("ig", pair=(net, toys.random_net(4, (6,), seed=1)), inputs=x)
    with pytest.raises(TypeError, match="pair must be two"):
        A.check_implementation_invariance("ig", pair=net, inputs=x)
    with pytest.raises(ValueError, match="not symmetric"):
        A.check_symmetry("ig", net, torch.tensor([[0.5, 0.5, 0.1, 0.2]], dtype=torch.float64))
    with pytest.raises(ValueError, match="x_0 = x_1"):
        A.check_symmetry("ig", toys.product_plus(), toys.point(1.0, 2.0, 0.0))
    with pytest.raises(ValueError, match="two different features"):
        A.check_symmetry("ig", toys.product_plus(), toys.point(1.0, 1.0, 0.0), pair=(1, 1))
    with pytest.raises(ValueError, match="weights must be two numbers"):
        A.check_linearity("ig", weights=(1.0,))
    with pytest.raises(TypeError, match="models must be two"):
        A.check_linearity("ig", models=net, inputs=x)
    with pytest.raises(ValueError, match="unknown axiom"):
        A.scorecard(methods=["gradient"], axioms=["fairness"])
    with pytest.raises(TypeError, match="options must be a dict"):
        A.check_dummy("gradient", options=[1])
    with pytest.raises(ValueError, match="not a column"):
        A.check_completeness("gradient", net, x, target=2)
    with pytest.raises(ValueError, match=r"inputs' shape"):
        A.check_dummy(lambda model, inputs, target, baseline: inputs[:, :1])
    card = A.scorecard(methods=["gradient"], axioms=["dummy"])
    with pytest.raises(KeyError, match="no method 'ig'"):
        card.verdict("ig", "dummy")
