"""attrkit.exercise.check_function: every correct way of writing IG (or a path integral) passes, the typical
bugs fail: off-by-one weights, a missing (x − x′), a reversed path, the TF tutorial's batching bug."""
import json

import pytest
import torch

from attrkit import exercise, integrated_gradients
from attrkit.exercise import check_function
from attrkit.lab import paths, toys

M = 16


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.delenv("ATTRKIT_EXERCISE_MODE", raising=False)
    exercise.reset()
    yield
    exercise.reset()


def net():
    return toys.random_net(4, (8,), "tanh", seed=3)


CASES = [(net(), torch.tensor([[0.2, 0.9, 0.4, 0.7]], dtype=torch.float64), torch.zeros(1, 4, dtype=torch.float64)),
         (net(), torch.tensor([[1.5, -0.3, 0.8, 2.0]], dtype=torch.float64),
          torch.tensor([[0.5, 0.5, -1.0, 0.0]], dtype=torch.float64))]


def grad_at(model, points):
    points = points.detach().requires_grad_()
    (g,) = torch.autograd.grad(model(points)[:, toys.TARGET].sum(), points)
    return g


# ---- IG by hand: the right Riemann sum of Eq. 3 with M steps --------------------------------------------------

def reference(model, x, x_base):
    return integrated_gradients(model, x, target=toys.TARGET, baseline=x_base, steps=M, method="riemann_right",
                                record="none", progress=False).attributions


def batched(model, x, x_base):
    alphas = torch.arange(1, M + 1, dtype=x.dtype).view(-1, 1) / M
    return (x - x_base) * grad_at(model, x_base + alphas * (x - x_base)).mean(0, keepdim=True)


def looped(model, x, x_base):
    total = torch.zeros_like(x)
    for k in range(1, M + 1):
        point = (x_base + k / M * (x - x_base)).clone().requires_grad_(True)
        model(point)[0, toys.TARGET].backward()
        total += point.grad / M
    return total * (x - x_base)


def linspace_variant(model, x, x_base):
    alphas = torch.linspace(1 / M, 1, M, dtype=x.dtype)
    grads = torch.stack([grad_at(model, x_base + a * (x - x_base))[0] for a in alphas])
    return (x - x_base) * grads.sum(0) / M


def in_float32(model, x, x_base):  # a student who works in float32: round-off only
    return batched(model, x.float(), x_base.float())


def off_by_one_nodes(model, x, x_base):  # linspace(0, 1, M): M nodes with the ends, but weights 1/M
    alphas = torch.linspace(0, 1, M, dtype=x.dtype).view(-1, 1)
    return (x - x_base) * grad_at(model, x_base + alphas * (x - x_base)).mean(0, keepdim=True)


def off_by_one_weights(model, x, x_base):  # divides by M − 1
    alphas = torch.arange(1, M + 1, dtype=x.dtype).view(-1, 1) / M
    return (x - x_base) * grad_at(model, x_base + alphas * (x - x_base)).sum(0, keepdim=True) / (M - 1)


def no_difference(model, x, x_base):  # the missing (x − x′) product
    alphas = torch.arange(1, M + 1, dtype=x.dtype).view(-1, 1) / M
    return grad_at(model, x_base + alphas * (x - x_base)).mean(0, keepdim=True)


def reversed_path(model, x, x_base):  # walks from x towards x′
    alphas = torch.arange(1, M + 1, dtype=x.dtype).view(-1, 1) / M
    return (x - x_base) * grad_at(model, x + alphas * (x_base - x)).mean(0, keepdim=True)


def tf_batching_bug(model, x, x_base, batch=5):
    """tensorflow/docs PR #2039: the gradients of each batch were collected, but only the last batch's were kept."""
    alphas = torch.arange(1, M + 1, dtype=x.dtype).view(-1, 1) / M
    for start in range(0, M, batch):
        gradient_batch = grad_at(model, x_base + alphas[start:start + batch] * (x - x_base))
    return (x - x_base) * gradient_batch.mean(0, keepdim=True)


@pytest.mark.parametrize("variant", [reference, batched, looped, linspace_variant, in_float32])
def test_every_correct_ig_passes(capsys, variant):
    assert check_function(variant, reference, CASES, name="IG") is True, capsys.readouterr().out


@pytest.mark.parametrize("variant", [off_by_one_nodes, off_by_one_weights, no_difference, reversed_path,
                                     tf_batching_bug])
def test_typical_ig_bugs_fail(capsys, variant):
    assert check_function(variant, reference, CASES, name="IG") is False
    out = capsys.readouterr().out
    assert "❌ IG: not quite. On case" in out and "reference returns" not in out


def test_the_batching_bug_is_what_the_completeness_delta_exposes():
    model, x, x_base = CASES[1]
    change = (toys.f_of(model, x) - toys.f_of(model, x_base)).item()
    assert abs(reference(model, x, x_base).sum().item() - change) < 0.05 * abs(change)
    assert abs(tf_batching_bug(model, x, x_base).sum().item() - change) > 0.5 * abs(change)


# ---- the gradient theorem along any path -----------------------------------------------------------------------

def line_integral_loop(model, points):
    total = torch.zeros_like(points[0])
    for k in range(points.shape[0] - 1):
        middle = (points[k] + points[k + 1]) / 2
        total = total + grad_at(model, middle) * (points[k + 1] - points[k])
    return total


