"""attrkit.exercise: friendly feedback, a bool back, never an exception; rounding, synonyms, hints, code checks,
and the record mode of the student release. Every rule is tested both ways: what it must accept, and the
typical wrong answers it must reject."""
import json
from datetime import datetime, timedelta

import numpy as np
import pytest
import torch

from attrkit import exercise, ig, integrated_gradients
from attrkit.exercise import check, check_array, check_function
from attrkit.lab import toys


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.delenv("ATTRKIT_EXERCISE_MODE", raising=False)
    exercise.reset()
    yield
    exercise.reset()


def run(capsys, fn, *args, **kwargs):
    ok = fn(*args, **kwargs)
    return ok, capsys.readouterr().out


# ---- numbers -------------------------------------------------------------------------------------------------

def test_number_within_tolerance(capsys):
    ok, out = run(capsys, check, 0.52, 0.5, rel=0.1, name="IG sum")
    assert ok is True and out.startswith("✅ IG sum: correct!")


def test_absolute_tolerance(capsys):
    assert run(capsys, check, 0.04, 0.0, tol=0.05)[0] and not run(capsys, check, 0.06, 0.0, tol=0.05)[0]


@pytest.mark.parametrize("answer", [0.011, 0.0115, 0.01148, "0.011", 0.01148, "1.1e-2"])
def test_a_correctly_rounded_answer_is_accepted(capsys, answer):
    """07 ex. 2: 9/784 = 0.01148, tolerance rel = 0.02 (0.00023): the rounded 0.011 was rejected before."""
    assert run(capsys, check, answer, 9 / 784, rel=0.02)[0]


@pytest.mark.parametrize("answer", [0.012, 0.01, 0.0111, "0.012", 0.02, 1 / 784])
def test_a_wrongly_rounded_or_one_digit_answer_is_rejected(capsys, answer):
    # 0.012 and 0.0111 are not roundings of 0.01148; 0.01 has one significant digit: a guess, no allowance
    assert not run(capsys, check, answer, 9 / 784, rel=0.02)[0]


@pytest.mark.parametrize("answer, truth, ok", [
    (1.0, 0.947, False),      # 01 ex. 2: the tempting 1 stays wrong (0.947 rounds to 0.95, not 1.0)
    (0.95, 0.947, True),
    ("0.50", 0.503, True),    # a string keeps the trailing zero: two digits
    (0.5, 0.53, False),       # one digit: no allowance, and 0.03 is beyond rel
    (16, 15.928, True),       # 15.928 to two digits is 16
    (15, 15.928, False),
    (150, 148.2, True),       # 150 = 1.5e2, two digits
    (12, 13, False),          # counts: a wrong integer is wrong
    (0.314, 0.3140, True),
    (True, 1, True),          # harmless
])
def test_rounding_rule_cases(capsys, answer, truth, ok):
    assert run(capsys, check, answer, truth, rel=1e-3)[0] is ok


def test_rounding_can_be_switched_off(capsys):
    assert not run(capsys, check, 0.011, 9 / 784, rel=0.02, rounding=False)[0]


def test_computed_answers_get_no_rounding_allowance(capsys):
    assert not run(capsys, check, torch.tensor(0.011), 9 / 784, rel=0.02)[0]


def test_first_wrong_try_hints_second_reveals(capsys):
    ok, out = run(capsys, check, 1.2, 1.0, name="sum", hint="completeness")
    assert ok is False and "You said 1.2, which is too high" in out and "Hint: completeness" in out
    assert "1.0" not in out.replace("1.2", "") and "off by" not in out        # the truth is not shown yet
    ok, out = run(capsys, check, 1.3, 1.0, name="sum", hint="completeness")
    assert ok is False and "The computed value is 1" in out and "off by 0.3" in out and "Hint" not in out


def test_no_hint_still_waits_for_the_second_try(capsys):
    out = run(capsys, check, 0.8, 1.0, name="x")[1]
    assert "too low" in out and "second wrong try" in out and "computed value" not in out


def test_a_correct_answer_restarts_the_count(capsys):
    run(capsys, check, 2.0, 1.0, name="x")
    assert run(capsys, check, 1.0, 1.0, name="x")[0]
    assert "computed value" not in run(capsys, check, 2.0, 1.0, name="x")[1]


