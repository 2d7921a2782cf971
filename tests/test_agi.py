"""Tests for attrkit.agi / attrkit.agi_classes: against a float64 closed-form oracle, batching, class choice,
stop semantics, clamping, the binary case, the shipped MNIST model, bad input and model safety."""
import importlib
import os

import numpy as np
import pytest
import torch
from torch import nn

from attrkit.agi import AGIResult, Trajectory, adversarial_step, agi
from attrkit.agi.classes import false_classes, stride_ids
from attrkit.zoo.models import MnistCNN

from agi_oracle import individual_agi

agi_module = importlib.import_module("attrkit.agi.walk")   # the walk itself; attrkit.agi is the function

os.environ["ATTRKIT_PROGRESS"] = "0"
torch.set_num_threads(1)


def linear_model(C, D, seed, scale=3.0):
    """f = softmax(W x + b) as an nn.Linear in float64; returns (model, W, b) with W, b as numpy."""
    g = torch.Generator().manual_seed(seed)
    lin = nn.Linear(D, C).double()
    with torch.no_grad():
        lin.weight.copy_(torch.randn(C, D, generator=g, dtype=torch.float64) * scale)
        lin.bias.copy_(torch.randn(C, generator=g, dtype=torch.float64))
    return lin.eval(), lin.weight.detach().numpy().copy(), lin.bias.detach().numpy().copy()


def toy_inputs(N, D, seed):
    g = torch.Generator().manual_seed(seed)
    return 0.2 + 0.6 * torch.rand(N, D, generator=g, dtype=torch.float64)


def cnn64(seed=0):
    torch.manual_seed(seed)
    return MnistCNN().double().eval()


def walks(res):
    return [tr for row in res.trajectories for tr in row]


