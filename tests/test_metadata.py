"""The package metadata takes the newest torch the registry serves: ranges with lower bounds where an API needs
them, no upper caps (pip would otherwise downgrade an image's newer torch: a multi-GB download that breaks
co-installed torchaudio). The exact working set stays in constraints.txt (tests/test_environment.py).

The registry checks ask pip for version lists and for attrkit's own metadata only (`--dry-run --no-deps`):
nothing large is downloaded. They are skipped, saying so, when the registry cannot be reached.
"""
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
META = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
FLOORS = {"torch": "1.13", "torchvision": "0.14"}  # weights_only=True; models.get_model (pyproject comments)


def declared() -> list[Requirement]:
    reqs = list(META["dependencies"]) + [r for extra in META["optional-dependencies"].values() for r in extra]
    return [Requirement(r) for r in reqs]


def test_no_upper_caps_in_the_metadata():
    for req in declared():
        caps = [s for s in req.specifier if s.operator in ("<", "<=", "==", "~=", "===")]
        assert not caps, f"{req}: pin or cap it in constraints.txt, not in pyproject.toml"


def test_torch_floors_are_the_api_floors():
    for req in declared():
        if req.name in FLOORS:
            assert str(req.specifier) == f">={FLOORS[req.name]}", req
            assert Version(FLOORS[req.name]) in req.specifier


def newest(name: str) -> Version:
    run = subprocess.run([sys.executable, "-m", "pip", "index", "versions", name, "--disable-pip-version-check"],
                         capture_output=True, text=True, timeout=120)
    for line in run.stdout.splitlines():
        if line.startswith("Available versions:"):
            return max(Version(v.strip()) for v in line.split(":", 1)[1].split(","))
    pytest.skip(f"the package registry did not answer `pip index versions {name}` (offline?): {run.stderr[-300:]}")


def built_metadata(tmp_path) -> list[Requirement]:
    """attrkit's dependencies as pip reads them from the built metadata (dry run: installs and downloads nothing)."""
    report = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed",
                          "--no-build-isolation", "--disable-pip-version-check", "--quiet", "--report", str(report),
                          str(ROOT)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    (item,) = json.loads(report.read_text())["install"]
    assert item["metadata"]["name"] == "attrkit"
    return [Requirement(r) for r in item["metadata"]["requires_dist"]]


def test_metadata_accepts_the_newest_torch_and_torchvision(tmp_path):
    latest = {name: newest(name) for name in ("torch", "torchvision")}
    reqs = {r.name: r for r in built_metadata(tmp_path) if r.marker is None}
    for name, version in latest.items():
        assert reqs[name].specifier.contains(version, prereleases=True), \
            f"attrkit's metadata ({reqs[name]}) refuses {name} {version}, the newest the registry serves"
