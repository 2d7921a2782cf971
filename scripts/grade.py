"""Grade filled-in student copies locally with nbgrader and print the points per exercise.

    python scripts/grading_release.py                     # once: the nbgrader course in build/grading
    python scripts/grade.py my_copy/03_integrated_gradients.ipynb [--student ada] [--course build/grading]

The submission is copied to <course>/submitted/<student>/<assignment>/ and graded by ``nbgrader autograde``
(locked test cells are restored from the source first, so a student cannot edit a test to pass it). The
scores come from nbgrader's gradebook. Exit status 0 whatever the score; 2 if nbgrader itself fails.
"""
import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grading_release import ROOT, nbgrader  # noqa: E402


def grade(submissions, course: Path, student="student", assignment="attrkit") -> dict:
    """Autograde `submissions` (notebook paths) for `student`; return {grade_id: (score, max_score)}."""
    from nbgrader.api import Gradebook

    course = course.resolve()
    if not (course / "gradebook.db").exists():
        raise SystemExit(f"no nbgrader course in {course}: run scripts/grading_release.py first")
    folder = course / "submitted" / student / assignment
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for path in map(Path, submissions):
        if not (course / "source" / assignment / path.name).exists():
            raise SystemExit(f"{path.name} is not a notebook of assignment {assignment!r} (see {course}/source)")
        shutil.copy(path, folder / path.name)
    nbgrader(course, "autograde", assignment, "--student", student, "--force")
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for path in map(Path, submissions):
            notebook = gb.find_submission_notebook(path.stem, assignment, student)
            for g in sorted(notebook.grades, key=lambda g: g.name):
                scores[g.name.removesuffix("_test")] = (g.score, g.max_score)
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", nargs="+", type=Path, help="filled-in notebooks of one student")
    parser.add_argument("--course", type=Path, default=ROOT / "build" / "grading")
    parser.add_argument("--assignment", default="attrkit")
    parser.add_argument("--student", default="student")
    args = parser.parse_args(argv)
    try:
        scores = grade(args.submissions, args.course, args.student, args.assignment)
    except RuntimeError as err:
        print(err, file=sys.stderr)
        return 2
    for name, (score, top) in scores.items():
        print(f"{name:40s} {score:g} / {top:g}")
    total, top = sum(s for s, _ in scores.values()), sum(t for _, t in scores.values())
    print(f"{'total':40s} {total:g} / {top:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
