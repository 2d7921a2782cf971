"""Give matplotlib a writable config/cache folder before it is imported, so a read-only home (a JupyterHub
volume, a container) shows no "Matplotlib created a temporary cache directory" warning in a notebook's first cell.

We only set ``MPLCONFIGDIR`` when the user has not, matplotlib is not imported yet, and the folder matplotlib would
use is not writable: then matplotlib itself would fall back to a temporary folder, with the warning. Nothing is
created on a writable home (matplotlib creates its folders there itself, as usual).
"""
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path


def _writable(folder: Path) -> bool:
    """Could `mkdir -p folder` succeed and the result be written to? Checked without creating anything."""
    for parent in (folder, *folder.parents):
        if parent.exists():
            return parent.is_dir() and os.access(parent, os.W_OK)
    return False


def _default_dirs() -> list:
    """matplotlib's own defaults (matplotlib.get_configdir / get_cachedir) when MPLCONFIGDIR is unset."""
    if not sys.platform.startswith(("linux", "freebsd")):
        return []  # macOS ~/.matplotlib and Windows %LOCALAPPDATA% live in a normal, writable home
    home = Path.home()
    return [Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config", "matplotlib"),
            Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache", "matplotlib")]


def ensure_writable_mplconfig() -> None:
    if os.environ.get("MPLCONFIGDIR") or "matplotlib" in sys.modules:
        return
    try:
        dirs = _default_dirs()
    except RuntimeError:  # no home directory at all
        dirs = [None]
    if all(d is not None and _writable(d) for d in dirs):
        return
    config = dirs[0] if dirs and dirs[0] is not None and _writable(dirs[0]) else None
    # a writable config folder keeps the user's matplotlibrc; only the cache needed a home
    if config is None:
        config = tempfile.mkdtemp(prefix="matplotlib-")
        atexit.register(shutil.rmtree, config, ignore_errors=True)  # as matplotlib does with its own fallback
    os.environ["MPLCONFIGDIR"] = str(config)
