"""A tensor or a tuple of tensors, as one packed tensor: the inputs of IG and AGI, and their extra forward arguments.

Both methods move points through the joint input space of a model: IG along the straight path
γ(α) = x′ + α (x − x′) (Eq. 1), AGI along its adversarial walks. A tuple (x_img, x_tab) is one point of that
space. :class:`Parts` packs the tuple into one (N, D) tensor (each part flattened, in their common float dtype)
so the method's code stays that of one tensor, and unpacks points and attributions into the caller's shapes
and dtypes. A single tensor is not packed at all.

Extra forward arguments (attention masks, token types) are not moved: :func:`expand_args` gives every point the
arguments of its own input (row r of a pass belongs to input r mod N).
"""
from __future__ import annotations

import math

import torch

from .checks import check_batch


class Parts:
    """The structure of the inputs: each part's shape (without N) and dtype, and whether they came as a tuple."""

    def __init__(self, parts: tuple, single: bool):
        self.shapes = [tuple(p.shape[1:]) for p in parts]
        self.dtypes = [p.dtype for p in parts]
        self.single = single
        self.sizes = [math.prod(s) for s in self.shapes]
        dtype = parts[0].dtype
        for p in parts[1:]:
            dtype = torch.promote_types(dtype, p.dtype)
        self.dtype = dtype

    def pack(self, parts) -> torch.Tensor:
        """(P, *shape_i) parts → one (P, ...) tensor: the part itself, or all flattened side by side."""
        if self.single:
            return parts[0]
        return torch.cat([p.reshape(p.shape[0], -1).to(self.dtype) for p in parts], 1)

    def unpack(self, x: torch.Tensor, lead: int = 1) -> tuple:
        """Packed (*lead dims, D) → a tuple of (*lead dims, *shape_i), each in its own dtype."""
        if self.single:
            return (x,)
        front = x.shape[:lead]
        return tuple(p.reshape(*front, *s).to(d if d.is_floating_point else p.dtype)
                     for p, s, d in zip(x.split(self.sizes, lead), self.shapes, self.dtypes))

    def give_back(self, x: torch.Tensor, lead: int = 1):
        """Like :meth:`unpack`, but a single tensor comes back as itself, a tuple as a tuple."""
        parts = self.unpack(x, lead)
        return parts[0] if self.single else parts


def as_parts(inputs, name: str = "inputs", allow_int: bool = False) -> tuple[tuple, bool]:
    """A batch or a tuple of batches with the same N → (tuple of checked tensors, came as one tensor?)."""
    if isinstance(inputs, (tuple, list)):
        if not inputs:
            raise ValueError(f"{name} is an empty tuple: pass a tensor (N, ...) or a tuple of them")
        parts = tuple(check_batch(p, f"{name}[{k}]", allow_int) for k, p in enumerate(inputs))
        sizes = [p.shape[0] for p in parts]
        if len(set(sizes)) > 1:
            raise ValueError(f"the parts of {name} disagree on the batch size (dim 0): {sizes}; every part needs "
                             "one row per example")
        floats = [p.is_floating_point() for p in parts]
        if not allow_int and not all(floats):
            raise TypeError(f"{name}[{floats.index(False)}] is not floating-point; every part is on the path")
        return parts, False
    return (check_batch(inputs, name, allow_int),), True


def check_args(forward_args, n: int) -> tuple:
    """Extra forward arguments → a tuple; every tensor must have one row per input (dim 0 = N) or be 0-d."""
    if forward_args is None:
        return ()
    args = tuple(forward_args) if isinstance(forward_args, (tuple, list)) else (forward_args,)
    for k, a in enumerate(args):
        if isinstance(a, torch.Tensor) and a.dim() > 0 and a.shape[0] != n:
            raise ValueError(f"forward_args[{k}] has shape {tuple(a.shape)} but there are {n} inputs: every tensor "
                             f"in forward_args needs one row per input (dim 0 = {n}), as it travels with its "
                             "input's path points; pass anything else in a closure, model=lambda x: net(x, w)")
    return args


def expand_args(args: tuple, rows: torch.Tensor, n: int) -> tuple:
    """Each batch tensor's rows for the path points ``rows`` (row r belongs to input r mod N); a copy, so an
    in-place model never writes to the caller's tensor. Other arguments are passed as they are."""
    return tuple(a[(rows % n).to(a.device)] if isinstance(a, torch.Tensor) and a.dim() > 0 else a for a in args)
