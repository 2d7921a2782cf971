"""Where the shipped data lives, and reading it safely.

The repository's top-level ``data/`` is the source. A built wheel carries a copy of it inside the package, as
``attrkit/_data`` (``pyproject.toml`` maps that package folder onto ``data/``), read through
:mod:`importlib.resources` like scikit-learn's bundled datasets; an editable install of a checkout reads
``data/`` itself. ``ATTRKIT_DATA`` points the kit at another folder with the same layout.

Every failure names the file and the fix that fits where the kit runs: a checkout rebuilds with its scripts, an
installed copy is reinstalled. Data files never run code (``allow_pickle=False``, ``weights_only=True``).
"""
from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

import numpy as np
import torch

DATA_ENV = "ATTRKIT_DATA"
CHECKOUT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """The data folder: ``$ATTRKIT_DATA`` if set, else the installed package's copy, else the checkout's data/."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    packaged = importlib.resources.files("attrkit") / "_data"
    if packaged.is_dir():
        return Path(str(packaged))
    return CHECKOUT / "data"


def _fix(rebuild: str) -> str:
    where = data_dir()
    if os.environ.get(DATA_ENV):
        return (f"{DATA_ENV} points at {where}: copy the file there from the repository's data/ (made by "
                f"`{rebuild}`), or unset {DATA_ENV} to use the kit's own copy")
    if where == CHECKOUT / "data" and (CHECKOUT / "scripts").is_dir():
        return f"restore it with `git checkout data/` or rebuild it with `{rebuild}` from {CHECKOUT}"
    return ("this installed copy of attrkit lacks it: reinstall the kit "
            "(`pip install --force-reinstall --no-deps attrkit`, or the same `pip install` you used to get it)")


def missing(path: Path, rebuild: str = "python scripts/make_data.py") -> FileNotFoundError:
    return FileNotFoundError(f"attrkit data file missing: {path}. {_fix(rebuild)}.")


def _short(e, limit=200):
    """A library's error on one line, shortened: the file name and the fix must stay visible in ours."""
    text = " ".join(f"{type(e).__name__}: {e}".split())
    return text if len(text) <= limit else text[:limit] + "..."


def read_npz(filename: str) -> dict:
    """The arrays of ``data/<filename>``, with no pickles (a data file can't run code)."""
    path = data_dir() / filename
    if not path.is_file():
        raise missing(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except Exception as e:
        raise RuntimeError(f"attrkit data file unreadable: {path} ({_short(e)}); {_fix('python scripts/make_data.py')}."
                           ) from None


def need(arrays: dict, filename: str, *keys) -> None:
    absent = [k for k in keys if k not in arrays]
    if absent:
        raise RuntimeError(f"attrkit data file {data_dir() / filename} lacks {absent}: it is stale or corrupt; "
                           f"{_fix('python scripts/make_data.py')}.")


def read_weights(name: str, model: torch.nn.Module) -> None:
    """Load ``data/weights/<name>.pt`` (tensors only, never code) into ``model``."""
    path = data_dir() / "weights" / f"{name}.pt"
    rebuild = f"python scripts/train_zoo.py {name}"
    if not path.is_file():
        raise missing(path, rebuild)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise RuntimeError(f"attrkit weights unreadable: {path} ({_short(e)}); {_fix(rebuild)}.") from None
    try:
        model.load_state_dict(state)
    except Exception as e:
        raise RuntimeError(f"attrkit weights {path} do not fit the {type(model).__name__} architecture "
                           f"({_short(e)}); {_fix(rebuild)}.") from None
