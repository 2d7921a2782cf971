"""The code exercises waiting in notebooks/_exercises_to_insert.py, run against the real zoo models: as committed
they ask for the ``...``; with the solution every check passes; each typical wrong answer fails its check."""
import contextlib
import importlib.util
import io
from pathlib import Path

import pytest
import torch

from attrkit import exercise

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("exercises_to_insert", ROOT / "notebooks" / "_exercises_to_insert.py")
EX = importlib.util.module_from_spec(spec)
spec.loader.exec_module(EX)

PREAMBLE = """
import torch
from IPython.display import display
from attrkit import axioms, baselines, ig, integrated_gradients, methods, metrics, quadrature, toys, viz, zoo
from attrkit.exercise import check, check_function
torch.set_num_threads(1)


def show(t):
    return "(" + ", ".join(f"{v:+.2f}" for v in t.flatten().tolist()) + ")"
"""

# notebook -> (code cells of the exercise in order, as (index in CELLS)); the first code cell is the student's
NOTEBOOKS = {"02_axioms": "02_axioms", "03A": "03_integrated_gradients", "03B": "03_integrated_gradients",
             "04_baselines": "04_baselines", "05_agi": "05_agi", "06_evaluation": "06_evaluation"}


def code_cells(key):
    cells = [c["source"] for c in EX.CELLS[NOTEBOOKS[key]] if c["cell_type"] == "code"]
    if key == "03A":
        return cells[:2]
    if key == "03B":
        return cells[2:]
    return cells


def run_cells(sources, extra=None):
    """Run the cells in one namespace; return the printed text of each cell."""
    ns = {}
    exec(PREAMBLE, ns)  # noqa: S102 - our own test material
    outs = []
    for src in sources:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(src, ns)  # noqa: S102
            if extra and src in extra:
                exec(extra[src], ns)  # noqa: S102
        outs.append(buf.getvalue())
    return outs, ns


@pytest.fixture(autouse=True)
def learn_mode(monkeypatch):
    monkeypatch.delenv("ATTRKIT_EXERCISE_MODE", raising=False)
    exercise.reset()
    torch.manual_seed(0)
    yield
    exercise.reset()


