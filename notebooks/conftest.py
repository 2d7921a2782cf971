"""nbval collects notebooks/*.ipynb: where rdkit is missing, skip the notebooks that need it, saying why (their
molecule cells print a note instead of a drawing, so their committed outputs cannot match)."""
import importlib.util

import pytest

NEEDS_RDKIT = ("11_ground_truth.ipynb",)
REASON = "rdkit is not installed: pip install 'attrkit[chem]' to run the molecule lab of notebook 11"


def pytest_collection_modifyitems(config, items):
    if importlib.util.find_spec("rdkit") is not None:
        return
    for item in items:
        if item.path.name in NEEDS_RDKIT:
            item.add_marker(pytest.mark.skip(reason=REASON))
