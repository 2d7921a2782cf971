"""LRP has no baseline: the z-rule conserves relevance to F(x) itself, so the completeness check judges LRP against
F(x), labelled so, instead of failing it for F(x) − F(x′), a quantity it never claims (as AGI is judged against
its own endpoints). The ε-rule, whose biases absorb relevance, still fails; linearity still fails, with its reason."""
import pytest
import torch

from attrkit import axioms as A
from attrkit import methods as M
from attrkit import toys

torch.set_num_threads(1)
pytest.importorskip("captum")


def test_z_rule_lrp_is_judged_against_what_it_conserves():
    r = A.check_completeness("lrp")
    assert r.verdict == "holds" and "(to F(x))" in r.key
    assert "no baseline" in r.explanation and "judged against F(x)" in r.explanation
    assert r.numbers["reference"].startswith("F(x) (LRP has no baseline")
    tanh = r.numbers["random tanh net"]
    assert tanh["sum of attributions"] == pytest.approx(tanh[r.numbers["reference"]], rel=1e-6)


def test_the_fair_reference_matters_here_because_the_baseline_scores_nonzero():
    # on the check's tanh net F(0) ≠ 0, so judged against F(x) − F(x′) the z-rule would have failed
    net = toys.random_net(4, (8,), "tanh", seed=3)
    assert abs(toys.f_of(net, torch.zeros(1, 4, dtype=torch.float64)).item()) > 0.1
    x = torch.tensor([[0.2, 0.9, 0.4, 0.7]], dtype=torch.float64)
    total = M.lrp(net, x, toys.TARGET).sum().item()
    assert total == pytest.approx(toys.f_of(net, x).item(), rel=1e-6)
    r = A.check_completeness("lrp", net, x, torch.zeros_like(x))  # the baseline is ignored, as LRP ignores it
    assert r.verdict == "holds"


def test_epsilon_rule_lrp_still_fails_and_says_why():
    r = A.check_completeness("lrp_epsilon")
    assert r.verdict == "fails" and "(to F(x))" in r.key and "biases absorb relevance" in r.explanation
    assert r.numbers["paper's F at (3, 1)"]["sum of attributions"] == pytest.approx([2.0])


def test_other_methods_are_still_judged_against_the_change():
    assert A.check_completeness("gradient_x_input").numbers["reference"] == "F(x) - F(x')"
    assert A.check_completeness("deeplift").verdict == "holds"


def test_lrp_linearity_failure_is_explained():
    r = A.check_linearity("lrp")
    assert r.verdict == "fails" and "denominators leave out the biases" in r.explanation
