"""Course-level checks over every notebook `notebooks/[0-9]*.ipynb` (nbval checks each one's outputs; this checks
what makes it a lesson of this course).

Each notebook states its learning goals, a time estimate and its prerequisites at the top; has at least two
"predict, then check" exercises (cells calling ``check(``); ships its solutions in the course's scheme (below); is
committed executed, without error outputs; cites its sources; imports no private module; and gives the same text
outputs when run twice (a cheap subset by default, every notebook with ``ATTRKIT_DETERMINISM=all``).

Solutions scheme: a markdown cell right after the exercise, tagged ``solution``, with its source hidden
(``"jupyter": {"source_hidden": true}``: JupyterLab shows a collapsed bar) and wrapped in
``<details><summary><b>Solution (instructors)</b></summary> ... </details>`` (closed when rendered, e.g. in Voilà).
"""
import configparser
import os
import re
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
SANITIZE = ROOT / "notebooks" / "nbval_sanitize.cfg"
SOLUTION_HEADING = "Solution (instructors)"
DETERMINISM_SUBSET = ("00_start_here", "09_tabular")  # the cheap ones: about 10 s and 20 s per run

# What a notebook uses (regex over its code) → what its markdown must then cite (regexes, all of them).
SOURCES = {
    "Integrated Gradients": (r"integrated_gradients|IGExplorer|BaselinePlayground|MethodComparison|\bexplain\(",
                             [r"Sundararajan"]),
    "AGI": (r"\bagi\(|AGIExplorer|MethodComparison|\bexplain\(|standard_methods", [r"\bPan\b", r"IJCAI"]),
    "expected gradients": (r"FromData", [r"Erion"]),
    "the VADER data": (r"\.lexicon|zoo\.load\(\"tweets\"\)", [r"Hutto"]),
}

# Checks that other engineers' notebooks do not pass yet: xfail ONLY until they are fixed (then delete the entry).
KNOWN: dict = {}


def params(check):
    out = []
    for path in NOTEBOOKS:
        reason = KNOWN.get((check, path.stem))
        marks = [pytest.mark.xfail(reason=f"{path.stem}: {reason} (temporary; fix the notebook, then delete the "
                                   "entry in KNOWN)", strict=False)] if reason else []
        out.append(pytest.param(path, id=path.stem, marks=marks))
    return out


def read(path):
    return nbformat.read(path, as_version=4)


def markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def head(nb, cells=3) -> str:
    """The first markdown cells: where goals, time and prerequisites belong."""
    return "\n".join(c.source for c in [c for c in nb.cells if c.cell_type == "markdown"][:cells])


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("path", params("learning_goals"))
def test_learning_goals(path):
    assert "Learning goals" in head(read(path)), "state the learning goals in a markdown cell at the top"


@pytest.mark.parametrize("path", params("time_and_prerequisites"))
def test_time_and_prerequisites(path):
    top = head(read(path))
    assert re.search(r"\b\d+\s*(min|minutes|h|hours?)\b", top), "give a time estimate at the top (e.g. '40 minutes')"
    assert re.search(r"prerequisite", top, re.I), "name the prerequisites at the top ('Prerequisites: ...')"


@pytest.mark.parametrize("path", params("exercises"))
def test_at_least_two_predict_then_check_exercises(path):
    n = sum("check(" in c.source for c in code_cells(read(path)))
    assert n >= 2, f"{n} cells call check(...); the course asks for at least two predict-then-check exercises"


@pytest.mark.parametrize("path", params("solutions"))
def test_solutions_follow_the_course_scheme(path):
    nb = read(path)
    tagged = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert tagged, f"no cell tagged 'solution' (scheme: see {Path(__file__).name}'s docstring)"
    for c in tagged:
        assert c.cell_type == "markdown", "a solution is a markdown cell"
        assert c.metadata.get("jupyter", {}).get("source_hidden") is True, "a solution cell has its source hidden"
        assert SOLUTION_HEADING in c.source and "<details>" in c.source and "</details>" in c.source, \
            f"a solution is wrapped in <details><summary><b>{SOLUTION_HEADING}</b></summary> ... </details>"
    untagged = [c.source[:60] for c in nb.cells if c.cell_type == "markdown" and "solution" not in
                c.metadata.get("tags", []) and re.search(r"<summary>[^<]*solution", c.source, re.I)]
    assert not untagged, f"solutions outside the scheme: {untagged}"


