"""Colab: every course notebook starts with a cell that installs the kit only where it is missing, from the
repository address written once in README.md; the README and 00 link every notebook to Colab
(scripts/sync_colab.py writes all of it)."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sync_colab  # noqa: E402

ADDRESS, OWNER, NAME = sync_colab.repository()


@pytest.mark.parametrize("path", sync_colab.course_notebooks(), ids=lambda p: p.stem)
def test_first_cell_installs_the_kit_from_the_readme_address(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert sync_colab.TAG in first.metadata.get("tags", []), f"{path.name}: run python scripts/sync_colab.py"
    assert first.source == sync_colab.install_cell_source(ADDRESS), f"{path.name}: run python scripts/sync_colab.py"
    assert not first.get("outputs"), f"{path.name}: in the course environment the install cell prints nothing"


def run_cell(monkeypatch, present: bool):
    calls = []
    monkeypatch.setattr(subprocess, "check_call", lambda args, **kw: calls.append(args))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if present else None)
    exec(sync_colab.install_cell_source(ADDRESS), {})
    return calls


def test_the_install_cell_is_a_no_op_where_the_kit_is_installed(monkeypatch):
    assert run_cell(monkeypatch, present=True) == []


def test_the_install_cell_installs_from_the_repository_where_the_kit_is_missing(monkeypatch):
    (args,) = run_cell(monkeypatch, present=False)
    assert args[:4] == [sys.executable, "-m", "pip", "install"] and args[-1] == f"attrkit @ git+{ADDRESS}"


def test_readme_and_course_map_link_every_notebook_to_colab():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = "\n".join(c.source for c in nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", as_version=4).cells
                      if c.cell_type == "markdown")
    for path in sync_colab.course_notebooks():
        link = f"[Colab]({sync_colab.colab_link(path.name)})"
        assert link in readme, f"README.md lacks the Colab link of {path.name}"
        assert link in start, f"00_start_here lacks the Colab link of {path.name}"
