"""Build the course as a static website (Jupyter Book 1, Sphinx: builds offline) from the executed notebooks.

    python scripts/build_book.py [--out build/book] [--solutions exclude|fold]

- ``--solutions exclude`` (default) drops the cells tagged ``solution`` and the "For instructors" section;
  ``fold`` keeps each markdown solution as a closed "Solution" drop-down (sphinx-togglebutton, no JavaScript
  from the web) and hides code solutions behind a "show" toggle.
- The notebooks are not re-executed: the book shows the committed outputs (``make notebooks`` refreshes them).
- An explorer (ipywidgets) cannot run in a static page: its output is replaced by its static fallback, the
  snapshot saved in the notebook's widget state (its HTML text and its images, as first drawn), with a note
  that the live explorer needs a kernel. The widget state is then dropped, so no widget JavaScript is loaded.
- The landing page carries the course map (00's table) and every notebook's goals, time and prerequisites.
- Offline at view time: Sphinx's MathJax 3 comes from a local copy (``npm pack mathjax``, once, into build/vendor/
  by scripts/vendor_js.py, as for the slides), staged as <src>/_vendor/mathjax/, copied by Sphinx to the site's
  _static/mathjax/ and named by ``mathjax_path``; every other script, stylesheet and font is the theme's own.
  (Not <src>/_static/: Jupyter Book would add each of its .js files to every page.)
The site is <out>/_build/html/index.html; open it from disk or serve it with ``python -m http.server``.
"""
import argparse
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from student_release import INSTRUCTOR_HEADING, InstructorSectionRemover, ROOT, course_notebooks  # noqa: E402
from vendor_js import VENDOR_DIR, fetch  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
DETAILS = re.compile(r"^\s*<details>\s*<summary>.*?</summary>\s*(.*?)\s*</details>\s*$", re.S)
# Sphinx's default MathJax is 3 (from jsDelivr); the same major version, pinned, served from the site itself
MATHJAX = {"mathjax@3.2.2": "mathjax3"}
MATHJAX_FILE = "mathjax/tex-mml-chtml.js"  # relative to _static/
# es5/ minus the other ready-made bundles and the SVG output: tex-mml-chtml.js, plus what it loads on demand
# (TeX extensions, CommonHTML fonts, the menu's accessibility tools and their speech rules): 8 MB, not 24
MATHJAX_SKIP = shutil.ignore_patterns("tex-chtml*.js", "tex-svg*.js", "tex-mml-svg.js", "mml-*.js", "node-main.js",
                                      "svg", "svg.js")

CONFIG = f"""\
title: "attrkit: Integrated Gradients and AGI, step by step"
author: the attrkit authors
only_build_toc_files: true
execute:
  execute_notebooks: "off"
parse:
  myst_enable_extensions: [colon_fence, dollarmath, amsmath, html_image]
html:
  use_repository_button: false
  use_issues_button: false
  use_edit_page_button: false
launch_buttons:
  notebook_interface: classic
  binderhub_url: ""
  colab_url: ""
  thebe: false
sphinx:
  config:
    html_show_copyright: false
    nb_merge_streams: true
    html_static_path: [_vendor]
    mathjax_path: {MATHJAX_FILE}
"""


class StaticWidgets(Preprocessor):
    """Replace each widget view by the static snapshot kept in the notebook's widget state (HTML and images)."""

    def preprocess(self, nb, resources):
        state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            outputs = []
            for out in cell.get("outputs", []):
                view = out.get("data", {}).get(WIDGET_VIEW)
                if view is None:
                    outputs.append(out)
                    continue
                pieces = self.snapshot(state, view.get("model_id"), set())
                body = "".join(pieces) or "<p>(no snapshot saved)</p>"
                note = ("<p><i>Static snapshot of an interactive explorer: run the notebook in JupyterLab to "
                        "move its sliders.</i></p>")
                outputs.append(nbformat.v4.new_output("display_data", data={"text/html": note + body}))
            cell.outputs = outputs
        nb.metadata.pop("widgets", None)
        return nb, resources

    def snapshot(self, state, model_id, seen):
        """The HTML pieces of a widget and its children, depth first (images as inline PNG data)."""
        if model_id in seen or model_id not in state:
            return []
        seen.add(model_id)
        model = state[model_id]
        name, values = model.get("model_name"), model.get("state", {})
        if name in ("HTMLModel", "HTMLMathModel"):
            return [f"<div>{values.get('value', '')}</div>"]
        if name == "LabelModel":
            return [f"<div>{html.escape(str(values.get('value', '')))}</div>"]
        if name == "ImageModel":
            data = next((b["data"] for b in model.get("buffers", []) if b.get("path") == ["value"]), None)
            fmt = values.get("format", "png")
            return [f'<img src="data:image/{fmt};base64,{data}" alt="explorer panel"/>'] if data else []
        if name == "OutputModel":
            return [f'<img src="data:image/png;base64,{o["data"]["image/png"]}" alt="explorer output"/>'
                    for o in values.get("outputs", []) if "image/png" in o.get("data", {})]
        pieces = []
        for child in values.get("children", []):
            pieces += self.snapshot(state, str(child).removeprefix("IPY_MODEL_"), seen)
        return pieces


