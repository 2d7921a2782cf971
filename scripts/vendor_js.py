"""Fetch pinned npm packages once into build/vendor/ (``npm pack`` from npm's registry), for pages that must load
nothing from a CDN at view time: the slide decks (scripts/build_slides.py) and the book (scripts/build_book.py).
A lecture hall may be offline, so both copy what they need next to their HTML from this one local cache.

``npm pack`` downloads a package's tarball only (no install scripts, no dependencies); a machine without npm can
use a build/vendor/ folder copied from one that has it.
"""
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR_DIR = ROOT / "build" / "vendor"


def fetched(packages: dict, vendor: Path = VENDOR_DIR) -> bool:
    """Whether every package of {npm spec: folder name} is already unpacked in `vendor`."""
    return all((vendor / name / "package.json").exists() for name in packages.values())


def fetch(packages: dict, vendor: Path = VENDOR_DIR) -> Path:
    """Unpack each pinned npm package of {spec: folder name} into vendor/<folder name> (once); return `vendor`."""
    missing = {spec: name for spec, name in packages.items() if not (vendor / name / "package.json").exists()}
    if not missing:
        return vendor
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(f"npm is needed once to fetch {sorted(missing)} (apt-get install npm), or copy a "
                         f"build/vendor/ folder holding {sorted(packages.values())} from another machine")
    vendor.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for spec, name in missing.items():
            run = subprocess.run([npm, "pack", spec, "--silent"], cwd=tmp, capture_output=True, text=True)
            if run.returncode:
                raise RuntimeError(f"npm pack {spec} failed: {run.stderr[-2000:]}")
            tgz = Path(tmp) / run.stdout.strip().splitlines()[-1]
            with tarfile.open(tgz) as tar:
                tar.extractall(Path(tmp) / name, filter="data")
            if (vendor / name).exists():
                shutil.rmtree(vendor / name)
            shutil.move(Path(tmp) / name / "package", vendor / name)
    return vendor