def test_reveal_false_never_shows_the_truth(capsys):
    for _ in range(3):
        out = run(capsys, check, 2.0, 1.0, name="quiz", reveal=False)[1]
        assert "computed value" not in out and "1.0" not in out.replace("2.0", "")


def test_truth_may_be_computed_inside_the_check(capsys):
    calls = []

    def truth():
        calls.append(1)
        return 3 * 224

    assert run(capsys, check, 672, truth)[0] and calls == [1]
    assert run(capsys, check, ..., truth)[1].startswith("✏️") and calls == [1]  # not even computed without an answer


@pytest.mark.parametrize("missing", [..., None])
def test_missing_answer_asks_for_a_prediction(capsys, missing):
    ok, out = run(capsys, check, missing, 3.0, name="top class")
    assert ok is False and "✏️ top class: fill in your prediction" in out


@pytest.mark.parametrize("wrong", ["seven", {"a": 1}, object(), 1j])
def test_wrong_type_never_raises(capsys, wrong):
    ok, out = run(capsys, check, wrong, 7.0)
    assert ok is False and "expected a number" in out


def test_sequences_and_tensors(capsys):
    assert run(capsys, check, [0.1, 0.2], torch.tensor([0.1, 0.2]))[0]
    assert run(capsys, check, torch.ones(3, requires_grad=True), np.ones(3))[0]
    ok, out = run(capsys, check, [1, 3, 5], [1, 2, 3])
    assert not ok and "2 of 3 entries are off" in out and "largest difference 2" in out
    ok, out = run(capsys, check, [1, 2], [1, 2, 3])
    assert not ok and "expected shape (3,), got (2,)" in out
    assert run(capsys, check, 0.0, torch.zeros(2, 2))[0]  # one number for every entry
    assert run(capsys, check, [0.25, 0.5, 0.75, 1], ig.quadrature("riemann_right", 4)[0])[0]


def test_nan_is_never_correct(capsys):
    assert not run(capsys, check, float("nan"), 1.0)[0]


# ---- words ---------------------------------------------------------------------------------------------------

def test_choices(capsys):
    assert run(capsys, check, " Baseline ", "baseline")[0]
    ok, out = run(capsys, check, "gradient", "baseline", name="culprit")
    assert not ok and "You said 'gradient'" in out and "'baseline'" not in out
    ok, out = run(capsys, check, "gradient", "baseline", name="culprit")
    assert "The answer is 'baseline'" in out
    assert not run(capsys, check, 3, "baseline")[0]


@pytest.mark.parametrize("answer", ["black", "Black image", "the black image.", "black-image", "zeros"])
def test_synonyms_are_accepted(capsys, answer):
    assert run(capsys, check, answer, "black", synonyms=["black image", "zeros"])[0]
    assert run(capsys, check, answer, {"black", "black image", "zeros"})[0]


@pytest.mark.parametrize("answer", ["white", "blackish", "not black", "blur"])
def test_other_words_are_rejected(capsys, answer):
    assert not run(capsys, check, answer, "black", synonyms=["black image", "zeros"])[0]


def test_revealed_word_lists_the_synonyms(capsys):
    run(capsys, check, "white", "black", synonyms=["black image"], name="b")
    assert "The answer is 'black' (also accepted: 'black image')" in run(capsys, check, "grey", "black",
                                                                          synonyms=["black image"], name="b")[1]


@pytest.mark.parametrize("answer", [1, "1", 1.0, torch.tensor(1), np.int64(1)])
def test_a_class_label_is_matched_exactly(capsys, answer):
    assert run(capsys, check, answer, torch.tensor(1), label=True)[0]


def test_a_wrong_class_label_gets_no_direction(capsys):
    ok, out = run(capsys, check, 8, 1, label=True, name="class", hint="which digit has the least ink?")
    assert not ok and "You said class 8." in out and "too" not in out and "Hint: which digit" in out
    ok, out = run(capsys, check, 5, 1, label=True, name="class")
    assert not ok and "The answer is class 1." in out
    # no rounding allowance and no tolerance: 1.4 is not class 1, and a word is not a class
    assert not run(capsys, check, 1.4, 1, label=True)[0]
    ok, out = run(capsys, check, "one", 1, label=True)
    assert not ok and "expected a class number" in out


# ---- arrays --------------------------------------------------------------------------------------------------