# ---- against the independent oracle -------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["paper", "reference"])
@pytest.mark.parametrize("output", ["probability", "logit", "double_softmax"])
def test_matches_oracle(mode, output):
    model, W, b = linear_model(6, 8, seed=1)
    x = toy_inputs(3, 8, seed=2)
    eps = 0.05 if output != "logit" else 0.02
    res = agi(model, x, classes="all", epsilon=eps, max_steps=20, mode=mode, output=output)
    assert res.classes.shape == (3, 5)
    for n in range(3):
        for k, j in enumerate(res.classes[n].tolist()):
            i = int(res.target[n])
            assert j != i
            ref = individual_agi(W, b, x[n].numpy(), i, j, eps, 20, mode, output)
            tr = res.trajectories[n][k]
            assert (tr.true_class, tr.false_class) == (i, j)
            assert tr.steps_taken == ref["steps_taken"] == int(res.steps_taken[n, k])
            assert tr.reached == ref["reached"] == bool(res.reached[n, k])
            np.testing.assert_allclose(res.per_class[n, k].numpy(), ref["agi"], rtol=1e-9, atol=1e-13)
            np.testing.assert_allclose(tr.points.numpy(), ref["points"], rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(tr.contributions.numpy(), ref["contributions"], rtol=1e-9, atol=1e-13)
            np.testing.assert_allclose(tr.scores.numpy(), ref["f_i"], rtol=1e-10)
            np.testing.assert_allclose(tr.false_scores.numpy(), ref["f_j"], rtol=1e-10)
            np.testing.assert_array_equal(tr.predicted.numpy(), ref["predicted"])
            assert tr.score_drop == pytest.approx(ref["f_i"][0] - ref["f_i"][-1], rel=1e-9, abs=1e-14)
        np.testing.assert_allclose(res.attributions[n].numpy(), res.per_class[n].sum(0).numpy(), rtol=1e-12)
    if mode == "paper" and output == "probability":  # the toy must exercise both ends of the stop test
        assert res.reached.any() and (res.steps_taken > 1).any()


def test_reference_stays_in_eps_ball_paper_does_not():
    model, _, _ = linear_model(6, 8, seed=1)
    x = toy_inputs(3, 8, seed=2)
    ref = agi(model, x, classes="all", epsilon=0.05, mode="reference")
    paper = agi(model, x, classes="all", epsilon=0.05, mode="paper")
    for tr in walks(ref):
        dist = (tr.points - x[tr.input_index]).abs().amax(1)
        assert (dist <= 0.05 + 1e-12).all()
    far = max(float((tr.points[-1] - x[tr.input_index]).abs().max()) for tr in walks(paper))
    assert far > 0.1  # the path leaves the ball: that is the difference the modes teach


def test_reference_accounts_for_nothing_in_particular():
    """Reference mode sums −∇f_i ⊙ (x_{t+1} − x_0): after T steps at the ball's edge this is ≈ T times one
    step's contribution, far from f_i(x_0) − f_i(x_T); paper mode is close to it."""
    model, _, _ = linear_model(6, 8, seed=1)
    x = toy_inputs(3, 8, seed=2)
    ref = agi(model, x, classes="all", epsilon=0.01, max_steps=20, mode="reference", output="logit")
    paper = agi(model, x, classes="all", epsilon=0.01, max_steps=20, mode="paper", output="logit")
    torch.testing.assert_close(paper.accounted, paper.score_drop, rtol=1e-9, atol=1e-12)
    long = ref.steps_taken > 2
    assert long.any()
    assert ((ref.accounted - ref.score_drop).abs()[long] > 0.5 * ref.score_drop.abs()[long]).all()


def test_paper_accounted_converges_as_epsilon_shrinks():
    model, _, _ = linear_model(10, 50, seed=3, scale=0.5)
    x = toy_inputs(2, 50, seed=4)
    gaps, drops = [], []
    for eps, steps in [(0.01, 20), (0.002, 100)]:
        res = agi(model, x, classes=4, seed=5, epsilon=eps, max_steps=steps, mode="paper")
        gaps.append((res.accounted - res.score_drop).abs().mean())
        drops.append(res.score_drop.abs().mean())
    assert drops[1] > 0.01                       # the walks go somewhere
    assert gaps[1] < 0.35 * gaps[0]              # left Riemann sum: error O(ε)
    assert gaps[1] < 0.05 * drops[1]


def test_logit_linear_accounted_is_exact_in_paper_mode():
    """f_i linear ⇒ the left Riemann sum of the line integral is exact: Σ AGI_ij = f_i(x_0) − f_i(x_T)."""
    model, _, _ = linear_model(5, 7, seed=6)
    res = agi(model, toy_inputs(4, 7, seed=7), classes="all", epsilon=0.05, output="logit", mode="paper")
    assert (res.score_drop.abs() > 1e-3).any()
    torch.testing.assert_close(res.accounted, res.score_drop, rtol=1e-10, atol=1e-12)


def test_adversarial_step_is_one_line_of_algorithm_1():
    x0 = torch.tensor([[0.5, 0.5, 0.98]], dtype=torch.float64)
    x = torch.tensor([[0.52, 0.5, 1.0]], dtype=torch.float64)
    gj = torch.tensor([[1.0, -2.0, 3.0]], dtype=torch.float64)
    gi = torch.tensor([[2.0, 1.0, -1.0]], dtype=torch.float64)
    bounds = (torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
    xn, c = adversarial_step(x, x0, gj, gi, 0.05, bounds, "paper")
    torch.testing.assert_close(xn, torch.tensor([[0.57, 0.45, 1.0]], dtype=torch.float64))
    torch.testing.assert_close(c, torch.tensor([[-0.1, 0.05, 0.0]], dtype=torch.float64))
    xn, c = adversarial_step(x, x0, gj, gi, 0.05, bounds, "reference")
    torch.testing.assert_close(xn, torch.tensor([[0.55, 0.45, 1.0]], dtype=torch.float64))
    torch.testing.assert_close(c, torch.tensor([[-0.1, 0.05, 0.02]], dtype=torch.float64))


# ---- batched equals sequential -----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["paper", "reference"])
def test_batched_equals_sequential(mode):
    model = cnn64(0)
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    kw = dict(classes=4, seed=3, epsilon=0.05, max_steps=8, mode=mode)
    full = agi(model, x, **kw)
    chunked = agi(model, x, batch_size=3, **kw)
    torch.testing.assert_close(chunked.per_class, full.per_class, rtol=1e-10, atol=1e-14)
    assert torch.equal(chunked.steps_taken, full.steps_taken)
    for n in range(2):
        for k, j in enumerate(full.classes[n].tolist()):
            one = agi(model, x[n:n + 1], target=int(full.target[n]), classes=[j], epsilon=0.05, max_steps=8,
                      mode=mode)
            a, b = one.trajectories[0][0], full.trajectories[n][k]
            assert (a.steps_taken, a.reached) == (b.steps_taken, b.reached)
            torch.testing.assert_close(one.per_class[0, 0], full.per_class[n, k], rtol=1e-10, atol=1e-14)
            torch.testing.assert_close(a.points, b.points, rtol=1e-12, atol=1e-14)
            torch.testing.assert_close(a.scores, b.scores, rtol=1e-10, atol=1e-14)
    if mode == "paper":
        assert full.reached.any() and (full.steps_taken > 1).any()


class _DataDependentBackward(torch.autograd.Function):
    """Identity whose backward branches on the data: vmap cannot batch it (is_grads_batched raises)."""

    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, g):
        return g if bool((g != 0).any()) else g.clone()


class PickyMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(6, 8), nn.Linear(8, 4)

    def forward(self, x):
        return self.b(torch.relu(_DataDependentBackward.apply(self.a(x))))


def test_shared_start_gives_each_rows_own_gradients_at_x0():
    """t = 0 from one forward of x_0 and a batched backward (_shared_start) equals ∇f_j(x_0), ∇f_i(x_0) computed
    one class at a time with plain autograd."""
    model = cnn64(4)
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    leaf, logits = agi_module._first_forward(lambda v, rows: model(v), x, None)  # the walk's net(points, rows)
    i = logits.argmax(1)
    S = torch.stack([false_classes(i[n:n + 1], 10, classes=3, seed=n)[0] for n in range(2)])
    start = agi_module._shared_start(logits, "probability", leaf, i, S)
    assert start is not None
    assert start["g"].shape == (S.shape[1] + 1,) + tuple(x.shape)
    for n in range(2):
        for k, j in enumerate(S[n].tolist()):
            xn = x[n:n + 1].clone().requires_grad_(True)
            p = torch.softmax(model(xn), 1)[0]
            gj, = torch.autograd.grad(p[j], xn, retain_graph=True)
            gi, = torch.autograd.grad(p[i[n]], xn)
            torch.testing.assert_close(start["g"][k, n], gj[0], rtol=1e-10, atol=1e-15)
            torch.testing.assert_close(start["g"][-1, n], gi[0], rtol=1e-10, atol=1e-15)


def test_falls_back_to_the_plain_loop_when_the_backward_cannot_be_batched():
    torch.manual_seed(5)
    model = PickyMLP().double().eval()
    x = toy_inputs(2, 6, 5)
    leaf, logits = agi_module._first_forward(lambda v, rows: model(v), x, None)  # the walk's net(points, rows)
    assert agi_module._shared_start(logits, "probability", leaf, logits.argmax(1), torch.tensor([[1], [2]])) is None
    kw = dict(classes=3, seed=0, epsilon=0.05, max_steps=6, bounds=None)
    shared, plain = agi(model, x, **kw), agi(model, x, batch_size=2, **kw)
    torch.testing.assert_close(shared.per_class, plain.per_class, rtol=1e-10, atol=1e-14)
    assert torch.equal(shared.steps_taken, plain.steps_taken)


def test_runs_inside_no_grad_the_same():
    """A caller's torch.no_grad() leaves the first forward without a graph: t = 0 then runs in the loop."""
    model = cnn64(6)
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    kw = dict(classes=3, seed=2, epsilon=0.05, max_steps=5)
    free = agi(model, x, **kw)
    with torch.no_grad():
        inside = agi(model, x, **kw)
    torch.testing.assert_close(inside.per_class, free.per_class, rtol=1e-10, atol=1e-14)
    assert torch.equal(inside.steps_taken, free.steps_taken)


# ---- which false classes -----------------------------------------------------------------------------------

def test_random_classes_seeded_per_input():
    t = torch.tensor([3, 3, 7])
    a = false_classes(t, 100, classes=5, seed=11)
    assert torch.equal(a, false_classes(t, 100, classes=5, seed=11))
    assert not torch.equal(a, false_classes(t, 100, classes=5, seed=12))
    assert not torch.equal(a[0], a[1])                         # each input draws its own
    for n in range(3):                                         # input n alone with seed + n: the same draw
        assert torch.equal(a[n], false_classes(t[n:n + 1], 100, classes=5, seed=11 + n)[0])
        row = a[n].tolist()
        assert len(set(row)) == 5 and t[n].item() not in row and row == sorted(row)
        assert all(0 <= j < 100 for j in row)
    everything = false_classes(torch.tensor([2]), 10, classes=9, seed=0)[0].tolist()
    assert everything == [0, 1, 3, 4, 5, 6, 7, 8, 9]


def test_random_classes_uniform():
    t = torch.zeros(2000, dtype=torch.long)
    counts = torch.bincount(false_classes(t, 6, classes=2, seed=0).flatten(), minlength=6)
    assert counts[0] == 0
    assert ((counts[1:] - 800).abs() < 120).all()              # 4000 draws over 5 classes: 800 each


@pytest.mark.parametrize("k", [1, 3, 7, 15, 20, 33, 100, 999])
@pytest.mark.parametrize("pred", [0, 50, 66, 998, 999])
def test_stride_matches_reference_script_on_1000_classes(k, pred):
    reference = [l for l in range(0, 999, int(1000 / k)) if l != pred]   # AGI_main.py test()
    if not reference:                    # k = 1, pred = 0: the reference silently returns a zero map
        with pytest.raises(ValueError, match="no false class left"):
            false_classes(torch.tensor([pred]), 1000, classes=k, selection="stride")
        return
    got = false_classes(torch.tensor([pred]), 1000, classes=k, selection="stride")[0].tolist()
    assert got == reference


def test_stride_examples_and_padding():
    assert stride_ids(1000, 20) == list(range(0, 951, 50))
    assert len(stride_ids(1000, 15)) == 16 and stride_ids(1000, 15)[-1] == 990
    S = false_classes(torch.tensor([3, 50]), 1000, classes=20, selection="stride")
    assert S.shape == (2, 20) and S[0].tolist() == list(range(0, 951, 50))
    assert S[1, -1] == -1 and 50 not in S[1].tolist() and len(S[1][S[1] >= 0]) == 19
    assert stride_ids(10, 3) == [0, 3, 6]                     # range(0, C − 1, C // k)


def test_stride_through_agi_on_a_1000_class_model():
    model, _, _ = linear_model(1000, 4, seed=0, scale=1.0)
    x = toy_inputs(2, 4, seed=1)
    res = agi(model, x, classes=20, selection="stride", max_steps=1, record="none")
    for n in range(2):
        pred = int(model(x[n:n + 1]).argmax())
        assert res.target[n] == pred
        assert res.classes[n][res.classes[n] >= 0].tolist() == [l for l in range(0, 999, 50) if l != pred]


def test_explicit_list_skips_target_and_pads():
    model, _, _ = linear_model(6, 8, seed=1)
    x = toy_inputs(2, 8, seed=2)
    res = agi(model, x, target=[1, 4], classes=[4, 1, 2], max_steps=3)
    assert res.classes.tolist() == [[4, 2], [1, 2]]
    res = agi(model, x, target=[1, 0], classes=[1, 3, 5], max_steps=3)
    assert res.classes.tolist() == [[3, 5, -1], [1, 3, 5]]
    assert res.steps_taken[0, 2] == -1 and torch.isnan(res.accounted[0, 2]) and not res.reached[0, 2]
    assert (res.per_class[0, 2] == 0).all() and len(res.trajectories[0]) == 2
    torch.testing.assert_close(res.attributions, res.per_class.sum(1))


def test_seed_none_draws_a_recorded_seed_without_touching_torch_rng():
    model, _, _ = linear_model(30, 4, seed=0, scale=1.0)
    x = toy_inputs(2, 4, seed=1)
    state = torch.get_rng_state()
    res = agi(model, x, classes=5, seed=None, max_steps=1, record="none")
    assert torch.equal(torch.get_rng_state(), state)
    assert isinstance(res.seed, int)
    again = agi(model, x, classes=5, seed=res.seed, max_steps=1, record="none")
    assert torch.equal(again.classes, res.classes)
    assert not x.requires_grad and x.grad is None           # the caller's tensor is never made a leaf


# ---- stopping, clamping, the binary case ----------------------------------------------------------------------

def stop_model():
    """Logits z = (x1, x2, 0.9 − x1 − x2): walks with exactly computable lengths."""
    lin = nn.Linear(2, 3).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        lin.bias.copy_(torch.tensor([0.0, 0.0, 0.9]))
    return lin.eval()


def test_early_stop_reached_and_steps_taken():
    model, x = stop_model(), torch.tensor([[0.63, 0.4]], dtype=torch.float64)
    res = agi(model, x, classes="all", epsilon=0.05, max_steps=20, output="logit", mode="paper")
    to1, to2 = res.trajectories[0]
    # j = 1: x2 rises 0.05 a step; 0.4 + 0.05 t > 0.63 first at t = 5. j = 2: z_2 − z_0 = −0.76 + 0.15 t → t = 6.
    assert (to1.steps_taken, to1.reached, to2.steps_taken, to2.reached) == (5, True, 6, True)
    for tr in (to1, to2):
        assert tr.predicted[-1] == tr.false_class and (tr.predicted[:-1] != tr.false_class).all()
        assert tr.points.shape == (tr.steps_taken + 1, 2) and tr.contributions.shape == (tr.steps_taken, 2)
        assert tr.scores.shape == tr.false_scores.shape == tr.predicted.shape == (tr.steps_taken + 1,)
        torch.testing.assert_close(tr.running[-1], tr.contributions.sum(0))
    assert to2.accounted == pytest.approx(0.3) and to2.score_drop == pytest.approx(0.3)
    short = agi(model, x, classes=[2], epsilon=0.05, max_steps=3, output="logit", mode="paper")
    tr = short.trajectories[0][0]
    assert (tr.steps_taken, tr.reached) == (3, False) and (tr.predicted != 2).all()
    ref = agi(model, x, classes="all", epsilon=0.05, max_steps=20, output="logit", mode="reference")
    assert ref.steps_taken.tolist() == [[20, 20]] and not ref.reached.any()


def test_already_at_false_class_takes_no_step():
    model, x = stop_model(), torch.tensor([[0.63, 0.4]], dtype=torch.float64)
    res = agi(model, x, target=1, classes=[0], output="logit")     # the prediction is 0 = j already
    tr = res.trajectories[0][0]
    assert (tr.steps_taken, tr.reached) == (0, True)
    assert tr.points.shape == (1, 2) and tr.contributions.shape == (0, 2)
    assert (res.attributions == 0).all() and res.score_drop[0, 0] == 0


@pytest.mark.parametrize("mode", ["paper", "reference"])
def test_clamping_keeps_points_in_bounds(mode):
    model = cnn64(1)
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    x[:, :, :10] = 0.0
    x[:, :, -10:] = 1.0
    res = agi(model, x, classes=3, epsilon=0.2, max_steps=6, mode=mode)
    pts = torch.cat([tr.points for tr in walks(res)])
    assert pts.min() >= 0.0 and pts.max() <= 1.0
    free = agi(model, x, classes=3, epsilon=0.2, max_steps=6, mode=mode, bounds=None)
    pts = torch.cat([tr.points for tr in walks(free)])
    assert pts.min() < 0.0 or pts.max() > 1.0                  # without the clamp the walk leaves [0, 1]


def test_per_channel_bounds():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 5)).double().eval()
    mean = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64).view(3, 1, 1)
    lo, hi = (0 - mean) / std, (1 - mean) / std
    x = (torch.rand(2, 3, 6, 6, dtype=torch.float64) - mean) / std
    res = agi(model, x, classes=2, epsilon=0.5, max_steps=5, bounds=(lo, hi))
    for tr in walks(res):
        assert (tr.points >= lo - 1e-12).all() and (tr.points <= hi + 1e-12).all()
    with pytest.raises(ValueError, match="outside bounds"):
        agi(model, x, classes=2)                                 # normalised pixels are not in [0, 1]


