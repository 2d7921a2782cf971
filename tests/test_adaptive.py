"""The adaptive rule (a valid quadrature that converges, not only in total) and the step advisor."""
import math
import os

os.environ.setdefault("ATTRKIT_PROGRESS", "0")

import pytest
import torch
from torch import nn

from attrkit.ig.adaptive import CANCELLATION, INITIAL_NODES, local_errors, refine
from attrkit.ig.advice import StepAdvice, steps_needed
from attrkit.ig import integrated_gradients
from attrkit.ig.quadrature import trapezoid_weights

from scalar_model import Scalar

torch.set_num_threads(1)


def smooth_mlp():
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.Softplus(), nn.Linear(16, 3)).double().eval()


def relu_cnn():
    torch.manual_seed(1)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 5 * 5, 16), nn.ReLU(), nn.Linear(16, 4)).double().eval()


def rel_l1(a, b):
    return float((a - b).abs().sum() / b.abs().sum())


# ---- a valid quadrature -----------------------------------------------------------------------------------

def test_the_rule_is_a_composite_trapezoid_on_each_rows_grid():
    model, x = smooth_mlp(), torch.randn(3, 5, dtype=torch.float64)
    res = integrated_gradients(model, x, method="adaptive", steps=60, tol=1e-3)
    tr, info, diff = res.trace, res.refinement, res.inputs - res.baseline
    assert tr.alphas.shape == tr.weights.shape == tr.scores.shape == (3, res.steps)
    assert info.converged and info.converged_rows.all()
    for b in range(3):
        a, w = tr.nodes(b)
        m = len(a)
        assert a[0] == 0 and a[-1] == 1 and (a.diff() > 0).all() and m == int(info.evaluations[-1, b])
        torch.testing.assert_close(w, trapezoid_weights(a))
        assert math.isclose(float(w.sum()), 1.0)
        torch.testing.assert_close(res.attributions[b], diff[b] * torch.einsum("m,m...->...", w, tr.gradients[b, :m]))
        # the padding: copies of the α = 1 node with weight 0, so the running sums and gaps stay put
        assert (tr.alphas[b, m:] == 1).all() and (tr.weights[b, m:] == 0).all()
        assert (tr.scores[b, m - 1:] == tr.scores[b, m - 1]).all() and (tr.gaps[b, m - 1:] == tr.gaps[b, -1]).all()
        torch.testing.assert_close(tr.scores[b, m - 1], res.score[b])
        middle = int((a == 0.5).nonzero()[0])
        assert info.added[b, 0] == info.added[b, middle] == info.added[b, m - 1] == 0
        assert (info.evaluations[:, b].diff() >= 0).all()
    assert res.steps == int(info.evaluations[-1].max()) and info.total_evaluations == int(info.evaluations[-1].sum())
    change = res.score - res.baseline_score
    assert (res.delta.abs() <= 1e-3 * change.abs()).all()
    torch.testing.assert_close(info.gaps[-1], res.delta)  # its own bookkeeping is the real completeness gap
    assert (info.local[-1] <= CANCELLATION * 1e-3 * change.abs()).all()


