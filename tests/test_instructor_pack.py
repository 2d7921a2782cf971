"""The instructor pack: the student release, nbgrader grading, the book and the slides (scripts/*.py).

The slow tests (marked ``slow``) run notebooks through nbval, nbgrader, Sphinx or nbconvert in subprocesses.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import student_release  # noqa: E402
import grading_release  # noqa: E402

NOTEBOOKS = student_release.course_notebooks(ROOT / "notebooks")
FIXTURE = ROOT / "tests" / "fixtures" / "code_exercises.ipynb"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
       "ATTRKIT_PROGRESS": "0"}


def solution_lines(nb):
    """Distinctive lines of the solution cells' text (the <details> wrapper removed), not in any other cell."""
    lines, elsewhere = set(), set()
    for cell in nb.cells:
        text = re.sub(r"</?(details|summary|b)>", "", cell.source)
        found = {line.strip() for line in text.splitlines() if len(line.strip()) > 30}
        if "solution" in cell.metadata.get("tags", []):
            lines |= found
        else:
            elsewhere |= found  # e.g. a code solution repeats the exercise stub's `def` line
    return lines - elsewhere


def all_text(nb):
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")))
            parts.extend(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    student_release.build(out, NOTEBOOKS + [FIXTURE])
    return out


def test_the_release_has_every_notebook_and_a_readme(release):
    assert sorted(p.name for p in release.glob("*.ipynb")) == sorted(p.name for p in NOTEBOOKS + [FIXTURE])
    assert "record" in (release / "README.md").read_text()


@pytest.mark.parametrize("path", NOTEBOOKS + [FIXTURE], ids=lambda p: p.stem)
def test_no_solution_text_and_no_answer_output(release, path):
    source = nbformat.read(path, as_version=4)
    student = nbformat.read(release / path.name, as_version=4)
    text = all_text(student)
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)
    assert "Solution (instructors)" not in text
    leaked = [line for line in solution_lines(source) if line in text]
    assert not leaked, f"solution text in the student copy: {leaked[:3]}"
    for cell in student.cells:
        if student_release.is_exercise(cell):
            assert cell.outputs == [], f"an exercise cell keeps its output: {cell.source[:60]!r}"
    # the figures the text needs stay: every output of a non-exercise cell survives
    kept = sum(len(c.outputs) for c in source.cells if c.cell_type == "code" and not student_release.is_exercise(c)
               and "solution" not in c.metadata.get("tags", []))
    assert sum(len(c.get("outputs", [])) for c in student.cells) == kept
    first_code = next(c for c in student.cells if c.cell_type == "code")
    assert 'os.environ["ATTRKIT_EXERCISE_MODE"] = "record"' in first_code.source


def test_the_source_notebooks_are_not_touched(tmp_path):
    before = FIXTURE.read_bytes()
    student_release.build(tmp_path, [FIXTURE])
    assert FIXTURE.read_bytes() == before


def test_building_twice_inserts_one_record_cell(tmp_path):
    once = student_release.build(tmp_path / "a", [FIXTURE])[0]
    twice = student_release.build(tmp_path / "b", [once])[0]
    cells = nbformat.read(twice, as_version=4).cells
    assert sum(student_release.SETUP_TAG in c.metadata.get("tags", []) for c in cells) == 1


@pytest.mark.slow
def test_every_student_notebook_runs_under_nbval_lax(release):
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                          "--nbval-current-env", "."], cwd=release, env=ENV, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    log = release / "attrkit_answers.jsonl"
    if log.exists():  # record mode (attrkit.exercise) writes one JSON line per check
        records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        assert records and all({"name", "answer", "correct"} <= set(r) for r in records)


# --- grading ------------------------------------------------------------------------------------------------

def test_assertify_asserts_the_check_result():
    assigned = grading_release.assertify("a = 1\nok = check(a, 1)\nprint('done')", "ex")
    assert assigned.splitlines()[2] == "assert ok, 'ex: not right yet'"
    bare = grading_release.assertify("check(\n    a,\n    1)", "ex")
    assert bare.splitlines()[0] == "_passed = check(" and bare.splitlines()[-1].startswith("assert _passed")
    with pytest.raises(ValueError, match="calls no check"):
        grading_release.assertify("print(1)", "ex")