def test_binary_case_one_path():
    model, W, b = linear_model(2, 5, seed=8)
    x = toy_inputs(4, 5, seed=9)
    for classes in ("all", 1, [0, 1]):
        res = agi(model, x, classes=classes, epsilon=0.05, max_steps=10)
        assert res.classes.shape == (4, 1)
        assert torch.equal(res.classes[:, 0], 1 - res.target)
        for n in range(4):
            ref = individual_agi(W, b, x[n].numpy(), int(res.target[n]), int(res.classes[n, 0]), 0.05, 10, "paper")
            np.testing.assert_allclose(res.attributions[n].numpy(), ref["agi"], rtol=1e-9, atol=1e-13)
    with pytest.raises(ValueError, match="classes=2 is larger than the number of false classes"):
        agi(model, x, classes=2)


# ---- record levels, save/load, display ------------------------------------------------------------------------

def test_record_levels_same_attributions():
    model = cnn64(2)
    x = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    kw = dict(classes=3, seed=1, max_steps=5)
    full, scores, none = (agi(model, x, record=r, **kw) for r in ("full", "scores", "none"))
    for r in (scores, none):
        torch.testing.assert_close(r.per_class, full.per_class, rtol=0, atol=0)
        assert torch.equal(r.steps_taken, full.steps_taken)
    assert none.trajectories is None
    for a, b in zip(walks(full), walks(scores)):
        assert b.points is None and b.contributions is None and b.running is None
        assert torch.equal(a.scores, b.scores) and torch.equal(a.predicted, b.predicted)
        assert a.points.shape == (a.steps_taken + 1, 1, 28, 28)
        slot = full.classes[0].tolist().index(a.false_class)
        torch.testing.assert_close(a.contributions.sum(0), full.per_class[0, slot])


