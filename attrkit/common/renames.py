"""One vocabulary across functions and explorers, and the old spellings still accepted (with a warning).

    method     the quadrature rule (``integrated_gradients(method=...)``; the explorers once said ``rule``)
    baseline   the baseline x′, or for an explorer a menu {name: baseline} (explorers once said ``baselines``)
    classes    AGI's false classes: how many (k), or which (``agi(classes=...)``; ``AGIExplorer`` once said ``k``)
"""
from __future__ import annotations

import warnings


def renamed(old: dict, where: str, **new_name_of) -> dict:
    """The values of old keyword spellings in ``old``, keyed by their new names, each with a DeprecationWarning
    that names the new one; any other keyword is the TypeError Python would give."""
    unknown = [k for k in old if k not in new_name_of]
    if unknown:
        raise TypeError(f"{where}() got an unexpected keyword argument {unknown[0]!r}")
    for k in old:
        warnings.warn(f"{where}({k}=...) is now spelled {new_name_of[k]}=...; {k}= will be removed",
                      DeprecationWarning, stacklevel=3)
    return {new_name_of[k]: v for k, v in old.items()}
