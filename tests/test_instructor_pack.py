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

from browser_setup import CHROMIUM, launch_chromium

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
    # record mode is switched on right after Colab's install cell (which makes attrkit importable there), and
    # the log names the notebook; the last cell notes that the student finished it
    codes = [c for c in student.cells if c.cell_type == "code"]
    setup = codes[1] if student_release.INSTALL_TAG in codes[0].metadata.get("tags", []) else codes[0]
    assert 'os.environ["ATTRKIT_EXERCISE_MODE"] = "record"' in setup.source
    assert f'os.environ["ATTRKIT_NOTEBOOK"] = "{path.stem}"' in setup.source and 'mark("open")' in setup.source
    assert 'exercise.mark("done")' in codes[-1].source


def test_the_source_notebooks_are_not_touched(tmp_path):
    before = FIXTURE.read_bytes()
    student_release.build(tmp_path, [FIXTURE])
    assert FIXTURE.read_bytes() == before


def test_building_twice_inserts_one_record_cell(tmp_path):
    once = student_release.build(tmp_path / "a", [FIXTURE])[0]
    twice = student_release.build(tmp_path / "b", [once])[0]
    cells = nbformat.read(twice, as_version=4).cells
    assert sum(student_release.SETUP_TAG in c.metadata.get("tags", []) for c in cells) == 1
    assert sum(student_release.FINISH_TAG in c.metadata.get("tags", []) for c in cells) == 2  # markdown and code


@pytest.mark.slow
def test_every_student_notebook_runs_under_nbval_lax(release):
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                          "--nbval-current-env", "."], cwd=release, env=ENV, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    log = release / "attrkit_answers.jsonl"
    # record mode (attrkit.exercise) writes one JSON line per check, and one when a notebook opens and finishes
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    answers = [r for r in records if "event" not in r]
    assert all({"name", "answer", "correct", "notebook", "time"} <= set(r) for r in answers)
    import course_times
    minutes = course_times.measured([log])  # the instructor's view of the log: every notebook run, finished
    assert set(minutes) == {p.stem for p in NOTEBOOKS + [FIXTURE]}
    assert all(len(m) == 1 and 0 <= m[0] < 30 for m in minutes.values())


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


def test_several_checks_give_partial_credit():
    source = "_ = check(a, 1)\n_ = check(b, 1)\ncheck(c, 1)"
    graded = grading_release.assertify(source, "ex", points=3)
    *body, last = graded.splitlines()
    assert last.startswith("3 * sum(")  # the cell's value: nbgrader's partial credit
    for values, points in [((1, 1, 1), 3), ((1, 0, 1), 2), ((0, 0, 1), 1)]:
        ns = {"check": lambda x, y: x == y, **dict(zip("abc", values))}
        exec("\n".join(body), ns)
        assert eval(last, ns) == points
    with pytest.raises(AssertionError, match="ex: not right yet"):
        exec(graded, {"check": lambda x, y: x == y, "a": 0, "b": 0, "c": 0})


def test_the_reference_answer_comes_from_the_markdown_solution():
    stub = "def f(x):\n    return ...\n\n\nshare = ...   # a number"
    markdown = "<details><summary>Solution</summary>\n\n```python\ndef f(x):\n    return 2 * x\n```\n\nThe share is 0."
    expected = "def f(x):\n    return 2 * x\n\n\nshare = ...   # a number"  # the stated-in-prose number stays a stub
    assert grading_release.reference_answer(stub, markdown) == expected
    assert grading_release.reference_answer(stub, "```python\nprint(1)\n```") is None  # defines nothing of the stub's
    for path in NOTEBOOKS:  # every code exercise of the course has one
        nb, stubs = grading_release.grading_source(nbformat.read(path, as_version=4), path.stem)
        answers = [c.source for c in (nb.cells if nb else []) if c.metadata.get("nbgrader", {}).get("solution")]
        assert len(answers) == len(stubs) and all(a.startswith("### BEGIN SOLUTION\ndef ") for a in answers), path.stem


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


SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*)\n### END SOLUTION", re.S)
# The course's typical wrong answers (named in each solution), written as edits of the reference answer, and the
# points each should get: several checks in one cell give partial credit (03: three functions, 04: two answers).
TYPICAL_WRONG = {
    "02_axioms_ex1": ("(attributions.sum(1) - change) / change.abs()", "attributions.sum(1) - change", 0),
    "03_integrated_gradients_ex1": ("x_base + alphas.view(-1, *[1] * x.dim()) * (x - x_base)",
                                    "x + alphas.view(-1, *[1] * x.dim()) * (x_base - x)", 2 / 3),  # path reversed
    "04_baselines_ex1": ("torch.where(x < 0.5, torch.ones_like(x), torch.zeros_like(x))", "1 - x", 1 / 2),
    "05_agi_ex1": ("epsilon * grad_j.sign()", "epsilon * grad_j", 0),  # along the gradient, not its sign
    "06_evaluation_ex1": ("descending=True", "descending=False", 0),  # least salient first
}


@pytest.mark.slow
def test_grading_the_real_course_notebooks(tmp_path):
    """nbgrader on the course itself: every notebook with a code exercise, one right and one wrong student."""
    pytest.importorskip("nbgrader", reason="the `instructor` extra (nbgrader) is not installed")
    import grade

    course = tmp_path / "course"
    released = grading_release.build(course, NOTEBOOKS)
    exercised = [p.stem for p in NOTEBOOKS
                 if any(student_release.EXERCISE_TAG in c.metadata.get("tags", []) for c in nbformat.read(p, 4).cells)]
    assert [p.stem for p in released] == exercised and len(exercised) >= 5
    right, wrong = {}, {}
    for path in sorted((course / "source" / "attrkit").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution"):
                match = SOLUTION.search(cell.source)
                assert match, f"{grade_id}: no reference answer found in the source notebook's solution"
                right[grade_id] = match.group(1)
                old, new, _ = TYPICAL_WRONG[grade_id]
                assert old in right[grade_id], f"{grade_id}: the solution changed; update TYPICAL_WRONG"
                wrong[grade_id] = right[grade_id].replace(old, new)
    assert set(right) == set(TYPICAL_WRONG)
    for path in released:  # the student copy shows the stub, never the answer
        assert "BEGIN SOLUTION" not in all_text(nbformat.read(path, as_version=4))

    ada = grade.grade([fill(p, right, tmp_path / "ada" / p.name) for p in released], course, "ada")
    assert ada == {grade_id: (1, 1) for grade_id in right}
    bob = grade.grade([fill(p, wrong, tmp_path / "bob" / p.name) for p in released], course, "bob")
    assert bob == {grade_id: (pytest.approx(points), 1) for grade_id, (_, _, points) in TYPICAL_WRONG.items()}


# --- the book --------------------------------------------------------------------------------------------------

import html  # noqa: E402
from html.parser import HTMLParser  # noqa: E402

import build_book  # noqa: E402
import vendor_js  # noqa: E402


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


def vendored_or_skip(packages):
    """build/vendor/ (the npm cache the slides and the book share), or skip when it is empty and npm is missing."""
    vendor = ROOT / "build" / "vendor"
    if not vendor_js.fetched(packages, vendor) and not shutil.which("npm"):
        pytest.skip(f"neither npm nor a build/vendor folder: {sorted(packages)} cannot be fetched")
    return vendor


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    pytest.importorskip("jupyter_book", reason="the `instructor` extra (jupyter-book) is not installed")
    return build_book.build(tmp_path_factory.mktemp("book"), NOTEBOOKS, solutions="exclude",
                            vendor=vendored_or_skip(build_book.MATHJAX))


@pytest.mark.slow
def test_the_book_has_every_page_and_no_solution_text(book):
    site = book
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


class Loads(HTMLParser):
    """What a browser fetches when it shows a page (links to other sites, <a href>, are not fetched)."""

    FETCHED_LINKS = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "shortcut", "manifest"}

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and self.FETCHED_LINKS & set((attrs.get("rel") or "").split()):
            self.urls.append(attrs.get("href") or "")
        elif tag in ("script", "img", "iframe", "source", "audio", "video", "embed", "track") and attrs.get("src"):
            self.urls.append(attrs["src"])