def test_every_cell_is_nbformat_and_every_solution_follows_the_scheme():
    import nbformat

    for notebook, cells in EX.CELLS.items():
        assert notebook in EX.WHERE
        for cell in cells:
            nbformat.validate(nbformat.from_dict({"cells": [cell], "metadata": {}, "nbformat": 4,
                                                  "nbformat_minor": 5}), version=4)
        solutions = [c for c in cells if "solution" in c["metadata"].get("tags", [])]
        assert solutions and all("<details><summary><b>Solution (instructors)</b></summary>" in c["source"]
                                 and c["metadata"]["jupyter"]["source_hidden"] for c in solutions)
        assert any("check_function(" in c["source"] for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize("key", list(NOTEBOOKS))
def test_as_committed_the_checks_ask_for_the_dots(key):
    outs, _ = run_cells(code_cells(key))
    text = "".join(outs)
    assert "✏️" in text and "✅" not in text and "❌" not in text, text


SOLVED = {"02_axioms": "02_axioms", "03A": "03_integrated_gradients", "03B": "03_integrated_gradients/bug",
          "04_baselines": "04_baselines", "05_agi": "05_agi", "06_evaluation": "06_evaluation"}
# the prediction cells' right answers, computed as a student would
SHARE = ("my_share = suspect.sum().item() / (mnist_model(digit).softmax(1)[0, digit_class] "
         "- mnist_model(black).softmax(1)[0, digit_class]).item()")
OWN_BASELINE = ("    return ...   # a tensor of x's shape, values in [0, 1]", "    return torch.full_like(x, 0.1307)")


def solved(key, patch=None, prediction=None):
    """The exercise's cells as a student who wrote the solution (with ``patch`` applied: a wrong variant)."""
    code = EX.SOLUTIONS[SOLVED[key]]
    if patch:
        old, new = patch
        assert old in code, f"the wrong variant's pattern {old!r} is not in the solution"
        code = code.replace(old, new)
    cells = code_cells(key)
    if key == "03B":
        check_part = cells[2][cells[2].index("_ = check_function"):]
        cells = [cells[0], cells[1].replace("my_share = ...", prediction or SHARE), code + "\n" + check_part]
    else:
        cells = [code + "\n" + (prediction or "")] + cells[1:]
        if key == "04_baselines":
            cells[-1] = cells[-1].replace(*OWN_BASELINE)
    return run_cells(cells)


@pytest.mark.parametrize("key", list(NOTEBOOKS))
def test_the_solution_passes_every_check(key):
    outs, _ = solved(key)
    text = "".join(outs)
    assert "❌" not in text and "✏️ write" not in text, text
    assert text.count("✅") >= (3 if key == "03A" else 1), text


WRONG = {
    "02_axioms": [("(attributions.sum(1) - change) / change.abs()", "attributions.sum(1) - change"),
                  ("toys.f_of(model, x) - toys.f_of(model, baseline)", "toys.f_of(model, x)"),
                  ("(attributions.sum(1) - change) / change.abs()", "(attributions.sum(1) - change).abs() / change.abs()"),
                  ("(attributions.sum(1) - change) / change.abs()", "(attributions.sum(1) - change) / change"),
                  ("method(model, x, toys.TARGET, baseline)", "method(model, x, None, baseline)")],
    "03A": [("x_base + alphas.view(-1, *[1] * x.dim()) * (x - x_base)", "x + alphas.view(-1, *[1] * x.dim()) * (x_base - x)"),
            ("(weights.view(-1, *[1] * (gradients.dim() - 1)) * gradients).sum(0)", "gradients.mean(0)"),
            ("return (x - x_base) * my_weighted_sum", "return x * my_weighted_sum"),
            ("return (x - x_base) * my_weighted_sum(gradients, weights)", "return my_weighted_sum(gradients, weights)")],
    "03B": [("torch.cat(gradient_batches)", "torch.stack(tuple(gradient_batch))"),
            ("torch.cat(gradient_batches)", "torch.stack(gradient_batches)"),
            ("((total_gradients[:-1] + total_gradients[1:]) / 2).mean(0)", "total_gradients.mean(0)")],
    "04_baselines": [("torch.where(x < 0.5, torch.ones_like(x), torch.zeros_like(x))", "1 - x"),
                     ("torch.where(x < 0.5, torch.ones_like(x), torch.zeros_like(x))",
                      "torch.where(x < 0.5, torch.zeros_like(x), torch.ones_like(x))")],
    "05_agi": [("epsilon * grad_j.sign()", "epsilon * grad_j"),
               (".clamp(0, 1)", ""),
               ("-grad_i * (x_next - x)", "grad_i * (x_next - x)"),
               ("-grad_i * (x_next - x)", "-grad_j * (x_next - x)"),
               ("-grad_i * (x_next - x)", "-grad_i * epsilon * grad_j.sign()"),
               ("grad_j.sign()", "(-grad_i).sign()")],
    "06_evaluation": [("descending=True", "descending=False"),
                      ("        scores.append(model(current).softmax(1)[0, target].item())\n        for",
                       "        for"),
                      ("model(current).softmax(1)[0, target]", "model(current)[0, target]"),
                      ("saliency.flatten()", "saliency.flatten().abs()"),
                      ("            current.view(-1)[order", "            current = image.clone()\n            current.view(-1)[order"),
                      ("current = image.clone()", "current = image")],
}


@pytest.mark.parametrize("key, patch", [(k, p) for k, ps in WRONG.items() for p in ps],
                         ids=[f"{k}-{i}" for k, ps in WRONG.items() for i in range(len(ps))])
def test_typical_wrong_answers_fail(key, patch):
    outs, _ = solved(key, patch)
    graded = [o for o in outs if "✅" in o or "❌" in o]
    assert any("❌" in o for o in graded), "".join(outs)


@pytest.mark.parametrize("key, wrong", [("03B", "my_share = 1.0"), ("04_baselines", "my_blind_share = 0.5")])
def test_wrong_predictions_fail(key, wrong):
    outs, _ = solved(key, prediction=wrong)
    assert any("❌" in o for o in outs), "".join(outs)


def test_the_bug_is_what_completeness_exposes():
    cells = code_cells("03B")
    _, ns = run_cells([cells[0], cells[1].replace("my_share = ...", "my_share = None")])
    assert "digit_change" in ns
    share = ns["suspect"].sum().item() / ns["digit_change"]
    assert 0 <= share < 0.05  # far from 1: the solution's "close to 0" relies on it
