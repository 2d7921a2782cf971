"""Build an nbgrader course from the course notebooks: autograded code exercises with points.

    python scripts/grading_release.py [--course build/grading] [--assignment attrkit] [NOTEBOOK ...]

Every code cell tagged ``exercise-code`` becomes an nbgrader *autograded answer* cell, and the first code cell
after it that calls ``check(`` (or is tagged ``exercise-test``) becomes its locked *autograder test* cell, worth
``metadata.attrkit.points`` points (default 1). The reference answer is a code cell tagged ``solution`` between
the exercise and its test or, as the course writes them, the ```python blocks of the markdown solution after the
test (the stub's statements it does not define are kept); it goes into the nbgrader source between
``### BEGIN SOLUTION`` and ``### END SOLUTION``. ``check`` never raises, so the test cell is rewritten with the
``ast`` module to fail when the check fails: one check gets ``assert`` on its result (``ok = check(...)`` ->
``assert ok``); a cell with several checks (03's three functions) ends with the points for the share of checks
passed, nbgrader's partial credit, and fails when none passes.
Markdown solutions and "For instructors" cells are dropped, as in the student release.

Then ``nbgrader generate_assignment`` writes the student copies to <course>/release/<assignment>/, and the stub of
each exercise (the student's starting code, with its docstring) replaces nbgrader's "YOUR CODE HERE" stub.
Notebooks without code exercises are skipped. Grade a filled-in copy with scripts/grade.py.
"""
import argparse
import ast
import os
import re
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
FENCED = re.compile(r"```(?:python|py)\s*\n(.*?)```", re.S)


def is_test(cell) -> bool:
    return cell.cell_type == "code" and (TEST_TAG in cell.metadata.get("tags", []) or
                                         any(f"{name}(" in cell.source for name in CHECKS))


def _is_check_call(node) -> bool:
    return (isinstance(node, ast.Call) and
            (getattr(node.func, "id", None) in CHECKS or getattr(node.func, "attr", None) in CHECKS))


def assertify(source: str, label: str, points=1) -> str:
    """Make a check cell fail when its checks fail (``check`` prints its verdict and returns it, never raises).

    One check: assert its result. Several (one per function of a multi-part exercise): the cell ends with the
    points for the share of checks passed, which nbgrader reads as partial credit (a cell's last value), and still
    fails, with the message, when none passes.
    """
    tree = ast.parse(source)
    stmts = [s for s in tree.body if any(_is_check_call(n) for n in ast.walk(s))]
    if not stmts:
        raise ValueError(f"{label}: the test cell calls no check(...); add one or tag the cell differently")
    lines, message, names = source.splitlines(), f"{label}: not right yet", []
    for k, stmt in reversed(list(enumerate(stmts, 1))):  # bottom up: an inserted line moves only later ones
        name = "_passed" if len(stmts) == 1 else f"_passed{k}"
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            if len(stmts) == 1:
                name = stmt.targets[0].id
            else:  # `_ = check(...)` three times: keep each result under its own name
                lines.insert(stmt.end_lineno, f"{name} = {stmt.targets[0].id}")
        elif isinstance(stmt, ast.Expr) and _is_check_call(stmt.value):
            first = lines[stmt.lineno - 1]
            lines[stmt.lineno - 1] = first[:stmt.col_offset] + f"{name} = " + first[stmt.col_offset:]
        else:
            raise ValueError(f"{label}: write the check as `ok = check(...)` or a bare `check(...)` line")
        names.insert(0, name)
    if len(stmts) == 1:
        lines.insert(stmts[0].end_lineno, f"assert {names[0]}, {message!r}")
    else:
        lines += [f"_passed = [{', '.join(names)}]", f"assert any(_passed), {message!r}",
                  f"{points} * sum(map(bool, _passed)) / len(_passed)  # partial credit: the share of checks passed"]
    return "\n".join(lines)


def defined_names(stmt) -> set:
    """The names a top-level statement defines (a def, a class, an assignment)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
    return {t.id for t in targets if isinstance(t, ast.Name)}


def reference_answer(stub: str, solution_markdown: str):
    """The exercise's reference answer from its markdown solution (the course writes them as ```python blocks in a
    <details> cell after the check): the solution's definitions, plus the stub's statements the solution does
    not define (e.g. a number it states in prose). None when the blocks define nothing of the stub's."""
    code = "\n\n\n".join(block.strip() for block in FENCED.findall(solution_markdown))
    try:
        solved = set().union(*map(defined_names, ast.parse(code).body)) if code else set()
        stub_body = ast.parse(stub).body
    except SyntaxError:
        return None
    if not solved & set().union(*map(defined_names, stub_body)):
        return None
    lines = stub.splitlines()
    kept = ["\n".join(lines[min([s.lineno] + [d.lineno for d in getattr(s, "decorator_list", [])]) - 1:s.end_lineno])
            for s in stub_body if not defined_names(s) & solved]
    return "\n\n\n".join([code] + kept)


def nbgrader_meta(grade_id, *, solution, grade, points=0):
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def is_solution(cell, kind) -> bool:
    return cell.cell_type == kind and "solution" in cell.metadata.get("tags", [])


def solution_code(cells, exercise: int, test: int):
    """The reference answer of the exercise at `exercise` whose check cell is at `test`: a code cell tagged
    ``solution`` between the two, or else the code in the first markdown solution after the check (before the
    next exercise). None when there is neither."""
    code = next((cells[j].source for j in range(exercise + 1, test) if is_solution(cells[j], "code")), None)
    if code is not None:
        return code
    for cell in cells[test + 1:]:
        if cell.cell_type == "code" and EXERCISE_TAG in cell.metadata.get("tags", []):
            return None
        if is_solution(cell, "markdown"):
            return reference_answer(cells[exercise].source, cell.source)
    return None


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
        answer_id = f"{stem}_ex{n}"
        stubs[answer_id] = cell.source
        reference = solution_code(cells, i, test)
        if reference is not None:
            cell.source = f"### BEGIN SOLUTION\n{reference}\n### END SOLUTION"
        cell.metadata["nbgrader"] = nbgrader_meta(answer_id, solution=True, grade=False)
        points = cells[test].metadata.get("attrkit", {}).get("points", 1)
        cells[test].source = assertify(cells[test].source, f"{stem} exercise {n}", points)
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