def test_the_grading_source_marks_exercises_and_tests():
    nb, stubs = grading_release.grading_source(nbformat.read(FIXTURE, as_version=4), "fx")
    meta = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
    assert set(meta) == {"fx_ex1", "fx_ex1_test", "fx_ex2", "fx_ex2_test"}
    assert meta["fx_ex1"].metadata["nbgrader"]["solution"] and not meta["fx_ex1"].metadata["nbgrader"]["grade"]
    assert meta["fx_ex2_test"].metadata["nbgrader"]["points"] == 1 and meta["fx_ex2_test"].metadata["nbgrader"]["locked"]
    assert "### BEGIN SOLUTION" in meta["fx_ex1"].source and "..." in stubs["fx_ex1"]
    assert not any("solution" in c.metadata.get("tags", []) for c in nb.cells)


def fill(released: Path, answers: dict, out: Path) -> Path:
    nb = nbformat.read(released, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


RIGHT = {"fx_ex1": "def path_points(x, baseline, alphas):\n"
                   "    return torch.stack([baseline + a * (x - baseline) for a in alphas])",  # a variant
         "fx_ex2": "def riemann_ig(x, baseline, grads):\n    return (x - baseline) * grads.sum(0) / len(grads)"}
WRONG = {"fx_ex1": RIGHT["fx_ex1"],
         "fx_ex2": "def riemann_ig(x, baseline, grads):\n    return x * grads.mean(0)  # the factor without x'"}


@pytest.mark.slow
def test_grading_scores_a_right_and_a_wrong_submission(tmp_path):
    pytest.importorskip("nbgrader", reason="the `instructor` extra (nbgrader) is not installed")
    fixture = tmp_path / "fx.ipynb"
    fixture.write_bytes(FIXTURE.read_bytes())
    course = tmp_path / "course"
    released = grading_release.build(course, [fixture], assignment="fx")
    assert [p.name for p in released] == ["fx.ipynb"]
    student_copy = nbformat.read(released[0], as_version=4)
    assert "BEGIN SOLUTION" not in all_text(student_copy) and "grads.mean(dim=0)" not in all_text(student_copy)

    import grade
    right = grade.grade([fill(released[0], RIGHT, tmp_path / "ada" / "fx.ipynb")], course, "ada", "fx")
    assert right == {"fx_ex1": (1, 1), "fx_ex2": (1, 1)}
    tampered = {**WRONG, "fx_ex2_test": "assert True"}  # editing a locked test cell must not help
    wrong = grade.grade([fill(released[0], tampered, tmp_path / "bob" / "fx.ipynb")], course, "bob", "fx")
    assert wrong == {"fx_ex1": (1, 1), "fx_ex2": (0, 1)}


# --- the book --------------------------------------------------------------------------------------------------

import html  # noqa: E402

import build_book  # noqa: E402


def letters(text):
    """Only the letters and digits, lower case: markup and escaping cannot hide a copied sentence."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def test_fold_mode_keeps_solutions_closed_and_exclude_drops_them():
    nb = nbformat.read(FIXTURE, as_version=4)
    folded = build_book.book_notebook(nb, "fold")
    markdown = [c.source for c in folded.cells if "solution" in c.metadata.get("tags", []) and c.cell_type == "markdown"]
    assert markdown and all(s.startswith(":::{admonition} Solution\n:class: dropdown") for s in markdown)
    assert all("<details>" not in s for s in markdown)
    code = [c for c in folded.cells if "solution" in c.metadata.get("tags", []) and c.cell_type == "code"]
    assert code and all("hide-cell" in c.metadata["tags"] for c in code)
    excluded = build_book.book_notebook(nb, "exclude")
    assert not any("solution" in c.metadata.get("tags", []) for c in excluded.cells)
    with pytest.raises(ValueError, match="exclude"):
        build_book.book_notebook(nb, "show")


def test_widgets_become_their_static_snapshot():
    with_widgets = [p for p in NOTEBOOKS if "widgets" in nbformat.read(p, as_version=4).metadata]
    if not with_widgets:
        pytest.skip("no notebook saves widget state")
    nb = build_book.book_notebook(nbformat.read(with_widgets[0], as_version=4))
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not any(build_book.WIDGET_VIEW in o.get("data", {}) for o in outputs)
    assert any("Static snapshot" in o.get("data", {}).get("text/html", "") for o in outputs)
    assert "widgets" not in nb.metadata


@pytest.mark.slow
def test_the_book_has_every_page_and_no_solution_text(tmp_path):
    pytest.importorskip("jupyter_book", reason="the `instructor` extra (jupyter-book) is not installed")
    site = build_book.build(tmp_path / "book", NOTEBOOKS, solutions="exclude")
    assert (site / "index.html").exists()
    intro = (site / "intro.html").read_text()
    assert "The course map" in intro and "Learning goals" in intro
    for path in NOTEBOOKS:
        page = (site / f"{path.stem}.html").read_text()
        assert path.stem in intro  # the landing page links every notebook
        text = letters(html.unescape(re.sub(r"<[^>]+>", "", page)))
        leaked = [line for line in solution_lines(nbformat.read(path, as_version=4))
                  if len(letters(line)) > 50 and letters(line) in text]
        assert not leaked, f"{path.stem}: solution text on the page: {leaked[:2]}"
        assert "Solution (instructors)" not in page


# --- slides ----------------------------------------------------------------------------------------------------

import add_slide_metadata  # noqa: E402
import build_slides  # noqa: E402


def test_headings_start_slides_and_solutions_are_skipped():
    nb = add_slide_metadata.with_slide_metadata(nbformat.read(FIXTURE, as_version=4))
    kinds = [(c.metadata["slideshow"]["slide_type"], c) for c in nb.cells]
    assert kinds[0][0] == "slide"  # "# Fixture ..."
    assert [k for k, c in kinds if c.source.startswith("### Exercise")] == ["subslide", "subslide"]
    assert all(k == "skip" for k, c in kinds if "solution" in c.metadata.get("tags", []))
    notes = add_slide_metadata.with_slide_metadata(nbformat.read(FIXTURE, as_version=4), solutions="notes")
    assert all(c.metadata["slideshow"]["slide_type"] == "notes" for c in notes.cells
               if "solution" in c.metadata.get("tags", []))


def test_a_tall_run_of_cells_is_split_into_subslides():
    cells = [nbformat.v4.new_markdown_cell("## One heading")] + [nbformat.v4.new_code_cell("x = 1\n" * 8)
                                                                   for _ in range(6)]
    nb = add_slide_metadata.with_slide_metadata(nbformat.v4.new_notebook(cells=cells), max_lines=22)
    kinds = [c.metadata["slideshow"]["slide_type"] for c in nb.cells]
    assert kinds[0] == "slide" and kinds.count("subslide") >= 2 and "-" in kinds


def vendored_or_skip():
    vendor = ROOT / "build" / "vendor"
    if not all((vendor / name / "package.json").exists() for name in build_slides.VENDOR.values()):
        if not shutil.which("npm"):
            pytest.skip("neither npm nor a build/vendor folder: reveal.js cannot be fetched")
    return vendor


@pytest.mark.slow
def test_a_deck_loads_reveal_js_from_local_files_only(tmp_path):
    vendor = vendored_or_skip()
    path = NOTEBOOKS[0]
    deck = build_slides.build(tmp_path, [path], vendor=vendor)[0]
    page = deck.read_text()
    # what the browser fetches: script sources, stylesheets, module imports, require.js's list (links are not)
    loaded = (re.findall(r'src="([^"]+)"', page) + re.findall(r'<link[^>]*href="([^"]+)"', page)
              + re.findall(r"import \w+ from '([^']+)'", page) + re.findall(r'"([^"\s]*reveal\.js[^"\s]*)"', page))
    remote = [u for u in loaded if re.match(r"(https?:)?//", u)]
    assert not remote, f"the deck loads from the network: {remote}"
    cdn = re.findall(r"https?://(?:unpkg\.com|cdnjs\.cloudflare\.com|cdn\.jsdelivr\.net)[^\s\"']*", page)
    assert not cdn, f"CDN URLs in the deck: {cdn}"
    for url in loaded:
        if url.startswith("_vendor/"):
            assert (tmp_path / url.split("?")[0]).exists(), url
    for needed in ("_vendor/reveal.js/dist/reveal.js", "_vendor/reveal.js/plugin/notes/notes.js"):
        assert needed in page and (tmp_path / needed).exists()
    assert page.count("<section") >= 5  # one slide per heading, not one long slide
    text = letters(html.unescape(re.sub(r"<[^>]+>", "", page)))
    assert not [line for line in solution_lines(nbformat.read(path, as_version=4))
                if len(letters(line)) > 50 and letters(line) in text]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium (see .ci/run)")
def test_a_deck_runs_in_a_browser_with_the_network_cut_off(tmp_path):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    deck = build_slides.build(tmp_path, [NOTEBOOKS[0]], vendor=vendored_or_skip())[0]
    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            page.route("http*://**", lambda route: (requests.append(route.request.url), route.abort()))
            page.goto(deck.as_uri())
            page.wait_for_function("document.querySelector('.reveal').classList.contains('ready')", timeout=30000)
            slides = page.evaluate("document.querySelectorAll('.reveal .slides > section').length")
            page.wait_for_function("document.querySelectorAll('.MathJax_CHTML').length > 0", timeout=30000)
        finally:
            browser.close()
    assert requests == [], f"the deck asked the network for {requests}"
    assert slides >= 5
