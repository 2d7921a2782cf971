"""What a model returns, turned into the (N, C) class scores every method explains.

IG and AGI explain one number per example, F(x) = a class score. Models return more shapes than (N, C):

    (N, C)                    class scores: used as they are
    (N,) or (N, 1)            one score per example (regression, a sigmoid classifier): one column, C = 1
    (N, C, *positions)        segmentation, sequences: a position target (c, *p) or a named reduction
    .logits                   a Hugging Face ``ModelOutput``: its ``logits``
    (scores, ...)             a tuple or list whose first element is the scores (``return_dict=False``)

Anything else (a dict without ``logits``, a tuple of non-tensors) is refused with the one-line fix.
"""
from __future__ import annotations

import math

import torch

REDUCTIONS = ("sum", "mean")


def score_tensor(out, rows: int | None = None) -> torch.Tensor:
    """The scores tensor inside whatever the model returned (``rows``: the batch it was called on, for errors)."""
    if isinstance(out, torch.Tensor):
        return out
    logits = getattr(out, "logits", None)
    if logits is None and isinstance(out, dict) and "logits" in out:
        logits = out["logits"]
    if isinstance(logits, torch.Tensor):  # Hugging Face ModelOutput (an OrderedDict with attributes)
        return logits
    if isinstance(out, dict):
        keys = ", ".join(map(repr, list(out)[:5]))
        raise TypeError(f"the model returned a dict (keys {keys}) without 'logits': wrap it so it returns the "
                        f"scores, e.g. model=lambda x: net(x)[{next(iter(out), 'key')!r}]")
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]  # the Hugging Face return_dict=False convention: scores first
    raise TypeError(f"the model returned a {type(out).__name__}, not a tensor of class scores: wrap it so it "
                    "returns one, e.g. model=lambda x: net(x).scores")


def class_table(out, rows: int, n: int, reduce: str | None = None, position: bool = False) -> torch.Tensor:
    """The model's raw output for ``rows`` examples → (rows, C) scores. (N,) becomes one column; outputs with
    more dims are reduced over the positions (dims ≥ 2, ``reduce`` "sum" or "mean") or, with ``position``
    (a position target), flattened so that column c·P + p is class c at position p. ``n`` is the user's batch
    size, used in messages instead of the internal batch (the probe runs x and x′ together)."""
    s = score_tensor(out, rows)
    if s.dim() == 0 or s.shape[0] != rows:
        shown = (n,) + tuple(s.shape[1:]) if s.dim() and s.shape[0] % max(n, 1) == 0 else tuple(s.shape)
        raise ValueError(f"model output must have one row per input, (N, ...) = ({n}, ...), got {shown}; wrap the "
                         "model so forward returns the batch's scores first (one example without its batch axis? "
                         "use inputs.unsqueeze(0))")
    if not s.is_floating_point():
        raise TypeError(f"model output must be floating-point scores, got {s.dtype} (argmax or rounding inside "
                        "the model?)")
    if s.dim() == 1:
        return s.unsqueeze(1)
    if s.dim() == 2:
        if reduce is not None:
            raise ValueError(f"reduce={reduce!r} needs an output with positions (N, C, ...), got (N, C) = "
                             f"{(n,) + tuple(s.shape[1:])}; leave reduce=None")
        return s
    if reduce is not None:
        return s.flatten(2).sum(2) if reduce == "sum" else s.flatten(2).mean(2)
    if position:
        return s.flatten(1)
    raise ValueError(f"model output has shape {(n,) + tuple(s.shape[1:])}: name what F is, either a position "
                     f"target=(class, {', '.join('i' + str(k) for k in range(s.dim() - 2))}) or a reduction over "
                     "the positions, reduce='sum' or 'mean'")


def explained(table: torch.Tensor, output: str, classes_dim_size: int | None = None) -> torch.Tensor:
    """The (P, C) table in the space being explained: raw, or softmax over the classes. With a flattened
    position table (C·P columns) the softmax runs over the C classes at each position."""
    if output == "logit":
        return table
    if classes_dim_size is not None:
        return torch.softmax(table.view(table.shape[0], classes_dim_size, -1), dim=1).flatten(1)
    return torch.softmax(table, dim=-1)


def position_index(target, shape: tuple, n: int) -> torch.Tensor:
    """A position target → (N,) flat indices into an output (N, *shape): an int tuple (c, *p) shared by all
    inputs, or a list of N such tuples."""
    def flat(t):
        if len(t) != len(shape) or not all(isinstance(v, int) and not isinstance(v, bool) for v in t):
            raise ValueError(f"target must be an int tuple of length {len(shape)} (class, then one index per "
                             f"position dim) for outputs of shape (N, {', '.join(map(str, shape))}), got {t!r}")
        if not all(0 <= v < d for v, d in zip(t, shape)):
            raise ValueError(f"target {t!r} is out of range for outputs of shape (N, {', '.join(map(str, shape))})")
        return sum(v * math.prod(shape[k + 1:]) for k, v in enumerate(t))

    if isinstance(target, tuple):
        return torch.full((n,), flat(target), dtype=torch.long)
    if isinstance(target, list) and len(target) == n and all(isinstance(t, tuple) for t in target):
        return torch.tensor([flat(t) for t in target], dtype=torch.long)
    raise ValueError(f"target must be an int tuple (class, position...) or a list of {n} such tuples for "
                     f"outputs of shape (N, {', '.join(map(str, shape))}), got {type(target).__name__}")