def test_save_load_and_display(tmp_path):
    model = cnn64(3)
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    res = agi(model, x, classes=2, max_steps=4, mode="reference")
    res.save(tmp_path / "agi.npz")
    back = AGIResult.load(tmp_path / "agi.npz")
    assert torch.equal(back.attributions, res.attributions) and torch.equal(back.classes, res.classes)
    assert (back.mode, back.epsilon, back.seed, back.bounds) == ("reference", 0.05, 0, (0.0, 1.0))
    a, b = back.trajectories[1][1], res.trajectories[1][1]
    assert isinstance(a, Trajectory) and torch.equal(a.points, b.points) and a.reached == b.reached
    assert back.trajectory(1, b.false_class).false_class == b.false_class
    assert "mode='reference'" in repr(res) and len(repr(res)) < 300
    html = res._repr_html_()
    assert "<img" in html and "paper mode only" in html
    assert "<img" in b._repr_html_() and "→" in repr(b)
    assert res.numpy()["attributions"].shape == (2, 1, 28, 28)


# ---- the shipped MNIST model ----------------------------------------------------------------------------------

def _mnist():
    try:
        from attrkit import zoo
        return zoo.load("mnist")
    except (ImportError, FileNotFoundError) as e:
        pytest.skip(f"the zoo's MNIST model is not available yet ({e})")


