"""Estimate each notebook's study time from what a student has to read, run and answer (re-run on new notebooks).

    python scripts/course_times.py [NOTEBOOK ...]

The model (minutes): prose words / 100 (technical text with formulas, read once carefully) + code lines / 6
(read and understood, comments excluded) + solution words / 150 + 3 per exercise (think, answer, read the
solution) + 6 per explorer + 0.5 per figure + the notebook's own run time (from the committed cells' execution
timestamps). "For instructors" and "Sources" sections count as prose. The rates were chosen so that the total
matches the student walk-through of review-2026-12/pedagogy.md (7.5–8 h for the ten notebooks); it is a model, not
a timing of students: use it to compare notebooks and to see a change coming.
"""
import argparse
import datetime
import re
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
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