def test_check_array(capsys):
    truth = torch.arange(6.0).view(2, 3)
    assert run(capsys, check_array, truth.numpy().tolist(), truth)[0]
    assert run(capsys, check_array, truth + 1e-6, truth)[0]
    ok, out = run(capsys, check_array, truth.flatten(), truth)
    assert not ok and "expected shape (2, 3), got (6,)" in out
    bad = truth.clone()
    bad[1, 2] += 1
    ok, out = run(capsys, check_array, bad, truth)
    assert not ok and "1 of 6 entries are off, the first at index (1, 2)" in out
    assert not run(capsys, check_array, 0.0, torch.zeros(3))[0]  # no single number for all entries here


# ---- record mode ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["environment", "function"])
def test_record_mode_logs_and_never_prints_the_truth(capsys, tmp_path, monkeypatch, how):
    log = tmp_path / "answers.jsonl"
    monkeypatch.setenv("ATTRKIT_EXERCISE_LOG", str(log))
    if how == "environment":
        monkeypatch.setenv("ATTRKIT_EXERCISE_MODE", "record")
    else:
        exercise.mode("record")
    assert exercise.mode() == "record"
    outs = [run(capsys, check, 0.4, 0.3141, name="sum")[1] for _ in range(3)]
    outs.append(run(capsys, check, "white", "black", name="baseline")[1])
    outs.append(run(capsys, check, 0.3141, 0.3141, name="sum")[1])
    outs.append(run(capsys, check_array, [1.0, 2.0], [1.0, 5.0], name="arr")[1])
    for out in outs:
        assert out.strip().endswith("recorded.") and "0.3141" not in out and "black" not in out and "5" not in out
        assert "✅" not in out and "❌" not in out
    lines = [json.loads(s) for s in log.read_text().splitlines()]
    stamps = [(line.pop("notebook"), line.pop("time")) for line in lines]
    assert lines[0] == {"name": "sum", "answer": 0.4, "correct": False}
    assert lines[3] == {"name": "baseline", "answer": "white", "correct": False}
    assert lines[4]["correct"] is True and lines[5] == {"name": "arr", "answer": [1.0, 2.0], "correct": False}
    # when: UTC, to the second; which notebook: none named outside the student release
    assert all(notebook is None and datetime.fromisoformat(t).utcoffset() == timedelta(0) for notebook, t in stamps)


def test_record_mode_marks_opening_and_finishing_a_notebook(capsys, tmp_path, monkeypatch):
    log = tmp_path / "answers.jsonl"
    monkeypatch.setenv("ATTRKIT_EXERCISE_LOG", str(log))
    monkeypatch.setenv("ATTRKIT_NOTEBOOK", "03_integrated_gradients")
    exercise.mark("open")  # learn mode: a student studying alone leaves no log
    assert not log.exists() and capsys.readouterr().out == ""
    exercise.mode("record")
    exercise.mark("open")
    check(0.5, 0.5, name="x")
    exercise.mark("done")
    assert "03_integrated_gradients: finished, time noted." in capsys.readouterr().out
    lines = [json.loads(s) for s in log.read_text().splitlines()]
    assert [line.get("event", line.get("name")) for line in lines] == ["open", "x", "done"]
    assert {line["notebook"] for line in lines} == {"03_integrated_gradients"}
    with pytest.raises(ValueError, match="open"):
        exercise.mark("close")


def test_record_mode_default_log_in_the_working_directory(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ATTRKIT_EXERCISE_LOG", raising=False)
    exercise.mode("record")
    assert run(capsys, check, 1, 1, name="n")[0] is None
    line = json.loads((tmp_path / "attrkit_answers.jsonl").read_text())
    assert {k: line[k] for k in ("name", "answer", "correct")} == {"name": "n", "answer": 1, "correct": True}


def test_mode_errors_say_what_to_do(monkeypatch):
    with pytest.raises(ValueError, match="learn"):
        exercise.mode("grade")
    monkeypatch.setenv("ATTRKIT_EXERCISE_MODE", "quiz")
    with pytest.raises(ValueError, match="unset"):
        exercise.mode()
    exercise.mode("learn")  # an explicit choice wins over the environment
    assert exercise.mode() == "learn"
    monkeypatch.setenv("ATTRKIT_EXERCISE_MODE", "record")
    assert exercise.mode() == "learn"
    exercise.mode("auto")
    assert exercise.mode() == "record"