@pytest.mark.parametrize("mode", ["paper", "reference"])
def test_mnist_walks_raise_f_j_and_lower_f_i(mode):
    entry = _mnist()
    x = entry.x_test[:6]
    res = agi(entry.model, x, classes="all", mode=mode, record="scores")
    tr = walks(res)
    rise = torch.stack([t.false_scores[-1] - t.false_scores[0] for t in tr])
    fall = torch.stack([t.scores[0] - t.scores[-1] for t in tr])
    assert rise.mean() > 0 and fall.mean() > 0
    assert (rise > 0).float().mean() > 0.9 and (fall > 0).float().mean() > 0.9
    assert torch.isfinite(res.attributions).all() and res.attributions.abs().sum() > 0
    if mode == "paper":                  # ε = 0.05 suffices to reach every false class on MNIST
        assert res.reached.float().mean() > 0.9
    else:                                # the ε-ball is too small to fool the model
        assert res.reached.float().mean() < 0.1


# ---- bad input -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, match", [
    (dict(epsilon=0), ValueError, "epsilon must be a finite number > 0"),
    (dict(epsilon=-0.1), ValueError, "epsilon"),
    (dict(epsilon=float("nan")), ValueError, "epsilon"),
    (dict(epsilon="0.1"), TypeError, "epsilon"),
    (dict(max_steps=0), ValueError, "max_steps must be ≥ 1"),
    (dict(max_steps=2.5), TypeError, "max_steps"),
    (dict(classes=6), ValueError, "larger than the number of false classes"),
    (dict(classes=0), ValueError, "classes must be ≥ 1"),
    (dict(classes=[0, 9]), ValueError, "class id 9 out of range"),
    (dict(classes=[1, 1]), ValueError, "twice"),
    (dict(classes="some"), ValueError, "classes must be an int"),
    (dict(classes=[0.5]), TypeError, "integer class ids"),
    (dict(target=6), ValueError, "target has class id 6 out of range"),
    (dict(target=[0, 1]), ValueError, r"target must be an int or have shape \(3,\)"),
    (dict(mode="path"), ValueError, "mode must be one of"),
    (dict(output="softmax"), ValueError, "output must be one of"),
    (dict(record="all"), ValueError, "record must be one of"),
    (dict(selection="even"), ValueError, "selection must be one of"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(bounds=(1.0, 0.0)), ValueError, "low < high"),
    (dict(bounds=(0.0, 1.0, 2.0)), TypeError, "pair"),
    (dict(bounds=(0.0, 0.5)), ValueError, "inputs lie outside bounds"),
    (dict(bounds=(torch.zeros(3), 1.0)), ValueError, "broadcastable"),
    (dict(seed=1.5), TypeError, "seed"),
])
def test_bad_arguments(kwargs, error, match):
    model, _, _ = linear_model(6, 8, seed=1)
    with pytest.raises(error, match=match):
        agi(model, toy_inputs(3, 8, seed=2), **{"classes": 2, **kwargs})