def line_integral_einsum(model, points):
    steps = points[1:] - points[:-1]
    g = grad_at(model, ((points[1:] + points[:-1]) / 2).reshape(-1, points.shape[-1])).view_as(steps)
    return torch.einsum("kni,kni->ni", g, steps)


def left_point_rule(model, points):
    steps = points[1:] - points[:-1]
    return (grad_at(model, points[:-1].reshape(-1, points.shape[-1])).view_as(steps) * steps).sum(0)


def dot_product_not_per_feature(model, points):
    return line_integral_loop(model, points).sum(-1, keepdim=True).expand_as(points[0])


def backwards_steps(model, points):
    return -line_integral_loop(model, points)


def reference_path(model, points):
    return paths.path_attributions(model, points, toys.TARGET)


PATH_CASES = [(net(), paths.axis_path(c[2], c[1], 8)) for c in CASES] + \
             [(net(), paths.straight_path(CASES[1][2], CASES[1][1], 12))]


@pytest.mark.parametrize("variant", [reference_path, line_integral_loop, line_integral_einsum])
def test_every_correct_line_integral_passes(capsys, variant):
    assert check_function(variant, reference_path, PATH_CASES) is True, capsys.readouterr().out


@pytest.mark.parametrize("variant", [left_point_rule, dot_product_not_per_feature, backwards_steps])
def test_typical_line_integral_bugs_fail(variant):
    assert check_function(variant, reference_path, PATH_CASES) is False


# ---- the mechanics ---------------------------------------------------------------------------------------------

def test_placeholder_means_not_filled_in(capsys):
    def empty(model, x, x_base):
        return ...

    def half(model, x, x_base):
        alphas = ...
        return x_base + alphas * (x - x_base)

    def attribute(model, x, x_base):
        middles = ...
        return middles.reshape(-1)

    for fn in (..., None, empty, half, attribute):
        assert check_function(fn, reference, CASES, name="IG") is False
        assert "✏️ IG: replace every ... in your function" in capsys.readouterr().out


def test_errors_and_mutations_are_feedback(capsys):
    def raises(model, x, x_base):
        return x / torch.zeros(3, 3)  # shape error

    def mutates(model, x, x_base):
        x -= x_base
        return reference(model, x + x_base, x_base)

    before = CASES[1][1].clone()
    assert check_function(raises, reference, CASES) is False
    assert "your function raised RuntimeError" in capsys.readouterr().out
    assert check_function(mutates, reference, CASES[1:]) is False
    assert "changed its input tensors in place" in capsys.readouterr().out
    assert torch.equal(CASES[1][1], before)  # the caller's tensors are untouched
    assert check_function(42, reference, CASES) is False and "expected a function" in capsys.readouterr().out


def test_shape_and_second_try(capsys):
    def flat(model, x, x_base):
        return reference(model, x, x_base).flatten()

    assert check_function(flat, reference, CASES, name="f", hint="keep the batch dimension") is False
    out = capsys.readouterr().out
    assert "shape (4,), expected (1, 4)" in out and "Hint: keep the batch dimension" in out
    check_function(flat, reference, CASES, name="f")
    assert "On case 1 the reference returns" in capsys.readouterr().out


def test_a_list_of_per_row_values_is_one_output():
    # a loop appending one 0-d tensor (or numpy scalar) per row returns a list: the same answer as the batched one
    def per_row_sums(x):
        return x.sum(1)

    def as_list_of_tensors(x):
        return [row.sum() for row in x]

    def as_list_of_numpy(x):
        return [row.sum().numpy() for row in x]

    def as_tuple_of_two(x):  # two outputs where one is expected stays wrong
        return x.sum(1), x.mean(1)

    rows = torch.arange(6.0).reshape(2, 3)
    assert check_function(as_list_of_tensors, per_row_sums, [(rows,)]) is True
    assert check_function(as_list_of_numpy, per_row_sums, [(rows,)]) is True
    assert check_function(lambda x: [row.sum() + 1 for row in x], per_row_sums, [(rows,)]) is False
    assert check_function(as_tuple_of_two, per_row_sums, [(rows,)]) is False


def test_a_mask_is_not_a_float_answer(capsys):
    # the max-distance baseline as `x < 0.5` has the right values but IG refuses a bool baseline
    def reference(x):
        return torch.where(x < 0.5, torch.ones_like(x), torch.zeros_like(x))

    x = torch.rand(1, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    assert check_function(lambda x: x < 0.5, reference, [(x,)]) is False
    assert "bool tensor" in capsys.readouterr().out
    assert check_function(lambda x: (x < 0.5).float(), reference, [(x,)]) is True
    assert check_function(lambda x: (x < 0.5).double().tolist(), reference, [(x,)]) is True


def test_record_mode_keeps_the_source(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ATTRKIT_EXERCISE_LOG", str(tmp_path / "log.jsonl"))
    exercise.mode("record")
    assert check_function(no_difference, reference, CASES, name="IG") is None
    assert capsys.readouterr().out.strip() == "📝 IG: recorded."
    line = json.loads((tmp_path / "log.jsonl").read_text())
    assert line["name"] == "IG" and line["correct"] is False and "def no_difference" in line["answer"]
