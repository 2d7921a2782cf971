"""attrkit.exercise.check: friendly feedback, a bool back, and never an exception."""

import numpy as np
import pytest
import torch

from attrkit.exercise import check


def run(capsys, *args, **kwargs):
    ok = check(*args, **kwargs)
    return ok, capsys.readouterr().out


def test_number_within_tolerance(capsys):
    ok, out = run(capsys, 0.52, 0.5, rel=0.1, name="IG sum")
    assert ok is True and out.startswith("✅ IG sum: correct!")


def test_number_off_shows_how_far(capsys):
    ok, out = run(capsys, 1.2, 1.0)
    assert ok is False and "❌" in out and "You said 1.2" in out and "off by 0.2" in out


def test_absolute_tolerance(capsys):
    assert run(capsys, 0.04, 0.0, tol=0.05)[0] and not run(capsys, 0.06, 0.0, tol=0.05)[0]


@pytest.mark.parametrize("missing", [..., None])
def test_missing_answer_asks_for_a_prediction(capsys, missing):
    ok, out = run(capsys, missing, 3.0, name="top class")
    assert ok is False and "✏️ top class: fill in your prediction" in out


@pytest.mark.parametrize("wrong", ["seven", {"a": 1}, object(), 1j])
def test_wrong_type_never_raises(capsys, wrong):
    ok, out = run(capsys, wrong, 7.0)
    assert ok is False and "expected a number" in out


def test_sequences_and_tensors(capsys):
    assert run(capsys, [0.1, 0.2], torch.tensor([0.1, 0.2]))[0]
    assert run(capsys, torch.ones(3, requires_grad=True), np.ones(3))[0]
    ok, out = run(capsys, [1, 3, 5], [1, 2, 3])
    assert not ok and "2 of 3 entries are off" in out and "largest difference 2" in out
    ok, out = run(capsys, [1, 2], [1, 2, 3])
    assert not ok and "expected shape (3,), got (2,)" in out
    assert run(capsys, 0.0, torch.zeros(2, 2))[0]  # one number for every entry


def test_nan_is_never_correct(capsys):
    assert not run(capsys, float("nan"), 1.0)[0]


def test_choices(capsys):
    assert run(capsys, " Baseline ", "baseline")[0]
    ok, out = run(capsys, "gradient", "baseline", name="culprit")
    assert not ok and "You said 'gradient'; the answer is 'baseline'" in out
    assert not run(capsys, 3, "baseline")[0]
