"""Binder (repo2docker) builds the course from binder/: repo2docker reads that folder instead of the root
environment.yml (which never installs the kit). It must install the kit itself with the pinned working set, use a
Python the kit supports, and open the first notebook."""
import os
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
START = "notebooks/00_start_here.ipynb"


def requirement_lines() -> list[str]:
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    return [line.split(" #")[0].strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_binder_folder_takes_precedence_and_uses_pip():
    assert (BINDER / "requirements.txt").is_file()
    # one buildpack only: a binder/environment.yml would switch repo2docker to conda, which cannot read the pins
    assert not (BINDER / "environment.yml").exists() and not (BINDER / "Dockerfile").exists()


def test_installs_the_kit_with_the_lab_extra():
    local = [line for line in requirement_lines() if re.fullmatch(r"(-e\s+)?\.(\[[a-z,]+\])?", line)]
    assert local, "binder/requirements.txt must install the repository itself ('.' or '.[lab]')"
    extras = re.search(r"\[([a-z,]+)\]", local[0])
    assert extras and "lab" in extras.group(1).split(","), "the course needs JupyterLab and Voilà: '.[lab]'"


def test_uses_the_pinned_working_set():
    constraints = [line.split(None, 1)[1] for line in requirement_lines() if line.startswith(("-c ", "--constraint "))]
    assert constraints, "binder/requirements.txt must constrain to the pins (-c ../constraints.txt)"
    # pip reads a nested -c/-r path relative to the requirements file itself
    assert (BINDER / constraints[0]).resolve() == ROOT / "constraints.txt"
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#"))
    # the CPU index serves torch 2.14.1+cpu, which the pin torch==2.14.1 admits (a local label matches)
    assert f"{pins['torch']}+cpu" in SpecifierSet(f"=={pins['torch']}")
    assert any(line.startswith("--extra-index-url https://download.pytorch.org/whl/cpu") for line in requirement_lines())
    for line in requirement_lines():
        if not line.startswith("-") and not line.startswith("."):
            assert Requirement(line).name in pins, f"{line} is installed on Binder but not pinned"


def test_python_version_is_one_the_kit_supports():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert runtime.startswith("python-")
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert runtime.removeprefix("python-") + ".0" in SpecifierSet(requires)


def test_opens_the_start_notebook():
    post = BINDER / "postBuild"
    assert post.read_text().startswith("#!/bin/bash") and os.access(post, os.X_OK)
    assert (ROOT / START).is_file()
    assert f'default_url = "/lab/tree/{START}"' in post.read_text()
