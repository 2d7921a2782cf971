"""Every course notebook carries the slide metadata scripts/add_slide_metadata.py derives from its headings, so that
a plain `jupyter nbconvert --to slides notebooks/NN_….ipynb` gives a lecture deck (issue 19, item 4), and the
committed metadata cannot fall behind an edited notebook."""
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from add_slide_metadata import with_slide_metadata  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_slide_metadata_is_what_the_headings_give(path):
    nb = nbformat.read(path, as_version=4)
    committed = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
    derived = [c.metadata["slideshow"]["slide_type"] for c in with_slide_metadata(nb).cells]
    assert committed == derived, (f"{path.name}: slide metadata is missing or stale; run "
                                  f"python scripts/add_slide_metadata.py --inplace notebooks/{path.name}")
    assert committed.count("slide") >= 3, "a deck of one or two slides: the notebook needs ## sections"
