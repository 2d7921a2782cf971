"""AGI's argument checks: each bad value gets an error that says what to pass instead."""
from __future__ import annotations

import math

import torch


def check_choice(value, allowed, name):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def check_epsilon(epsilon) -> float:
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)):
        raise TypeError(f"epsilon must be a number (the L∞ step size, e.g. 0.05 for [0, 1] pixels), "
                        f"got {type(epsilon).__name__}")
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon must be a finite number > 0 (the L∞ step size, e.g. 0.05 for [0, 1] "
                         f"pixels), got {epsilon}")
    return float(epsilon)


def check_bounds(bounds, parts_in: tuple, parts):
    """None, or (low, high): numbers or tensors broadcastable to one input (e.g. (C, 1, 1) per channel). For tuple
    inputs also one (low, high) or None per part; the bounds come back packed as the walk sees the inputs."""
    if bounds is None:
        return None
    if not isinstance(bounds, (tuple, list)):
        raise TypeError(f"bounds must be None or a pair (low, high), got {bounds!r}")
    per_part = not parts.single and len(bounds) == len(parts_in) and \
        all(b is None or isinstance(b, (tuple, list)) for b in bounds)
    if per_part:
        bounds = _packed_bounds(bounds, parts_in, parts)
    elif len(bounds) != 2:
        raise TypeError(f"bounds must be None or a pair (low, high)"
                        + ("" if parts.single else f", or one (low, high) or None for each of the {len(parts_in)} "
                           "input parts") + f", got {bounds!r}")
    inputs = parts.pack(parts_in)
    try:
        lo, hi = (torch.as_tensor(b, dtype=inputs.dtype, device=inputs.device) for b in bounds)
        if torch.broadcast_shapes(lo.shape, hi.shape, inputs.shape[1:]) != inputs.shape[1:]:
            raise RuntimeError
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"bounds must be numbers or tensors broadcastable to one input of shape "
                         f"{tuple(inputs.shape[1:])} (e.g. shape (C, 1, 1) per channel)"
                         + ("" if parts.single else "; for tuple inputs give one (low, high) or None per part")
                         ) from None
    if torch.isnan(lo).any() or torch.isnan(hi).any() or not (lo < hi).all():
        raise ValueError(f"bounds must satisfy low < high everywhere, got {bounds!r}")
    if ((inputs < lo) | (inputs > hi)).any():
        raise ValueError(f"inputs lie outside bounds (inputs range {float(inputs.min()):.4g} to "
                         f"{float(inputs.max()):.4g}); AGI clamps every point into bounds, so the walk must start "
                         "inside. Pass the range your model's inputs live in (per-channel tensors "
                         "((0 - mean) / std, (1 - mean) / std) for normalised images), clamp the inputs, or use "
                         "bounds=None for no clamp")
    return tuple(float(b) if b.dim() == 0 else b for b in (lo, hi))


def _packed_bounds(bounds, parts_in: tuple, parts) -> tuple:
    """One (low, high) or None per part → (low, high) over the packed input (None: ±inf, no clamp)."""
    ends = []
    for end in (0, 1):
        full = []
        for k, (b, p) in enumerate(zip(bounds, parts_in)):
            if b is not None and len(b) != 2:
                raise TypeError(f"bounds[{k}] must be None or a pair (low, high) for input part {k}, got {b!r}")
            value = (-math.inf, math.inf)[end] if b is None else b[end]
            try:
                full.append(torch.as_tensor(value, dtype=parts.dtype, device=p.device).expand(1, *p.shape[1:]))
            except (TypeError, ValueError, RuntimeError):
                raise ValueError(f"bounds[{k}] must be numbers or tensors broadcastable to one example of input "
                                 f"part {k}, shape {tuple(p.shape[1:])}") from None
        ends.append(parts.pack(full)[0])
    return tuple(ends)
