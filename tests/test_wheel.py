"""The built wheel carries the whole kit: installed (not editable) into a fresh environment and used from a folder
outside the repository, it loads every zoo entry, lists the photos, runs IG and AGI, and runs 00_start_here.

The fresh environment reuses the test environment's packages (torch & co.) through a ``.pth`` file, so this costs
seconds, not a 6 GB install; the kit itself comes only from the wheel (checked).
"""
import shutil
import site
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIMIT_MB = 10


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out)], check=True, capture_output=True)
    (path,) = out.glob("attrkit-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """A fresh venv with the wheel installed into it; python and the outside folder to run from."""
    env = tmp_path_factory.mktemp("env")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env / "venv")], check=True)
    python = env / "venv" / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    target = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    # torch, numpy, jupyter ... from the test environment; a plain path entry, so its editable attrkit is not seen
    (target / "_test_env.pth").write_text("\n".join(site.getsitepackages() + [sysconfig.get_paths()["purelib"]]))
    outside = env / "work"
    outside.mkdir()
    return python, outside


def run(python, cwd, code, timeout=300):
    clean = {k: v for k, v in __import__("os").environ.items() if k not in ("PYTHONPATH", "ATTRKIT_DATA")}
    return subprocess.run([str(python), "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=clean | {"ATTRKIT_PROGRESS": "0"})


def test_wheel_is_small_and_carries_the_data(wheel, request):
    size = wheel.stat().st_size / 2**20
    request.config.stash.setdefault("attrkit_notes", []).append(f"attrkit wheel: {wheel.name}, {size:.2f} MB")
    assert size < LIMIT_MB, f"the wheel is {size:.1f} MB; keep it under {LIMIT_MB} MB"
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [p.relative_to(ROOT / "data").as_posix() for p in (ROOT / "data").rglob("*") if p.is_file()]
    missing = [p for p in shipped if f"attrkit/_data/{p}" not in names]
    assert not missing, f"data files not in the wheel: {missing}"
    assert not any(n.startswith(("tests/", "notebooks/", "bench/", "scripts/")) for n in names)
    packages = [p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "attrkit").rglob("__init__.py")]
    absent = [p for p in packages if f"{p}/__init__.py" not in names]
    assert not absent, f"packages missing from the wheel (list them in pyproject.toml): {absent}"


def test_installed_wheel_works_outside_the_checkout(installed):
    python, outside = installed
    out = run(python, outside, """
        import torch, attrkit
        from pathlib import Path
        assert "site-packages" in attrkit.__file__ and "/work/main/attrkit" not in attrkit.__file__, attrkit.__file__
        print("data", attrkit.zoo.data_dir())
        for name in attrkit.zoo.names():
            e = attrkit.zoo.load(name)
            assert len(e.x_test) > 0, name
        photos = attrkit.imagenet.photos()
        assert len(photos) >= 4, photos
        x = attrkit.imagenet.load_photo(photos[0])
        assert x.shape == (3, 224, 224)
        mnist = attrkit.zoo.load("mnist")
        res = attrkit.integrated_gradients(mnist.model, mnist.x_test[:1], steps=16)
        assert res.relative_delta.item() < 0.2
        a = attrkit.agi(mnist.model, mnist.x_test[:1], classes=2, max_steps=3)
        assert a.attributions.shape == mnist.x_test[:1].shape
        print("ok")
    """)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ok" in out.stdout and "_data" in out.stdout


def test_start_notebook_runs_from_the_wheel(installed):
    python, outside = installed
    shutil.copy(ROOT / "notebooks" / "00_start_here.ipynb", outside)
    out = run(python, outside, """
        import nbformat
        from nbclient import NotebookClient
        nb = nbformat.read("00_start_here.ipynb", as_version=4)
        NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": "."}}).execute()
        print("notebook ok")
    """, timeout=600)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]


def test_installed_copy_missing_a_file_says_reinstall(installed):
    python, outside = installed
    out = run(python, outside, """
        import attrkit, shutil
        d = attrkit.zoo.data_dir()
        shutil.move(str(d / "digits.npz"), str(d / "digits.npz.away"))
        try:
            attrkit.zoo.load("digits")
        except FileNotFoundError as e:
            print(e)
        finally:
            shutil.move(str(d / "digits.npz.away"), str(d / "digits.npz"))
    """)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "digits.npz" in out.stdout and "reinstall" in out.stdout and "scripts/" not in out.stdout
