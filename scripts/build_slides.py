"""One reveal.js lecture deck per notebook, served from local files (no CDN at view time).

    python scripts/build_slides.py [--out build/slides] [NOTEBOOK ...]

- Slide metadata: a notebook that has none gets it in memory from scripts/add_slide_metadata.py (headings ->
  slides); one that has it (committed, or edited by hand in JupyterLab's property inspector) keeps its own.
- Solutions: skipped (``--solutions notes`` puts them in the speaker notes: press ``s`` in the deck).
- JavaScript: reveal.js, require.js, jQuery and MathJax 2 are fetched once with ``npm pack`` (npm's registry)
  into build/vendor/ (scripts/vendor_js.py, shared with the book) and copied next to the decks as _vendor/; every
  deck points there. Explorers appear as their static snapshots (scripts/build_book.py), so no widget JavaScript
  is loaded either.
Open <out>/03_integrated_gradients.slides.html in a browser, offline.
"""
import argparse
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter
from nbconvert.preprocessors import TagRemovePreprocessor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from add_slide_metadata import with_slide_metadata  # noqa: E402
from build_book import StaticWidgets  # noqa: E402
from student_release import ROOT, course_notebooks  # noqa: E402
from vendor_js import VENDOR_DIR, fetch  # noqa: E402

# npm package -> the folder name under _vendor/ (pinned: the decks are tested against these)
VENDOR = {"reveal.js@4.6.1": "reveal.js", "requirejs@2.3.7": "requirejs", "jquery@3.7.1": "jquery",
          "mathjax@2.7.9": "mathjax"}
# MathJax 2 ships every font in every format (63 MB); the decks use CommonHTML with the TeX web fonts only
MATHJAX_SKIP = shutil.ignore_patterns("unpacked", "*.otf", "*.eot", "*.svg", "Asana-Math", "Gyre-Pagella",
                                      "Gyre-Termes", "Latin-Modern", "Neo-Euler", "STIX-Web", "imageFonts.js")
MERMAID_STUB = "export default { initialize() {} };\n"  # the template imports mermaid; the course has no diagrams


def install_vendor(vendor: Path, out: Path) -> Path:
    target = out / "_vendor"
    for name in VENDOR.values():
        if not (target / name).exists():
            ignore = MATHJAX_SKIP if name == "mathjax" else None
            shutil.copytree(vendor / name, target / name, ignore=ignore)
    (target / "mermaid-stub.mjs").write_text(MERMAID_STUB)
    return target


def exporter(solutions="skip") -> SlidesExporter:
    ex = SlidesExporter()
    ex.reveal_url_prefix = "_vendor/reveal.js"
    ex.require_js_url = "_vendor/requirejs/require.js"
    ex.jquery_url = "_vendor/jquery/dist/jquery.min.js"
    ex.mathjax_url = "_vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    ex.mermaid_js_url = "./_vendor/mermaid-stub.mjs"
    ex.widget_renderer_url = ""
    ex.reveal_scroll = True  # a slide taller than the screen (a long goals cell) scrolls instead of being cut
    return ex


def deck(nb, solutions="skip") -> str:
    """The reveal.js HTML of one notebook."""
    if not any("slideshow" in c.metadata for c in nb.cells):
        nb = with_slide_metadata(nb, solutions=solutions)
    nb = nbformat.from_dict(nb)
    if solutions == "skip":
        nb, _ = TagRemovePreprocessor(remove_cell_tags={"solution", "instructor"}, enabled=True).preprocess(nb, {})
    nb, _ = StaticWidgets().preprocess(nb, {})
    body, _ = exporter(solutions).from_notebook_node(nb)
    return body


def build(out: Path, notebooks=None, solutions="skip", vendor: Path = VENDOR_DIR) -> list:
    notebooks = [Path(p) for p in notebooks] if notebooks else course_notebooks(ROOT / "notebooks")
    out.mkdir(parents=True, exist_ok=True)
    install_vendor(fetch(VENDOR, vendor), out)
    written = []
    for path in notebooks:
        target = out / f"{path.stem}.slides.html"
        target.write_text(deck(nbformat.read(path, as_version=4), solutions), encoding="utf-8")
        written.append(target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: notebooks/[0-9]*.ipynb")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    parser.add_argument("--solutions", choices=["skip", "notes"], default="skip")
    args = parser.parse_args(argv)
    written = build(args.out, args.notebooks, args.solutions)
    print(f"{len(written)} decks in {args.out} (open one in a browser; everything loads from {args.out}/_vendor)")


if __name__ == "__main__":
    sys.exit(main())
