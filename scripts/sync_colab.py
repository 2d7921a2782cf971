"""Write the repository's address, taken from one line of README.md, everywhere Colab needs it.

    python scripts/sync_colab.py          # after changing the README's "Repository:" line (e.g. in a fork)

It keeps three things in step with that line (tests/test_colab.py fails when they drift):
- the first cell of every course notebook, which installs the kit only where it is missing (Colab, a bare
  kernel); in the course's own environment it does nothing and prints nothing, so nbval is unaffected;
- the "Open in Colab" links in the README's course table;
- the same links in 00_start_here's course map.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LINE = re.compile(r"^Repository: (https://github\.com/([\w.-]+)/([\w.-]+))\s*$", re.M)
TAG = "install-if-missing"
COLAB = "https://colab.research.google.com/github/{owner}/{name}/blob/main/notebooks/{notebook}"
BADGE = re.compile(r"\[Colab\]\(https://colab\.research\.google\.com/github/[^)]*/notebooks/([\w.-]+\.ipynb)\)")


def repository() -> tuple[str, str, str]:
    """(address, owner, name) from README.md's "Repository: https://github.com/OWNER/NAME" line."""
    m = LINE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    if not m:
        sys.exit("README.md needs a line 'Repository: https://github.com/OWNER/NAME'")
    return m.group(1), m.group(2), m.group(3)


def install_cell_source(address: str) -> str:
    return (
        "# Colab, or any kernel without the kit: install it (a few seconds; torch is used as installed).\n"
        "# In the course's own environment (make lab, python -m attrkit lab) this cell does nothing.\n"
        "import importlib, importlib.util, subprocess, sys\n"
        "if importlib.util.find_spec(\"attrkit\") is None:\n"
        f"    subprocess.check_call([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", \"attrkit @ git+{address}\"])\n"
        "    importlib.invalidate_caches()"
    )


def colab_link(notebook: str) -> str:
    _, owner, name = repository()
    return COLAB.format(owner=owner, name=name, notebook=notebook)


def course_notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("[0-9]*.ipynb"))


def sync_notebook(path: Path, address: str) -> bool:
    nb = nbformat.read(path, as_version=4)
    source = install_cell_source(address)
    first = nb.cells[0] if nb.cells else None
    has = first is not None and TAG in first.get("metadata", {}).get("tags", [])
    if has and first.source == source:
        changed = False
    elif has:
        first.source, changed = source, True
    else:
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": [TAG]})
        cell.pop("id", None)
        cell["id"] = f"install-{path.stem[:2]}"
        nb.cells.insert(0, cell)
        changed = True
    changed |= _sync_links(nb.cells, path.name == "00_start_here.ipynb")
    if changed:
        nbformat.write(nb, path)
    return changed


def _sync_links(cells, is_start) -> bool:
    if not is_start:
        return False
    changed = False
    for cell in cells:
        if cell.cell_type == "markdown" and BADGE.search(cell.source):
            new = BADGE.sub(lambda m: f"[Colab]({colab_link(m.group(1))})", cell.source)
            changed |= new != cell.source
            cell.source = new
    return changed


def sync_readme() -> bool:
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    new = BADGE.sub(lambda m: f"[Colab]({colab_link(m.group(1))})", text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main() -> None:
    address, _, _ = repository()
    changed = [p.name for p in course_notebooks() if sync_notebook(p, address)]
    if sync_readme():
        changed.append("README.md")
    print("updated: " + (", ".join(changed) if changed else "nothing (all in step)"))


if __name__ == "__main__":
    main()