class FoldSolutions(Preprocessor):
    """Markdown solutions -> a closed MyST drop-down; code solutions -> hidden behind a toggle (hide-cell)."""

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if "solution" not in tags:
                continue
            if cell.cell_type == "markdown":
                match = DETAILS.match(cell.source)
                body = match.group(1) if match else cell.source
                cell.source = f":::{{admonition}} Solution\n:class: dropdown\n\n{body}\n:::"
            else:
                cell.metadata["tags"] = [*tags, "hide-cell"]
        return nb, resources


def book_notebook(nb, solutions="exclude"):
    nb = nbformat.from_dict(nb)
    if solutions == "exclude":
        steps = [TagRemovePreprocessor(remove_cell_tags={"solution", "instructor"}, enabled=True),
                 InstructorSectionRemover()]
    elif solutions == "fold":
        steps = [FoldSolutions()]
    else:
        raise ValueError(f"solutions={solutions!r}: use 'exclude' or 'fold'")
    for step in steps + [StaticWidgets()]:
        nb, _ = step.preprocess(nb, {})
    return nb


def landing_page(notebooks) -> str:
    """The course map (00's "How the course is organised" cell) and each notebook's goals (its first cell)."""
    parts = ["# attrkit: the course\n",
             "Integrated Gradients (Sundararajan, Taly & Yan, ICML 2017) and Adversarial Gradient Integration "
             "(Pan, Li & Zhu, IJCAI 2021), taught step by step on small models that run offline. This site shows "
             "the executed notebooks; the explorers appear as static snapshots (run the notebooks for the live "
             "ones).\n"]
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown" and re.match(r"\s*##\s*How the course is organised", cell.source):
                parts.append("## The course map\n\n" + cell.source.split("\n", 1)[1])
    parts.append("## Goals, time and prerequisites of each notebook\n")
    for path in notebooks:
        first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        title, _, rest = first.source.partition("\n")
        parts.append(f"### {title.lstrip('# ').strip()}\n\n{rest.strip()}\n\n[Open the notebook]({path.stem}.ipynb)\n")
    return "\n".join(parts)


def build(out: Path, notebooks=None, solutions="exclude", vendor: Path = VENDOR_DIR) -> Path:
    """Stage the book's sources in <out>/src (MathJax in src/_vendor/), build it; return the HTML folder."""
    notebooks = [Path(p) for p in notebooks] if notebooks else course_notebooks(ROOT / "notebooks")
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for path in notebooks:
        nbformat.write(book_notebook(nbformat.read(path, as_version=4), solutions), src / path.name)
    (src / "intro.md").write_text(landing_page(notebooks))
    (src / "_config.yml").write_text(CONFIG)
    mathjax = fetch(MATHJAX, vendor) / next(iter(MATHJAX.values())) / "es5"
    shutil.copytree(mathjax, src / "_vendor" / Path(MATHJAX_FILE).parent, ignore=MATHJAX_SKIP)
    toc = "format: jb-book\nroot: intro\nchapters:\n" + "".join(f"- file: {p.stem}\n" for p in notebooks)
    (src / "_toc.yml").write_text(toc)
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(src), "--path-output", str(out), "--quiet"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"jupyter-book build failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}")
    return out / "_build" / "html"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: notebooks/[0-9]*.ipynb")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book")
    parser.add_argument("--solutions", choices=["exclude", "fold"], default="exclude")
    args = parser.parse_args(argv)
    site = build(args.out, args.notebooks, args.solutions)
    print(f"book ({args.solutions} solutions): {site / 'index.html'}")


if __name__ == "__main__":
    sys.exit(main())