def css_urls(text):
    return re.findall(r"""url\(\s*['"]?([^'")]+)""", text) + re.findall(r"""@import\s+['"]([^'"]+)""", text)


REMOTE = re.compile(r"^(https?:)?//", re.I)
# Remote URLs a page may reference, with the reason. None: MathJax was the only one (jsDelivr, Sphinx's default).
# Not a reference, so not listed: sphinx-thebe's inline constant THEBE_JS_URL (unpkg.com), fetched only when a
# Thebe launch button is pressed, and the book has none (launch_buttons.thebe is false; asserted below).
ALLOWED_REMOTE = {}


@pytest.mark.slow
def test_the_book_loads_nothing_from_the_network(book):
    site, remote, missing = book, [], []
    pages = sorted(site.glob("*.html"))
    assert len(pages) >= len(NOTEBOOKS) + 2
    for page in pages:
        text = page.read_text(encoding="utf-8")
        parser = Loads()
        parser.feed(text)
        styles = "".join(re.findall(r"<style[^>]*>(.*?)</style>", text, re.S))
        for url in parser.urls + [u for u in css_urls(styles) if not u.startswith("data:")]:
            if REMOTE.match(url):
                if url not in ALLOWED_REMOTE:
                    remote.append(f"{page.name}: {url}")
            elif not url.startswith("data:") and not (site / url.split("?")[0].split("#")[0]).exists():
                missing.append(f"{page.name}: {url}")
        assert "thebe-launch-button" not in text, f"{page.name}: a Thebe button (it would fetch thebe from unpkg)"
    for sheet in site.glob("_static/**/*.css"):  # fonts and @imports of the theme's stylesheets
        remote += [f"{sheet.name}: {u}" for u in css_urls(sheet.read_text(errors="replace")) if REMOTE.match(u)]
    assert not remote, f"the book loads from the network: {remote[:5]}"
    assert not missing, f"the book references local files it does not have: {missing[:5]}"
    page = (site / "03_integrated_gradients.html").read_text()
    mathjax = [u for u in re.findall(r'<script[^>]*src="([^"]+)"', page) if "mathjax" in u.lower()]
    assert [u.split("?")[0] for u in mathjax] == ["_static/" + build_book.MATHJAX_FILE]
    assert (site / "_static" / build_book.MATHJAX_FILE).stat().st_size > 500_000  # the bundle, not a stub
    fonts = site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert len(list(fonts.glob("*.woff"))) > 10  # CommonHTML loads these relative to the script


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (see .ci/run)")
def test_the_book_typesets_formulas_with_the_network_cut_off(book):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    requests = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page()
            page.route("http*://**", lambda route: (requests.append(route.request.url), route.abort()))
            page.goto((book / "03_integrated_gradients.html").as_uri())
            page.wait_for_function("document.querySelectorAll('mjx-container').length > 5", timeout=30000)
            errors = page.evaluate("document.querySelectorAll('mjx-merror').length")
        finally:
            browser.close()
    assert requests == [], f"the book asked the network for {requests}"
    assert errors == 0


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


@pytest.mark.slow
def test_a_deck_loads_reveal_js_from_local_files_only(tmp_path):
    vendor = vendored_or_skip(build_slides.VENDOR)
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
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (see .ci/run)")
def test_a_deck_runs_in_a_browser_with_the_network_cut_off(tmp_path):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    deck = build_slides.build(tmp_path, [NOTEBOOKS[0]], vendor=vendored_or_skip(build_slides.VENDOR))[0]
    requests = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
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
