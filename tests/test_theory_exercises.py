"""The code exercises of notebooks/02b_theory.ipynb, both ways: the solution in the solution cell passes the check
cell as committed; the typical wrong answers that the solution names fail it."""
import contextlib
import io
import re
from pathlib import Path

import nbformat
import pytest

from attrkit import exercise

NB = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "02b_theory.ipynb", as_version=4)
EXERCISES = {"my_path_attributions": "path attributions", "my_shapley_shubik": "Shapley–Shubik"}


def exercise_cells(fn):
    """(cells to run before, the exercise cell's check part, the solution's code) for the exercise defining fn."""
    for k, cell in enumerate(NB.cells):
        if cell.cell_type == "code" and f"def {fn}(" in cell.source:
            before = [c.source for c in NB.cells[:k] if c.cell_type == "code"
                      and "nbval-ignore-output" not in c.metadata.get("tags", [])]
            check_part = cell.source[cell.source.index("\ncases = "):]
            solution = next(c.source for c in NB.cells[k + 1:] if "solution" in c.metadata.get("tags", []))
            code = re.search(r"```python\n(.*?)```", solution, re.S).group(1)
            return before, check_part, code
    raise AssertionError(f"no exercise defines {fn}")


def run(fn, patch=None):
    before, check_part, code = exercise_cells(fn)
    if patch:
        assert patch[0] in code
        code = code.replace(*patch)
    ns = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for src in before:
            exec(src, ns)  # noqa: S102 - the course's own notebook
        exec("import itertools\n" + code + check_part, ns)  # noqa: S102
    return out.getvalue().split(f"{EXERCISES[fn]}:")[-1]


@pytest.fixture(autouse=True)
def learn_mode(monkeypatch):
    monkeypatch.delenv("ATTRKIT_EXERCISE_MODE", raising=False)
    exercise.reset()
    yield
    exercise.reset()


@pytest.mark.parametrize("fn", list(EXERCISES))
def test_the_solution_passes(fn):
    assert "correct!" in run(fn)


@pytest.mark.parametrize("fn, patch", [
    ("my_path_attributions", ("middles = (points[1:] + points[:-1]) / 2", "middles = points[:-1]")),   # left point
    ("my_path_attributions", ("(grads * steps).sum(0)", "(grads * steps).sum(-1)")),                     # a dot product
    ("my_path_attributions", ("steps = points[1:] - points[:-1]", "steps = points[:-1] - points[1:]")),  # backwards
    ("my_shapley_shubik", ("return total / len(orders)", "return total")),                               # no average
    ("my_shapley_shubik", ("orders = list(itertools.permutations(range(x.shape[1])))",
                           "orders = [list(range(x.shape[1])), list(range(x.shape[1]))[::-1]]")),      # two orders
])
def test_typical_wrong_answers_fail(fn, patch):
    assert "not quite" in run(fn, patch)
