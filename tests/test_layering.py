"""The core never imports plots or widgets; plots never import widgets (DEVELOPERS.md, style.md)."""
import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "attrkit"
UI = ("viz", "widgets")


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ("." * node.level) + (node.module or "")
            names |= {f"{base}.{a.name}" if not node.module else base for a in node.names}
    return names


def layer(module: str) -> int:
    return 2 if module.startswith("widgets") else 1 if module.startswith("viz") else 0


def test_imports_only_point_down():
    for path in PKG.glob("*.py"):
        mine = layer(path.stem)
        for name in imported(path):
            parts = [p for p in name.lstrip(".").replace("attrkit.", "").split(".") if p]
            target = parts[0] if parts else ""
            if name.startswith(("matplotlib", "ipywidgets", "IPython")):
                needed = 2 if name.startswith("ipywidgets") else 1
                assert mine >= needed, f"{path.name} imports {name}: keep plotting/widgets out of the core"
            elif (name.startswith(".") or name.startswith("attrkit")) and target:
                assert layer(target) <= mine, f"{path.name} imports {name}: the core must not import {target}"


def test_importing_the_core_loads_no_plotting():
    code = ("import sys, attrkit, attrkit.explain, attrkit.metrics, attrkit.sanity, attrkit.axioms, attrkit.methods;"
            "print('matplotlib' in sys.modules, 'ipywidgets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
