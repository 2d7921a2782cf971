"""Estimate each notebook's study time from what a student has to read, run and answer (re-run on new notebooks).

    python scripts/course_times.py [NOTEBOOK ...]

The model (minutes): prose words / 100 (technical text with formulas, read once carefully) + code lines / 6
(read and understood, comments excluded) + solution words / 150 + 3 per exercise (think, answer, read the
solution) + 6 per explorer + 0.5 per figure + the notebook's own run time (from the committed cells' execution
timestamps). "For instructors" and "Sources" sections count as prose. The rates were chosen so that the total
matches the student walk-through of review-2026-12/pedagogy.md (7.5–8 h for the ten notebooks); it is a model, not
a timing of students: use it to compare notebooks and to see a change coming.

    python scripts/course_times.py --logs LOG_OR_FOLDER ...

**Measured times** from a class: the student release (``make student``) logs, in record mode, when each student
opens a notebook, every answer, and when they run its last cell ("finished?"), with the time of each. Collect the
students' ``attrkit_answers.jsonl`` files (one per student, any file names, folders are searched) and this prints,
per notebook, how many students finished it and the median and quartiles of their study time, beside the stated
time. A student's time on a notebook is the sum of the gaps between its consecutive logged events, each gap
counted only up to ``IDLE_MINUTES`` (a longer gap is a break: the student left and came back later).
"""
import argparse
import datetime
import json
import re
import statistics
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from student_release import ROOT, course_notebooks, is_exercise  # noqa: E402

RATES = {"prose_wpm": 100, "code_lpm": 6, "solution_wpm": 150, "exercise": 3, "explorer": 6, "figure": 0.5}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def counts(nb) -> dict:
    sol = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    code = [c for c in nb.cells if c.cell_type == "code"]
    outputs = [o for c in code for o in c.get("outputs", [])]
    stamps = [datetime.datetime.fromisoformat(v.replace("Z", "+00:00")) for c in code
              for k, v in c.metadata.get("execution", {}).items() if k in ("iopub.execute_input", "shell.execute_reply")]
    return {
        "prose": sum(len(c.source.split()) for c in nb.cells if c.cell_type == "markdown" and c not in sol),
        "solution": sum(len(c.source.split()) for c in sol),
        "code": sum(1 for c in code if c not in sol for line in c.source.splitlines()
                    if line.strip() and not line.strip().startswith("#")),
        "exercises": sum(1 for c in code if is_exercise(c) and "..." in c.source),
        "explorers": sum(1 for c in code if any(WIDGET_VIEW in o.get("data", {}) for o in c.get("outputs", []))),
        "figures": sum(1 for o in outputs if "image/png" in o.get("data", {})),
        "run_s": (max(stamps) - min(stamps)).total_seconds() if stamps else 0.0,
    }


def minutes(c: dict) -> float:
    r = RATES
    return (c["prose"] / r["prose_wpm"] + c["code"] / r["code_lpm"] + c["solution"] / r["solution_wpm"]
            + r["exercise"] * c["exercises"] + r["explorer"] * c["explorers"] + r["figure"] * c["figures"]
            + c["run_s"] / 60)


def stated(nb) -> str:
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")  # cell 0 is Colab's install cell
    m = re.search(r"\*\*Time:?\*\*:?\s*(?:about\s*)?(\d+)", first)
    return m.group(1) if m else "?"


IDLE_MINUTES = 30


def study_minutes(lines: list[dict]) -> dict[str, float]:
    """One student's log lines -> minutes spent per notebook they finished (see the module docstring)."""
    events: dict[str, list[datetime.datetime]] = {}
    finished = set()
    for line in lines:
        notebook, stamp = line.get("notebook"), line.get("time")
        if not notebook or not stamp:
            continue  # a line written outside the student release (no notebook name) says nothing about time
        events.setdefault(notebook, []).append(datetime.datetime.fromisoformat(stamp))
        if line.get("event") == "done":
            finished.add(notebook)
    minutes = {}
    for notebook in finished:
        times = sorted(events[notebook])
        gaps = [(b - a).total_seconds() / 60 for a, b in zip(times, times[1:])]
        minutes[notebook] = sum(g for g in gaps if g <= IDLE_MINUTES)
    return minutes


def read_log(path: Path) -> list[dict]:
    lines = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text.strip():
            try:
                lines.append(json.loads(text))
            except json.JSONDecodeError:
                print(f"{path}:{number}: not a JSON line, skipped", file=sys.stderr)
    return lines


def measured(paths) -> dict[str, list[float]]:
    """Every student's minutes per notebook, from their logs (files, or folders searched for *.jsonl)."""
    files = [f for p in map(Path, paths) for f in (sorted(p.rglob("*.jsonl")) if p.is_dir() else [p])]
    per_notebook: dict[str, list[float]] = {}
    for f in files:
        for notebook, minutes in study_minutes(read_log(f)).items():
            per_notebook.setdefault(notebook, []).append(minutes)
    return per_notebook


def print_measured(per_notebook: dict[str, list[float]], notebooks_dir: Path) -> None:
    print(f"{'notebook':28s} {'students':>8s} {'median':>6s} {'quartiles':>11s} {'stated':>6s}")
    for name in sorted(per_notebook):
        times = sorted(per_notebook[name])
        q1, _, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (times[0],) * 3
        path = notebooks_dir / f"{name}.ipynb"
        said = stated(nbformat.read(path, as_version=4)) if path.exists() else "?"
        print(f"{name:28s} {len(times):8d} {statistics.median(times):6.0f} {q1:5.0f}–{q3:<5.0f} {said:>6s}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--logs", nargs="+", type=Path, help="students' attrkit_answers.jsonl files or folders: "
                        "print measured times instead of the model's")
    args = parser.parse_args(argv)
    if args.logs:
        per_notebook = measured(args.logs)
        if not per_notebook:
            raise SystemExit("no finished notebook in these logs: students run each notebook's last cell when done")
        return print_measured(per_notebook, ROOT / "notebooks")
    paths = args.notebooks or course_notebooks(ROOT / "notebooks")
    print(f"{'notebook':28s} {'prose':>6s} {'code':>5s} {'ex':>3s} {'expl':>4s} {'figs':>4s} {'run s':>6s} "
          f"{'stated':>6s} {'model':>6s}")
    total = 0.0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        c, m = counts(nb), minutes(counts(nb))
        total += m
        print(f"{path.stem:28s} {c['prose']:6d} {c['code']:5d} {c['exercises']:3d} {c['explorers']:4d} "
              f"{c['figures']:4d} {c['run_s']:6.1f} {stated(nb):>6s} {m:6.0f}")
    print(f"{'total':28s} {'':>41s} {total:6.0f} min = {total / 60:.1f} h")


if __name__ == "__main__":
    sys.exit(main())
