"""The inputs x and the baselines x′ of IG, a tensor or a tuple of tensors (packing: :mod:`attrkit.common.parts`).

IG's path γ(α) = x′ + α (x − x′) (Eq. 1) runs through all inputs of a model at once, so a tuple
(x_img, x_tab) is one point of a joint input space, and its baseline is a tuple of the same structure.
"""
from __future__ import annotations

from . import baselines


def resolve_baselines(baseline, parts: tuple, single: bool) -> tuple[tuple, str]:
    """The baselines of each part, (k, N, ...) each, with the same k. For tuple inputs ``baseline`` is None, a
    number (for every part) or a tuple with one entry per part (None, a number, a tensor or a Baseline)."""
    if single:
        b, name = baselines.resolve(baseline, parts[0])
        return (b.detach(),), name
    if baseline is None or (isinstance(baseline, (int, float)) and not isinstance(baseline, bool)):
        each = [baseline] * len(parts)
    elif isinstance(baseline, (tuple, list)) and len(baseline) == len(parts):
        each = list(baseline)
    else:
        got = f"a tuple of {len(baseline)}" if isinstance(baseline, (tuple, list)) else type(baseline).__name__
        raise ValueError(f"baseline must match the inputs' structure, a tuple of {len(parts)} (one per input "
                         f"part; None or a number also work), got {got}")
    resolved = [baselines.resolve(b, p) for b, p in zip(each, parts)]
    ks = [b.shape[0] for b, _ in resolved]
    if len(set(ks)) > 1:
        raise ValueError(f"the baselines of the parts give different numbers of samples per input {ks}; use "
                         "the same number of samples for every part")
    names = [n for _, n in resolved]
    return tuple(b.detach() for b, _ in resolved), names[0] if len(set(names)) == 1 else "(" + ", ".join(names) + ")"