@pytest.mark.parametrize("batch_size", [None, 4])
def test_each_row_refines_as_if_it_ran_alone(batch_size):
    # the batch costs the sum of what its inputs need: an easy input is not refined because a hard one is
    model, x = relu_cnn(), torch.rand(5, 1, 10, 10, dtype=torch.float64)
    res = integrated_gradients(model, x, target=1, method="adaptive", steps=200, tol=1e-3, batch_size=batch_size)
    alone = [integrated_gradients(model, x[b:b + 1], target=1, method="adaptive", steps=200, tol=1e-3)
             for b in range(5)]
    used = [r.steps for r in alone]
    assert len(set(used)) > 1, used  # the inputs need different numbers of nodes: the test can tell
    assert res.refinement.evaluations[-1].tolist() == used and res.refinement.total_evaluations == sum(used)
    for b, r in enumerate(alone):
        torch.testing.assert_close(res.trace.nodes(b)[0], r.trace.alphas[0], rtol=0, atol=0)
        torch.testing.assert_close(res.attributions[b], r.attributions[0], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(res.delta[b], r.delta[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["smooth", "relu"])
def test_attributions_converge_to_a_many_step_reference(kind):
    if kind == "smooth":
        model, x = smooth_mlp(), torch.randn(2, 5, dtype=torch.float64)
        ref = integrated_gradients(model, x, steps=128, method="gausslegendre", record="none").attributions
    else:
        model, x = relu_cnn(), torch.rand(2, 1, 10, 10, dtype=torch.float64)
        ref = integrated_gradients(model, x, steps=20_000, method="riemann_middle", record="none",
                                   batch_size=40_000).attributions
    errors = []
    for tol in (1e-2, 1e-4, 1e-6):
        res = integrated_gradients(model, x, method="adaptive", steps=3000, tol=tol, record="none")
        assert res.refinement.converged
        errors.append(rel_l1(res.attributions, ref))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < (1e-6 if kind == "smooth" else 1e-4), errors


def test_nodes_gather_at_a_kink():
    # f(x) = 1 − ReLU(1 − x), x = 2, x′ = 0: the integrand is 1[α < ½]; IG = 1
    f = Scalar(lambda x: 1 - torch.relu(1 - x[:, 0])).eval()
    res = integrated_gradients(f, torch.tensor([[2.0]], dtype=torch.float64), target=0, method="adaptive",
                               steps=100, tol=1e-3)
    assert res.refinement.converged
    assert res.attributions.item() == pytest.approx(1.0, abs=1e-3)
    a = res.trace.nodes(0)[0]
    assert ((a > 0.4) & (a <= 0.5)).sum() >= len(a) - 4  # all but the first nodes sit just left of the kink


def test_refine_needs_far_fewer_nodes_than_a_uniform_trapezoid_on_kinks():
    # a ReLU net along the path: F piecewise linear, its slope jumps at a few α (here 3, at irregular places);
    # bisection halves the miss at a kink with each node, a uniform grid only with each doubling
    t = torch.tensor([0.137, 0.421, 0.733], dtype=torch.float64)
    c = torch.tensor([1.0, -2.5, 1.7], dtype=torch.float64)
    F = lambda a: (c * torch.relu(a[:, None] - t)).sum(1)
    slope = lambda a: (c * (a[:, None] > t)).sum(1).double()
    change = F(torch.ones(1, dtype=torch.float64)) - F(torch.zeros(1, dtype=torch.float64))
    tol = 1e-4
    alphas, index, info = refine(lambda rows, a: (F(a), slope(a)), change, tol=tol, budget=500)
    alphas = alphas[0]
    assert info.converged and torch.equal(alphas, alphas.sort().values) and sorted(index[0].tolist()) == list(
        range(len(alphas)))
    assert abs(float((trapezoid_weights(alphas) * slope(alphas)).sum() - change)) <= tol * abs(float(change))
    uniform_needed = next(n for n in range(2, 5000) if abs(float(
        (trapezoid_weights(u := torch.linspace(0, 1, n, dtype=torch.float64)) * slope(u)).sum() - change))
        <= tol * abs(float(change)))
    assert len(alphas) * 4 < uniform_needed, (len(alphas), uniform_needed)


@pytest.mark.parametrize("seed", range(5))
def test_refine_on_a_batch_gives_every_row_the_grid_it_gets_alone(seed):
    # rows with kinks at random places need different numbers of nodes per round; the batched bookkeeping
    # (padding, re-sorting, evaluation positions) must not let rows see each other
    g = torch.Generator().manual_seed(seed)
    rows = 6
    t = torch.rand(rows, 4, generator=g, dtype=torch.float64)
    c = torch.randn(rows, 4, generator=g, dtype=torch.float64)
    F = lambda r, a: (c[r] * torch.relu(a[:, None] - t[r])).sum(1)
    slope = lambda r, a: (c[r] * (a[:, None] > t[r])).sum(1).double()
    calls = []

    def evaluate(r, a):
        calls.append(len(r))
        return F(r, a), slope(r, a)

    every = torch.arange(rows)
    change = F(every, torch.ones(rows, dtype=torch.float64)) - F(every, torch.zeros(rows, dtype=torch.float64))
    alphas, index, info = refine(evaluate, change, tol=1e-3, budget=40)
    assert sum(calls) == info.total_evaluations and sorted(index.unique().tolist()) == list(range(sum(calls)))
    for b in range(rows):
        alone, _, one = refine(lambda r, a: (F(torch.full_like(r, b), a), slope(torch.full_like(r, b), a)),
                               change[b:b + 1], tol=1e-3, budget=40)
        m = int(info.evaluations[-1, b])
        assert m == int(one.evaluations[-1, 0]) and bool(info.converged_rows[b]) == one.converged
        assert torch.equal(alphas[b, :m], alone[0]) and (alphas[b, m:] == 1).all()
        torch.testing.assert_close(info.gaps[:len(one.gaps), b], one.gaps[:, 0], rtol=1e-12, atol=1e-15)
    assert len(set(info.evaluations[-1].tolist())) > 1  # the rows did need different numbers of nodes


def test_local_errors_are_exact_for_a_quadratic():
    # F = α³ has slope 3α²; on [a, b] the trapezoid of the slope misses by (b − a)³/2 exactly
    a = torch.tensor([0.0, 0.2, 0.7, 1.0], dtype=torch.float64)
    e = local_errors(a, (a ** 3).view(1, -1), (3 * a ** 2).view(1, -1))
    torch.testing.assert_close(e[0], a.diff() ** 3 / 2)


def test_budget_exhausted_warns_and_reports_not_converged():
    model, x = relu_cnn(), torch.rand(2, 1, 10, 10, dtype=torch.float64)
    with pytest.warns(UserWarning, match="budget of 6 nodes"):
        res = integrated_gradients(model, x, method="adaptive", steps=6, tol=1e-6)
    assert not res.refinement.converged and res.steps == 6


def test_initial_grid_is_enough_when_the_integrand_is_linear():
    f = Scalar(lambda x: x[:, 0] * x[:, 1]).eval()  # along the path: α², slope linear: trapezoid is exact
    res = integrated_gradients(f, torch.tensor([[1.0, 2.0]], dtype=torch.float64), target=0, method="adaptive")
    assert res.steps == INITIAL_NODES
    assert res.attributions[0].tolist() == pytest.approx([1.0, 1.0])


# ---- the step advisor -----------------------------------------------------------------------------------------

def test_steps_needed_on_x1_x2():
    # x1·x2 at (1, 1) from 0: F changes by 1; left/right Riemann miss by exactly 1/n, the others are exact
    f = Scalar(lambda x: x[:, 0] * x[:, 1]).eval()
    advice = steps_needed(f, torch.tensor([[1.0, 1.0]], dtype=torch.float64), target=0, max_steps=256)
    assert advice.needed["riemann_left"] == advice.stable["riemann_left"] == 128  # first ladder step ≥ 100
    assert advice.needed["riemann_right"] == 128
    assert advice.needed["riemann_middle"] == 1 and advice.needed["gausslegendre"] == 1
    assert advice.needed["riemann_trapezoid"] == 2
    assert advice.needed["adaptive"] == INITIAL_NODES
    left = advice.gaps["riemann_left"][0]
    torch.testing.assert_close(left, -1 / advice.steps["riemann_left"].double())
    assert advice.change.tolist() == [1.0]
    text = repr(advice)
    assert "riemann_left" in text and "needs 128" in text and "<table>" in advice._repr_html_()


def test_steps_needed_reports_none_beyond_max_steps_and_saves(tmp_path):
    f = Scalar(lambda x: x[:, 0] * x[:, 1]).eval()
    advice = steps_needed(f, torch.tensor([[1.0, 1.0]], dtype=torch.float64), target=0, max_steps=64,
                          methods=("riemann_left", "gausslegendre"))
    assert advice.needed["riemann_left"] is None and advice.stable["riemann_left"] is None
    advice.save(tmp_path / "a.npz")
    back = StepAdvice.load(tmp_path / "a.npz")
    assert back.needed == advice.needed
    torch.testing.assert_close(back.gaps["gausslegendre"], advice.gaps["gausslegendre"])


def test_steps_needed_stable_differs_from_first_on_a_kink():
    # the kinked toy: the integrand is 2·1[α < ½]; right Riemann with n = 2 or 4 has a node exactly on α = ½,
    # where ReLU's gradient is 0, so the gap is not monotone in n
    f = Scalar(lambda x: 1 - torch.relu(1 - x[:, 0])).eval()
    advice = steps_needed(f, torch.tensor([[2.0]], dtype=torch.float64), target=0, steps=[2, 3, 4, 5],
                          methods=("riemann_right",), tol=0.4)
    assert advice.gaps["riemann_right"][0].tolist() == pytest.approx([-1, -1 / 3, -0.5, -0.2])
    assert advice.needed["riemann_right"] == 3 and advice.stable["riemann_right"] == 5


def test_steps_needed_counts_the_adaptive_rule_per_input_on_a_batch():
    model, x = relu_cnn(), torch.rand(4, 1, 10, 10, dtype=torch.float64)
    advice = steps_needed(model, x, target=1, methods=("gausslegendre", "adaptive"), tol=1e-3, max_steps=256)
    alone = [integrated_gradients(model, x[b:b + 1], target=1, method="adaptive", steps=256, tol=1e-3).steps
             for b in range(4)]
    assert advice.nodes.tolist() == alone
    assert advice.needed["adaptive"] == pytest.approx(sum(alone) / 4) == float(advice.steps["adaptive"][-1])
    rel = advice.gaps["adaptive"][:, -1].abs() / advice.change.abs()
    assert (rel <= 1e-3).all()
    assert f"{min(alone)}–{max(alone)}" in repr(advice) and "per input on average" in repr(advice)


def test_steps_needed_argument_errors():
    f = Scalar(lambda x: x[:, 0]).eval()
    x = torch.ones(1, 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="tol must be a fraction"):
        steps_needed(f, x, tol=5)
    with pytest.raises(ValueError, match="methods must be among"):
        steps_needed(f, x, methods=("simpson",))
