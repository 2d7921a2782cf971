"""Checks of code: the student's function against a reference, on a few cases.

Outputs are compared, never source text, so every correct way of writing the function passes (a loop or a
batched tensor expression, ``torch`` or ``numpy``, any order of summation within float32 round-off), and a wrong
one fails on the case that exposes it.
"""
from __future__ import annotations

import copy

import numpy as np
import torch

from .answers import as_array, show
from .feedback import not_yet, verdict


FILL_IN = "replace every ... in your function (and return the result), run its cell, then run this cell again"


class NotFilledIn(Exception):
    """The student's function still contains the ``...`` placeholder."""


def _args(case) -> tuple[tuple, dict]:
    if isinstance(case, dict):
        return (), dict(case)
    if isinstance(case, tuple):
        return case, {}
    return (case,), {}


def _copy(value):
    # each function gets its own copy, so a student's in-place edit can neither change the reference's input
    # nor the caller's tensors
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, torch.nn.Module):
        return value  # models are shared (copying weights is slow); a mutated model shows in the outputs
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - an uncopyable argument is passed as it is
        return value


def _same_inputs(before, after) -> bool:
    for b, a in zip(before, after):
        if isinstance(b, torch.Tensor) and isinstance(a, torch.Tensor):
            if b.shape != a.shape or not torch.equal(b, a.detach()):
                return False
    return True


def _call(fn, args, kwargs):
    out = fn(*args, **kwargs)
    if out is ... or out is None:  # a body of just `...`, or no `return` yet
        raise NotFilledIn
    return out


def _flat(out, expected: int | None = None) -> list:
    """A result as a list of arrays (a tuple or list of tensors counts as several outputs).

    When one output is ``expected``, a list of equally shaped values is that one output, stacked: a loop that
    appends one 0-d tensor per row is as right as the batched expression that returns them in one tensor.
    """
    if isinstance(out, (tuple, list)) and out and all(hasattr(o, "shape") or np.isscalar(o) for o in out) \
            and any(hasattr(o, "shape") for o in out):
        parts = [as_array(o) for o in out]
        if expected == 1 and len(parts) > 1 and len({a.shape for a in parts}) == 1:
            return [np.stack(parts)]
        return parts
    return [as_array(out)]


def _mask_for_floats(mine, theirs) -> str | None:
    """Why a bool mask is wrong where the reference returns a float tensor (IG refuses a bool baseline)."""
    def is_mask(o):
        return o.dtype == torch.bool if isinstance(o, torch.Tensor) else isinstance(o, np.ndarray) and o.dtype == bool

    parts = mine if isinstance(mine, (tuple, list)) else [mine]
    if isinstance(theirs, torch.Tensor) and theirs.is_floating_point() and parts and all(map(is_mask, parts)):
        return "it returned a bool tensor (a mask); the reference returns floats: convert it (.float())"
    return None


def _differs(mine, theirs, tol, rel) -> str | None:
    """None if the outputs agree, else what differs (without the expected values)."""
    if len(mine) != len(theirs):
        return f"it returned {len(mine)} value(s), {len(theirs)} expected"
    for k, (a, t) in enumerate(zip(mine, theirs)):
        where = f" (output {k})" if len(theirs) > 1 else ""
        if a.shape != t.shape:
            return f"shape {a.shape}{where}, expected {t.shape}"
        err = np.abs(a - t)
        bad = ~(err <= tol + rel * np.abs(t))
        if bad.any():
            return f"{int(bad.sum())} of {bad.size} values{where} are off (largest difference {np.nanmax(err):.3g})"
    return None


def check_function(student_fn, reference_fn, cases, tol=1e-6, rel=1e-4, name="your function", *, hint=None,
                   reveal=True):
    """Run ``student_fn`` and ``reference_fn`` on every case and compare the outputs; True if all agree.

    ``cases``: a list; each case is a tuple of positional arguments, a dict of keyword arguments, or a single
    argument. Each function gets its own copy of the tensors of a case, and a student function that changes
    its inputs in place is told so (the kit's rule: never mutate the caller's tensors). Outputs may be tensors,
    arrays, numbers, or a tuple of them; they agree when the shapes match and
    ``|mine − reference| <= tol + rel·|reference|`` everywhere (rel 1e-4 leaves room for float32 round-off
    from a different order of summation, not for a wrong formula). A bool mask where the reference returns a
    float tensor is wrong even where its values agree: it cannot be used where the floats go.

    A function that returns ``...`` or None, or trips over the ``...`` placeholder, counts as "not filled in
    yet". An exception raised by the student's function is reported, never re-raised. The reference's output for the
    failing case is shown only after a second wrong try (and in record mode never; the source is recorded).
    """
    if student_fn is ... or student_fn is None:
        return not_yet(name, FILL_IN)
    if not callable(student_fn):
        print(f"❌ {name}: expected a function (def ...), got {type(student_fn).__name__}.")
        return False
    for number, case in enumerate(cases, 1):
        args, kwargs = _args(case)
        reference_out = _call(reference_fn, tuple(_copy(a) for a in args), {k: _copy(v) for k, v in kwargs.items()})
        theirs = _flat(reference_out)
        my_args, my_kwargs = tuple(_copy(a) for a in args), {k: _copy(v) for k, v in kwargs.items()}
        kept = tuple(_copy(a) for a in my_args) + tuple(_copy(v) for v in my_kwargs.values())
        try:
            my_out = _call(student_fn, my_args, my_kwargs)
            mine = _flat(my_out, expected=len(theirs))
        except NotFilledIn:
            return not_yet(name, FILL_IN)
        except Exception as e:  # noqa: BLE001 - any error of the student's code is feedback, not a crash
            if "ellipsis" in str(e).lower():  # ... * x, ....reshape(), torch.tensor(...)
                return not_yet(name, FILL_IN)
            return _wrong(name, student_fn, number, f"your function raised {type(e).__name__}: {e}", theirs, hint,
                          reveal)
        if not _same_inputs(kept, my_args + tuple(my_kwargs.values())):
            return _wrong(name, student_fn, number, "your function changed its input tensors in place; "
                          "work on copies (x = x.clone()) or build new tensors", theirs, hint, reveal)
        problem = _mask_for_floats(my_out, reference_out) or _differs(mine, theirs, tol, rel)
        if problem:
            return _wrong(name, student_fn, number, problem, theirs, hint, reveal)
    return verdict("check_function", name, student_fn, True, right=f" (agrees on all {len(cases)} cases)",
                   wrong="", truth="", hint=hint)


def _wrong(name, fn, number, problem, theirs, hint, reveal):
    expected = "; ".join(show(t) for t in theirs)
    return verdict("check_function", name, fn, False, right="", wrong=f"On case {number}: {problem}.", hint=hint,
                   reveal=reveal, truth=f"On case {number} the reference returns {expected}.")
