"""A read-only home (a JupyterHub volume, a container) must not put a warning in any notebook's first cell.

matplotlib warns ("Matplotlib created a temporary cache directory ...") when its config folder cannot be written;
attrkit points it at a writable folder on import, so each notebook imports attrkit before matplotlib.
The home is a path under a regular file: unwritable even for root, who ignores permission bits.
"""
import ast
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def first_cell_imports(path: Path) -> str:
    """The imports of the notebook's first code cells: the Colab install cell (tagged install-if-missing) and the
    first cell of the lesson itself."""
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    first = next(i for i, c in enumerate(code) if "install-if-missing" not in c.metadata.get("tags", []))
    sources = [c.source for c in code[:first + 1]]
    return "\n".join(ast.get_source_segment(src, node) for src in sources for node in ast.parse(src).body
                     if isinstance(node, (ast.Import, ast.ImportFrom)))


def run_with_home(code: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT), ATTRKIT_PROGRESS="0")
    # warnings as a notebook shows them (IPython shows those raised in __main__), plus matplotlib's logged ones
    return subprocess.run([sys.executable, "-W", "default::UserWarning", "-c", code], capture_output=True,
                          text=True, env=env, cwd=ROOT / "notebooks", timeout=120)


@pytest.fixture(scope="module")
def readonly_home(tmp_path_factory):
    blocker = tmp_path_factory.mktemp("ro") / "not-a-folder"
    blocker.write_text("a regular file: nothing can be created below it")
    return blocker / "home"


def test_the_home_is_really_unwritable_and_matplotlib_alone_warns(readonly_home):
    """The control: without attrkit first, matplotlib warns; so the test below can fail."""
    out = run_with_home("import matplotlib.pyplot", readonly_home)
    assert "matplotlib" in out.stderr.lower() and "MPLCONFIGDIR" in out.stderr, out.stderr


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in NOTEBOOKS])
def test_first_cell_imports_raise_no_warning(path, readonly_home):
    code = first_cell_imports(path) + "\nimport matplotlib.pyplot as plt\nplt.close(plt.figure())\n"
    out = run_with_home(code, readonly_home)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stderr == "", f"{path.name}: the first cell's imports print on a read-only home:\n{out.stderr}"


def test_a_writable_home_is_left_alone(tmp_path):
    out = run_with_home("import os, attrkit; print(os.environ.get('MPLCONFIGDIR'))", tmp_path)
    assert out.stdout.split() == ["None"], out.stdout + out.stderr
