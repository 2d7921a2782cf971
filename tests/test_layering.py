"""The folders are the layers, and imports only point down (attrkit/__init__.py draws the picture):

    common  <  ig, agi, zoo  <  lab  <  widgets          viz: common only; widgets: anything
"""
import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "attrkit"
ALLOWED = {  # folder -> the attrkit folders its modules may import (besides their own)
    "common": set(),
    "ig": {"common"},
    "agi": {"common"},
    "zoo": {"common"},
    "lab": {"common", "ig", "agi"},
    "viz": {"common"},
    "widgets": {"common", "ig", "agi", "zoo", "lab", "viz"},
    "adapters": {"common", "ig", "agi"},
}
THIRD_PARTY_UI = {"matplotlib": {"viz", "widgets"}, "ipywidgets": {"widgets"}, "IPython": {"viz", "widgets"}}
LONG = 300  # lines; a longer module must say in its docstring why splitting it would hurt reading


def modules():
    return sorted(p for p in PKG.rglob("*.py") if p.parent != PKG)  # attrkit/__init__ and __main__ sit on top


def dotted(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Absolute names of everything ``path`` imports, at any depth of the file (lazy imports count too)."""
    package = dotted(path) if path.name == "__init__.py" else dotted(path).rsplit(".", 1)[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            names |= {f"{module}.{a.name}" for a in node.names} | {module}
    return names


def folder(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if parts[0] == "attrkit" and len(parts) > 1 and parts[1] in ALLOWED else None


def test_every_module_lives_in_a_layer_folder():
    flat = sorted(p.name for p in PKG.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert not flat, f"modules outside the layer folders: {flat}"
    assert {p.relative_to(PKG).parts[0] for p in modules()} <= set(ALLOWED)


def test_imports_only_point_down():
    for path in modules():
        mine = path.relative_to(PKG).parts[0]
        for name in imports(path):
            target = folder(name)
            if target and target != mine:
                assert target in ALLOWED[mine], f"{path.relative_to(PKG)} imports {name}: {mine}/ may not import {target}/"
            root = name.split(".")[0]
            if root in THIRD_PARTY_UI:
                assert mine in THIRD_PARTY_UI[root], f"{path.relative_to(PKG)} imports {name}: keep {root} out of {mine}/"


def test_no_import_circles():
    graph = {dotted(p): {n for n in imports(p) if n.startswith("attrkit.")} for p in modules()}
    known = set(graph)
    graph = {m: {n if n in known else n.rsplit(".", 1)[0] for n in deps} & known - {m} for m, deps in graph.items()}
    # a package's __init__ importing its own modules is the package, not a circle
    graph = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph.items()}
    state = {}

    def visit(m, stack):
        state[m] = "open"
        for d in graph[m]:
            if state.get(d) == "open":
                raise AssertionError("import circle: " + " → ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d, stack + [d])
        state[m] = "done"

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_modules_are_short_or_say_why():
    for path in modules():
        lines = len(path.read_text().splitlines())
        if lines > LONG:
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
            assert "longer than" in doc, f"{path.relative_to(PKG)} has {lines} lines: split it, or say why not"


def test_importing_the_core_loads_no_plotting():
    code = ("import sys, attrkit, attrkit.lab.explain, attrkit.lab.metrics, attrkit.lab.sanity, attrkit.lab.axioms,"
            "attrkit.lab.methods, attrkit.zoo.imagenet; print('matplotlib' in sys.modules, 'ipywidgets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_old_module_names_still_import():
    """Names documented before the sub-packages keep working (attrkit/__init__.py keeps the table)."""
    code = ("from attrkit.metrics import causal_metric; from attrkit.exercise import check; "
            "from attrkit.explain import explain; from attrkit.baselines import FromData; "
            "from attrkit.imagenet import load_image; from attrkit.agi import adversarial_step; import attrkit;"
            "assert callable(attrkit.agi) and callable(attrkit.quadrature) and callable(attrkit.zoo.load)")
    subprocess.run([sys.executable, "-c", code], check=True)