def test_bad_inputs_and_models():
    model, _, _ = linear_model(6, 8, seed=1)
    x = toy_inputs(3, 8, seed=2)
    with pytest.raises(ValueError, match="NaN or inf"):
        agi(model, torch.where(x > 0.7, float("nan"), x), classes=2)
    with pytest.raises(TypeError, match="floating-point"):
        agi(model, (x * 10).long(), classes=2)
    with pytest.raises(ValueError, match="non-empty batch"):
        agi(model, x[:0], classes=2)
    with pytest.raises(ValueError, match=r"one row per input.*unsqueeze\(0\)"):
        agi(model, x[0], classes=2)                                  # one example without its batch axis
    with pytest.raises(ValueError, match=r"cannot take inputs of shape \(2, 784\)"):
        agi(cnn64(0), torch.rand(2, 784, dtype=torch.float64), classes=2)   # flat pixels into a CNN
    with pytest.raises(ValueError, match="training mode"):
        agi(nn.Sequential(nn.Linear(8, 6), nn.Dropout()).double(), x, classes=2)
    with pytest.raises(ValueError, match="single column: this method needs class scores"):
        agi(nn.Linear(8, 1).double().eval(), x, classes="all")
    with pytest.raises(ValueError, match="single column: this method needs class scores"):
        agi(lambda v: model(v)[:, 0], x, classes="all")              # (N,): one score per input
    with pytest.raises(TypeError, match="model must be callable"):
        agi(42, x)

    class Detached(nn.Module):
        def forward(self, v):
            return model(v.detach())
    with pytest.raises(ValueError, match="no gradient reaches"):
        agi(Detached().eval(), x, classes=2)