@pytest.mark.parametrize("path", params("executed"))
def test_committed_executed_without_errors(path):
    nb = read(path)
    cells = code_cells(nb)
    unexecuted = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()
                  and c.execution_count is None]
    assert not unexecuted, f"code cells {unexecuted} were not executed: commit the notebook executed " \
                           "(make notebooks)"
    errors = [(i, o.get("ename")) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert not errors, f"error outputs in cells {errors}"
    counts = [c.execution_count for c in cells if c.execution_count is not None]
    assert counts == sorted(counts), "cells were executed out of order: re-run the whole notebook"


@pytest.mark.parametrize("path", params("sources"))
def test_cites_its_sources(path):
    nb = read(path)
    code = "\n".join(c.source for c in code_cells(nb))
    text = markdown(nb)
    missing = [f"{what} ({' + '.join(cites)})" for what, (uses, cites) in SOURCES.items()
               if re.search(uses, code) and not all(re.search(c, text) for c in cites)]
    assert not missing, f"uses but does not cite: {missing}"


@pytest.mark.parametrize("path", params("public_api"))
def test_imports_only_the_public_api(path):
    code = "\n".join(c.source for c in code_cells(read(path)))
    private = sorted(set(re.findall(r"attrkit\._[A-Za-z]\w*", code)))
    assert not private, f"imports private modules {private}; use the public API"


# ---- determinism: run twice, compare text outputs --------------------------------------------------------------

def sanitizers():
    cfg = configparser.ConfigParser()
    cfg.read(SANITIZE)
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def text_outputs(nb) -> list:
    """(cell index, kind, sanitised text) for every text/plain and stream output, as nbval compares them;
    cells tagged nbval-ignore-output or nbval-skip are left out, as nbval leaves them out."""
    rules, out = sanitizers(), []
    for i, c in enumerate(nb.cells):
        tags = c.metadata.get("tags", [])
        if c.cell_type != "code" or "nbval-ignore-output" in tags or "nbval-skip" in tags:
            continue
        for o in c.outputs:
            if o.output_type == "stream":
                kind, text = o.name, o.text
            elif o.output_type in ("execute_result", "display_data") and "text/plain" in o.get("data", {}):
                kind, text = "text/plain", o.data["text/plain"]
            elif o.output_type == "error":
                kind, text = "error", f"{o.ename}: {o.evalue}"
            else:
                continue
            if out and kind in ("stdout", "stderr") and out[-1][:2] == (i, kind):
                out[-1] = (i, kind, out[-1][2] + text)  # one stream may arrive in several chunks: join them
            else:
                out.append((i, kind, text))
    return [(i, kind, sanitise(text, rules)) for i, kind, text in out]


def sanitise(text, rules):
    for regex, replace in rules:
        text = regex.sub(replace, text)
    return text


def run(path) -> tuple[list, float]:
    from nbclient import NotebookClient

    nb = read(path)
    start = time.monotonic()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return text_outputs(nb), time.monotonic() - start


DETERMINISM = [p for p in NOTEBOOKS if os.environ.get("ATTRKIT_DETERMINISM") == "all" or p.stem in DETERMINISM_SUBSET]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in DETERMINISM])
def test_two_runs_give_the_same_text_outputs(path, monkeypatch):
    monkeypatch.setenv("ATTRKIT_PROGRESS", "0")
    first, seconds = run(path)
    second, _ = run(path)
    assert [o for o in first if o[1] == "error"] == []
    diff = [(a, b) for a, b in zip(first, second) if a != b]
    assert len(first) == len(second) and not diff, f"outputs differ between two runs: {diff[:3]}"
    assert seconds < 90, f"{path.name} took {seconds:.0f} s; the course asks for under 60 s on 2 CPU cores"
