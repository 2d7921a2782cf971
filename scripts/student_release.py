"""Write a student release of the course: solutions removed, answer-revealing outputs cleared, checks recording.

    python scripts/student_release.py [--out build/student] [notebooks/00_start_here.ipynb ...]
    python -m attrkit student [--out ...]                      (the launcher's equivalent)

Per notebook (nbconvert preprocessors, in this order):
1. ``TagRemovePreprocessor`` drops every cell tagged ``solution`` (markdown or code) or ``instructor``, and
   ``InstructorSectionRemover`` a markdown cell headed "For instructors".
2. ``ExerciseOutputClearer`` clears the outputs of the cells whose output gives an answer away: exercise cells
   (code calling ``check(``, or tagged ``exercise-code``) and cells tagged ``answer-output``. Every other
   output, the figures the text refers to included, stays.
3. ``RecordModeCell`` puts one code cell after Colab's install cell (before the first code cell if there is
   none) that sets ``ATTRKIT_EXERCISE_MODE=record``: ``attrkit.exercise.check`` then appends {name, answer,
   correct, notebook, time} to ``attrkit_answers.jsonl`` (or ``$ATTRKIT_EXERCISE_LOG``) and prints only
   "recorded", never the truth. The cell and a last "finished?" cell note when the student opens and finishes
   the notebook, so that ``scripts/course_times.py --logs`` can measure how long a class takes per notebook.
Then a short README.md for students is written next to the notebooks. The source notebooks are not touched.
"""
import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor, Preprocessor, TagRemovePreprocessor
from traitlets import Unicode

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_TAGS = {"solution", "instructor"}
ANSWER_OUTPUT_TAG = "answer-output"
EXERCISE_TAG = "exercise-code"
SETUP_TAG = "student-setup"
INSTRUCTOR_HEADING = re.compile(r"\s*#+\s*For instructors\b", re.IGNORECASE)

FINISH_TAG = "student-finish"
INSTALL_TAG = "install-if-missing"

RECORD_CELL = '''\
# Student copy: your answers are recorded (in attrkit_answers.jsonl), not marked here; run this before the rest.
import os

os.environ["ATTRKIT_EXERCISE_MODE"] = "record"
os.environ.setdefault("ATTRKIT_EXERCISE_LOG", "attrkit_answers.jsonl")
os.environ["ATTRKIT_NOTEBOOK"] = "{notebook}"

from attrkit import exercise

exercise.mark("open")  # the time you started: your instructor plans the course's times from the class's logs'''

FINISH_MARKDOWN = """**Finished?** Run the cell below: it notes in your answers log the time you finished this notebook
(only the time; your instructor uses the class's times to plan how long each notebook takes)."""
FINISH_CELL = '''from attrkit import exercise

exercise.mark("done")'''

README = """\
# attrkit: student copy

These notebooks are your copy of the course on Integrated Gradients (IG) and Adversarial Gradient
Integration (AGI). Start with `00_start_here.ipynb` and follow the "Next" line at the end of each notebook.

- **Run every cell from the top** (Run ▸ Run All Cells, then work down). The first code cell of every notebook
  switches the exercises to *record* mode: when you run a "predict, then check" cell, `check` writes your
  answer to `attrkit_answers.jsonl` in this folder and prints `recorded`. It does not tell you whether you are
  right: that is for the discussion in class.
- **Exercises**: replace each `...` with your prediction (or your code), then run the cell. You may change an
  answer and run the cell again; every run is recorded, the last one counts.
- **Hand in** the notebooks and `attrkit_answers.jsonl` as your instructor asks. Besides your answers, the log
  holds the time of each answer and the times you opened and finished each notebook (run its last cell when
  you are done): nothing else.
- Everything runs offline on a laptop CPU; each notebook runs top to bottom in about a minute.
- Explorers (sliders) need a live kernel: open the notebooks in JupyterLab (`jupyter lab`).
"""


def is_exercise(cell) -> bool:
    tags = set(cell.metadata.get("tags", []))
    return cell.cell_type == "code" and (EXERCISE_TAG in tags or "check(" in cell.source)


class ExerciseOutputClearer(ClearOutputPreprocessor):
    """ClearOutputPreprocessor, restricted to exercise cells and cells tagged ``answer-output``."""

    def preprocess_cell(self, cell, resources, index):
        if is_exercise(cell) or ANSWER_OUTPUT_TAG in cell.metadata.get("tags", []):
            return super().preprocess_cell(cell, resources, index)
        return cell, resources


class InstructorSectionRemover(Preprocessor):
    """Drop markdown cells that open with a "For instructors" heading (00 has one; it names the solution scheme).

    Notebook authors may instead tag such cells ``instructor``; this catches the untagged ones.
    """

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if not (c.cell_type == "markdown" and INSTRUCTOR_HEADING.match(c.source))]
        return nb, resources


class RecordModeCell(Preprocessor):
    """Insert the cell that switches ``check`` to record mode (after Colab's install cell, which must run first
    to make ``attrkit`` importable there), and a last cell that notes the time the student finished."""

    source = Unicode(RECORD_CELL).tag(config=True)

    def preprocess(self, nb, resources):
        if any(SETUP_TAG in c.metadata.get("tags", []) for c in nb.cells):
            return nb, resources  # already a student copy
        codes = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        first = codes[0] if codes else len(nb.cells)
        if codes and INSTALL_TAG in nb.cells[first].metadata.get("tags", []):
            first += 1
        name = resources.get("notebook", "")
        nb.cells.insert(first, nbformat.v4.new_code_cell(self.source.format(notebook=name),
                                                         metadata={"tags": [SETUP_TAG]}))
        nb.cells += [nbformat.v4.new_markdown_cell(FINISH_MARKDOWN, metadata={"tags": [FINISH_TAG]}),
                     nbformat.v4.new_code_cell(FINISH_CELL, metadata={"tags": [FINISH_TAG]})]
        return nb, resources


def student_notebook(nb, name: str = ""):
    """Return the student version of a notebook node (a new object; `nb` is not modified); ``name`` (the
    notebook's stem) labels the student's log lines."""
    nb = nbformat.from_dict(nb)  # deep copy
    resources = {"notebook": name}
    remove = TagRemovePreprocessor(remove_cell_tags=SOLUTION_TAGS, enabled=True)
    for pre in (remove, InstructorSectionRemover(), ExerciseOutputClearer(), RecordModeCell()):
        nb, resources = pre.preprocess(nb, resources)
    return nb


def course_notebooks(src: Path):
    return sorted(src.glob("[0-9]*.ipynb"))


def build(out: Path, notebooks=None, src: Path = ROOT / "notebooks") -> list:
    """Write the student release of `notebooks` (default: the course's) into `out`; return the written paths."""
    notebooks = [Path(p) for p in notebooks] if notebooks else course_notebooks(src)
    if not notebooks:
        raise SystemExit(f"no notebooks found in {src}: pass notebook paths, or run from the repository root")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = student_notebook(nbformat.read(path, as_version=4), path.stem)
        target = out / path.name
        nbformat.write(nb, target)
        written.append(target)
    (out / "README.md").write_text(README)
    sanitize = src / "nbval_sanitize.cfg"
    if sanitize.exists():
        shutil.copy(sanitize, out / sanitize.name)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to release (default: notebooks/[0-9]*.ipynb)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "student", help="output folder")
    args = parser.parse_args(argv)
    written = build(args.out, args.notebooks)
    print(f"student release: {len(written)} notebooks and README.md in {args.out}")


if __name__ == "__main__":
    sys.exit(main())