# ---- the caller's model and tensors are left exactly as they were -------------------------------------------

class Flaky(nn.Module):
    """A small CNN with caller state (hooks, gradients) that can fail on its n-th forward pass."""

    def __init__(self, fail_at=None):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 4))
        self.fail_at, self.calls = fail_at, 0

    def forward(self, v):
        self.calls += 1
        if self.fail_at is not None and self.calls >= self.fail_at:
            raise RuntimeError("boom")
        return self.net(v)


def snapshot(model, x):
    return dict(training=[m.training for m in model.modules()],
                req=[p.requires_grad for p in model.parameters()],
                grads=[p.grad for p in model.parameters()],
                grad_values=[None if p.grad is None else p.grad.clone() for p in model.parameters()],
                params=[p.detach().clone() for p in model.parameters()],
                hooks=[(dict(m._forward_hooks), dict(m._forward_pre_hooks), dict(m._backward_hooks))
                       for m in model.modules()],
                x_req=x.requires_grad, x_grad=x.grad, x_grad_value=x.grad.clone(), x=x.detach().clone())


def assert_same(before, model, x):
    after = snapshot(model, x)
    assert after["training"] == before["training"] and after["req"] == before["req"]
    assert all(a is b for a, b in zip(after["grads"], before["grads"]))
    for a, b in zip(after["grad_values"] + after["params"], before["grad_values"] + before["params"]):
        assert (a is None and b is None) or torch.equal(a, b)
    assert after["hooks"] == before["hooks"]
    assert after["x_req"] and after["x_grad"] is before["x_grad"]
    assert torch.equal(after["x_grad_value"], before["x_grad_value"]) and torch.equal(x.detach(), before["x"])


