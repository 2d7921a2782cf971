"""The three descriptions of the environment must agree: pyproject.toml (ranges), environment.yml (conda
mirror) and constraints.txt (the pinned working set)."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name → PyPI name
REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def parse(req: str) -> tuple[str, frozenset]:
    name, spec = REQ.match(req).groups()
    name = CONDA_NAMES.get(name.lower(), name.lower())
    return name, frozenset(s.replace(" ", "") for s in spec.split(",") if s.strip())


def pyproject_requirements() -> dict:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs += extra
    return dict(parse(r) for r in reqs)


def test_environment_yml_mirrors_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    conda = dict(parse(d) for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("python", "pip")))
    conda |= dict(parse(d) for entry in env["dependencies"] if isinstance(entry, dict) for d in entry.get("pip", []))
    assert conda == pyproject_requirements()


def test_pins_satisfy_pyproject_ranges():
    from packaging.specifiers import SpecifierSet

    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#"))
    pins = {k.lower(): v for k, v in pins.items()}
    for name, spec in pyproject_requirements().items():
        assert name in pins, f"{name} is declared in pyproject.toml but not pinned in constraints.txt"
        assert pins[name] in SpecifierSet(",".join(spec)), f"pin {name}=={pins[name]} is outside {set(spec)}"
