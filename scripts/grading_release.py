"""Build an nbgrader course from the course notebooks: autograded code exercises with points.

    python scripts/grading_release.py [--course build/grading] [--assignment attrkit] [NOTEBOOK ...]

Every code cell tagged ``exercise-code`` becomes an nbgrader *autograded answer* cell, and the first code cell
after it that calls ``check(`` (or is tagged ``exercise-test``) becomes its locked *autograder test* cell, worth
``metadata.attrkit.points`` points (default 1). The reference answer is the next code cell tagged ``solution``
(between the exercise and its test); it goes into the nbgrader source between ``### BEGIN SOLUTION`` and
``### END SOLUTION``. ``check`` never raises, so the test cell asserts its result (the check call is rewritten
with the ``ast`` module: ``check(...)`` -> ``assert check(...), ...``; ``ok = check(...)`` gets ``assert ok``).
Markdown solutions and "For instructors" cells are dropped, as in the student release.

Then ``nbgrader generate_assignment`` writes the student copies to <course>/release/<assignment>/, and the stub of
each exercise (the student's starting code, with its docstring) replaces nbgrader's "YOUR CODE HERE" stub.
Notebooks without code exercises are skipped. Grade a filled-in copy with scripts/grade.py.
"""
import argparse
import ast
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import TagRemovePreprocessor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from student_release import EXERCISE_TAG, InstructorSectionRemover, ROOT, course_notebooks  # noqa: E402

TEST_TAG = "exercise-test"
NBGRADER = [sys.executable, "-m", "nbgrader"]
CONFIG = '''\
c = get_config()  # noqa: F821  (nbgrader's config file)
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = "sqlite:///" + {db!r}
c.Execute.timeout = 300
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
'''


CHECKS = ("check", "check_function", "check_array")  # attrkit.exercise's checks: each returns True when right


def is_test(cell) -> bool:
    return cell.cell_type == "code" and (TEST_TAG in cell.metadata.get("tags", []) or
                                         any(f"{name}(" in cell.source for name in CHECKS))


def _is_check_call(node) -> bool:
    return (isinstance(node, ast.Call) and
            (getattr(node.func, "id", None) in CHECKS or getattr(node.func, "attr", None) in CHECKS))


def assertify(source: str, label: str) -> str:
    """Make a check cell fail when the check fails: assert the result of its last ``check(...)`` call."""
    tree = ast.parse(source)
    stmts = [s for s in tree.body if any(_is_check_call(n) for n in ast.walk(s))]
    if not stmts:
        raise ValueError(f"{label}: the test cell calls no check(...); add one or tag the cell differently")
    last = stmts[-1]
    lines = source.splitlines()
    message = f"{label}: not right yet"
    if isinstance(last, ast.Assign) and len(last.targets) == 1 and isinstance(last.targets[0], ast.Name):
        lines.insert(last.end_lineno, f"assert {last.targets[0].id}, {message!r}")
    elif isinstance(last, ast.Expr) and _is_check_call(last.value):
        first = lines[last.lineno - 1]
        lines[last.lineno - 1] = first[:last.col_offset] + "_passed = " + first[last.col_offset:]
        lines.insert(last.end_lineno, f"assert _passed, {message!r}")
    else:
        raise ValueError(f"{label}: write the check as `ok = check(...)` or a bare `check(...)` line")
    return "\n".join(lines)


def nbgrader_meta(grade_id, *, solution, grade, points=0):
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def grading_source(nb, stem: str):
    """Return (source notebook with nbgrader metadata, {grade_id: student stub}); nothing when no code exercise."""
    nb = nbformat.from_dict(nb)
    cells, stubs, n = nb.cells, {}, 0
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or EXERCISE_TAG not in cell.metadata.get("tags", []):
            continue
        n += 1
        test = next((j for j in range(i + 1, len(cells)) if is_test(cells[j])), None)
        if test is None:
            raise ValueError(f"{stem}: exercise {n} (cell {i}) has no check/test cell after it")
        sol = next((j for j in range(i + 1, test) if cells[j].cell_type == "code"
                    and "solution" in cells[j].metadata.get("tags", [])), None)
        answer_id = f"{stem}_ex{n}"
        stubs[answer_id] = cell.source
        if sol is not None:
            cell.source = f"### BEGIN SOLUTION\n{cells[sol].source}\n### END SOLUTION"
        cell.metadata["nbgrader"] = nbgrader_meta(answer_id, solution=True, grade=False)
        points = cells[test].metadata.get("attrkit", {}).get("points", 1)
        cells[test].source = assertify(cells[test].source, f"exercise {n}")
        cells[test].metadata["nbgrader"] = nbgrader_meta(f"{answer_id}_test", solution=False, grade=True,
                                                         points=points)
    if not n:
        return None, {}
    remove = TagRemovePreprocessor(remove_cell_tags={"solution", "instructor"}, enabled=True)
    nb, _ = remove.preprocess(nb, {})
    nb, _ = InstructorSectionRemover().preprocess(nb, {})
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb, stubs


def nbgrader(course: Path, *args):
    """Run one nbgrader command in the course folder (its nbgrader_config.py); raise with its output if it fails."""
    env = {k: v for k, v in os.environ.items() if k != "ATTRKIT_EXERCISE_MODE"}  # grading needs check's verdict
    env.setdefault("ATTRKIT_PROGRESS", "0")
    # nbgrader runs `alembic` (its database migrations) from PATH: the venv's bin/ may not be on it
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    run = subprocess.run([*NBGRADER, *args], cwd=course, env=env, capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{run.stdout}\n{run.stderr}")
    return run


def build(course: Path, notebooks=None, assignment="attrkit") -> list:
    """Write the nbgrader course (source/, release/, gradebook.db) into `course`; return the released paths."""
    notebooks = [Path(p) for p in notebooks] if notebooks else course_notebooks(ROOT / "notebooks")
    course = course.resolve()
    source = course / "source" / assignment
    source.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(CONFIG.format(root=str(course), db=str(course / "gradebook.db")))
    stubs = {}
    for path in notebooks:
        nb, found = grading_source(nbformat.read(path, as_version=4), path.stem)
        if nb is not None:
            nbformat.write(nb, source / path.name)
            stubs.update(found)
    if not stubs:
        raise SystemExit("no cell tagged 'exercise-code' in these notebooks: nothing to grade")
    nbgrader(course, "generate_assignment", assignment, "--force")
    released = sorted((course / "release" / assignment).glob("*.ipynb"))
    for path in released:  # the student starts from the exercise's own stub, not nbgrader's generic one
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in stubs:
                cell.source = stubs[grade_id]
        nbformat.write(nb, path)
    return released


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: notebooks/[0-9]*.ipynb")
    parser.add_argument("--course", type=Path, default=ROOT / "build" / "grading")
    parser.add_argument("--assignment", default="attrkit")
    args = parser.parse_args(argv)
    released = build(args.course, args.notebooks, args.assignment)
    print(f"nbgrader release: {len(released)} notebooks in {args.course / 'release' / args.assignment}")


if __name__ == "__main__":
    sys.exit(main())