@pytest.mark.parametrize("fail_at", [None, 4])
def test_model_and_tensors_restored(fail_at):
    torch.manual_seed(0)
    model = Flaky(fail_at).eval()
    model.net[0].weight.requires_grad_(False)
    model.net[3].weight.grad = torch.ones_like(model.net[3].weight)
    model.net[3].register_forward_hook(lambda m, i, o: None)
    model.net.register_forward_pre_hook(lambda m, i: None)
    x = torch.rand(2, 1, 6, 6, requires_grad=True)
    x.grad = torch.full_like(x, 7.0)
    before = snapshot(model, x)
    if fail_at is None:
        res = agi(model, x, classes="all", max_steps=5)
        assert res.attributions.shape == x.shape and not res.attributions.requires_grad
    else:
        with pytest.raises(RuntimeError, match="boom"):             # raised in the middle of the walk
            agi(model, x, classes="all", max_steps=5)
        assert model.calls == fail_at
    assert_same(before, model, x)


# ---- issue 16/17: the authors' quantitative selection, any callable, in-place models -------------------------

def test_shared_selection_is_one_draw_with_the_target_replaced_by_the_next_id():
    from attrkit.agi import false_classes

    target = torch.tensor([3, 7, 0, 9])
    S = false_classes(target, 10, classes=4, selection="shared", seed=5)
    ids = torch.randperm(9, generator=torch.Generator().manual_seed(5))[:4].tolist()   # from 0..C−2, once
    for row, i in zip(S.tolist(), target.tolist()):
        assert row == [j + 1 if j == i else j for j in ids]
    assert S.shape == (4, 4)
    hit = ids[0]                                                          # an input whose target is drawn
    assert false_classes(torch.tensor([hit]), 10, 4, "shared", 5)[0, 0] == hit + 1


def test_callables_and_model_outputs_work_in_agi():
    model, _, _ = linear_model(6, 8, seed=1)
    x = toy_inputs(2, 8, seed=2)
    ref = agi(model, x, classes=2, max_steps=3)
    for wrapped in (model.forward, lambda v: (model(v), None), lambda v: {"logits": model(v)}):
        torch.testing.assert_close(agi(wrapped, x, classes=2, max_steps=3).attributions, ref.attributions)


@pytest.mark.parametrize("batch_size", [None, 2])
def test_an_in_place_model_leaves_the_callers_inputs_alone(batch_size):
    model, _, _ = linear_model(6, 8, seed=1)

    class InPlace(nn.Module):
        def forward(self, v):
            return model(v.sub_(0.5) if not v.requires_grad else v - 0.5)

    x = toy_inputs(3, 8, seed=2)
    before = x.clone()
    agi(InPlace().eval(), x, classes=2, max_steps=3, batch_size=batch_size)
    assert torch.equal(x, before)
