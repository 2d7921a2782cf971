"""Set reveal.js slide metadata on notebooks from their headings, so `nbconvert --to slides` gives a lecture deck.

    python scripts/add_slide_metadata.py notebooks/03_integrated_gradients.ipynb --out build/slides-src
    python scripts/add_slide_metadata.py --inplace notebooks/[0-9]*.ipynb     (commit the result, if wanted)

Rules (cell.metadata.slideshow.slide_type):
- a markdown cell opening with ``#`` or ``##`` starts a new slide; ``###`` a sub-slide (reveal.js: down arrow);
- solution cells and the "For instructors" section are ``skip`` (``--solutions notes`` makes them speaker notes);
- any other cell continues the current (sub-)slide, unless that would make it taller than about one screen
  (``--max-lines``, counting wrapped markdown lines, code lines, text output lines, and 12 lines per figure):
  then it opens a sub-slide of its own.
Headings are the notebooks' own structure, so re-running the script after an edit gives the same deck shape.
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from student_release import INSTRUCTOR_HEADING  # noqa: E402

FIGURE_LINES = 12
WRAP = 95  # characters per rendered line of markdown on a 960-px slide


def height(cell) -> int:
    """Rough rendered height of a cell, in lines."""
    if cell.cell_type == "markdown":
        return sum(max(1, -(-len(line) // WRAP)) for line in cell.source.splitlines()) + 1
    lines = len(cell.source.splitlines()) + 1
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data or "image/svg+xml" in data:
            lines += FIGURE_LINES
        else:
            text = out.get("text") or data.get("text/plain", "")
            lines += min(len(str(text).splitlines()), 15)
    return lines


def slide_type(cell, used: int, max_lines: int, solutions: str, in_instructors: bool) -> str:
    tags = cell.metadata.get("tags", [])
    if "solution" in tags or "instructor" in tags or in_instructors:
        return "notes" if solutions == "notes" else "skip"
    if cell.cell_type == "markdown":
        heading = re.match(r"\s*(#{1,6})\s", cell.source)
        if heading:
            return "slide" if len(heading.group(1)) <= 2 else "subslide"
    return "subslide" if used + height(cell) > max_lines and used > 0 else "-"


def with_slide_metadata(nb, max_lines=22, solutions="skip"):
    """Return a copy of `nb` with slideshow metadata on every cell (see the module's rules)."""
    nb = nbformat.from_dict(nb)
    used, in_instructors = 0, False
    for cell in nb.cells:
        if cell.cell_type == "markdown" and re.match(r"\s*#{1,6}\s", cell.source):
            in_instructors = bool(INSTRUCTOR_HEADING.match(cell.source))
        kind = slide_type(cell, used, max_lines, solutions, in_instructors)
        cell.metadata["slideshow"] = {"slide_type": kind}
        if kind in ("slide", "subslide"):
            used = height(cell)
        elif kind == "-":
            used += height(cell)
    return nb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="write the annotated copies here")
    where.add_argument("--inplace", action="store_true", help="annotate the notebooks themselves")
    parser.add_argument("--max-lines", type=int, default=22)
    parser.add_argument("--solutions", choices=["skip", "notes"], default="skip")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        nb = with_slide_metadata(nbformat.read(path, as_version=4), args.max_lines, args.solutions)
        target = path if args.inplace else args.out / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        kinds = [c.metadata["slideshow"]["slide_type"] for c in nb.cells]
        print(f"{target}: {kinds.count('slide')} slides, {kinds.count('subslide')} sub-slides")


if __name__ == "__main__":
    sys.exit(main())
