"""Checks of values: a predicted number, a word, or an array the student computed."""
from __future__ import annotations

import numpy as np

from .answers import as_array, compare_numbers, accepted_words, is_words, same_words, show
from .feedback import not_yet, verdict


def _truth(truth):
    # a callable truth is computed here, inside the check, so the exercise cell need not show it
    return truth() if callable(truth) and not hasattr(truth, "detach") else truth


def _as_label(x):
    """An integer class label from an int, an integral float, a numeric string or a 0-d tensor; else None."""
    if hasattr(x, "item") and getattr(x, "ndim", 0) == 0:
        x = x.item()
    if isinstance(x, str) and x.strip().lstrip("+-").isdigit():
        x = int(x)
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return x if isinstance(x, int) and not isinstance(x, bool) else None


def check(answer, truth, tol=1e-6, rel=1e-3, name="your answer", *, synonyms=(), hint=None, rounding=True,
          reveal=True, label=False):
    """Print feedback on ``answer`` versus ``truth``; return True if they agree (None in record mode).

    **Numbers**, sequences and tensors agree when ``|answer − truth| <= tol + rel·|truth|`` everywhere (like
    ``math.isclose``, elementwise), **or** when the answer is the truth correctly rounded to the digits the
    student wrote (``rounding=True``): a number written with at least two significant digits is accepted if it
    lies within half a unit of its own last digit from the truth. So ``0.011`` passes for 9/784 = 0.01148
    (2 digits, unit 0.001: 0.0105 … 0.0115), ``0.0115`` too, but ``0.012`` does not; ``1.0`` does not pass for
    0.947 (unit 0.1: 0.95 … 1.05), and a single digit (``1``, ``0.01``) gets no allowance, as it is a guess
    rather than a rounding. Floats are read as Python prints them, so write ``"0.50"`` as a string to keep a
    trailing zero. Computed answers (tensors, arrays) get no allowance.

    **Words** (multiple choice): ``truth`` is a string or a set of accepted strings, and ``synonyms`` adds more
    (``check(a, "black", synonyms=["black image", "zeros"])``). Case, spaces, hyphens, a leading article and a
    final full stop do not matter.

    **Class labels** (``label=True``): the answer must be the truth exactly, and a wrong one is not told "too
    high" or "too low" (class 8 is not "more" than class 1).

    **Feedback**: the first wrong try prints ❌ and ``hint`` (never the truth); the second wrong try of the same
    ``name`` shows the truth (unless ``reveal=False``). In record mode (see :mod:`.feedback`) nothing about the
    truth is printed; the answer is written to the log instead.

    ``truth`` may be a function of no arguments, called here, so that the exercise cell does not display how it
    is computed. An answer of ``...`` or None means "not filled in yet". Never raises on a wrong answer.
    """
    if answer is ... or answer is None:
        return not_yet(name)
    truth = _truth(truth)
    if label:
        mine, right = _as_label(answer), _as_label(truth)
        if mine is None:
            print(f"❌ {name}: expected a class number (an integer such as 3), got {answer!r}.")
            return False
        return verdict("check", name, answer, mine == right, right=f" (class {right})", hint=hint, reveal=reveal,
                       wrong=f"You said class {mine}.", truth=f"The answer is class {right}.")
    if is_words(truth):
        main, words = accepted_words(truth, synonyms)
        ok = same_words(answer, truth, synonyms)
        also = [w for w in words if w != main]
        return verdict("check", name, answer, ok, right="", hint=hint, reveal=reveal,
                       wrong=f"You said {answer!r}.",
                       truth=f"The answer is {main!r}" + (f" (also accepted: {', '.join(map(repr, also))})."
                                                            if also else "."))
    compared = compare_numbers(answer, truth, tol, rel, rounding)
    if compared[0] is None:
        print(f"❌ {name}: {compared[1]}")
        return False
    ok, a, t, err, bad = compared
    if t.ndim == 0:
        side = "too high" if float(a.max()) > float(t) else "too low"
        wrong = f"You said {show(a)}, which is {side}." if not np.isnan(err).any() else f"You said {show(a)}."
        truth_line = f"The computed value is {show(t)} (you were off by {float(err.max()):.3g})."
    else:
        wrong = f"{int(bad.sum())} of {bad.size} entries are off (largest difference {np.nanmax(err):.3g})."
        truth_line = f"Computed: {show(t)}."
    return verdict("check", name, answer, ok, right=f" ({show(t)})", wrong=wrong, truth=truth_line, hint=hint,
                   reveal=reveal)


def check_array(answer, truth, tol=1e-6, rel=1e-4, name="your array", *, hint=None, reveal=True):
    """Check an array the student computed (a tensor, numpy array or nested list) against the computed one.

    Stricter than :func:`check`: the shape must match exactly (no single number standing for all entries),
    and there is no rounding allowance. Agreement is ``|answer − truth| <= tol + rel·|truth|`` everywhere, with
    float32 round-off in mind (rel 1e-4). A wrong answer is told how many entries are off and where the first
    one is; the truth is shown only after a second wrong try, as in :func:`check`.
    """
    if answer is ... or answer is None:
        return not_yet(name)
    truth = _truth(truth)
    try:
        a = as_array(answer)
    except (TypeError, ValueError):
        print(f"❌ {name}: expected an array (a tensor, numpy array or list), got {type(answer).__name__}.")
        return False
    t = as_array(truth)
    if a.shape != t.shape:
        print(f"❌ {name}: expected shape {t.shape}, got {a.shape}.")
        return False
    err = np.abs(a - t)
    bad = ~(err <= tol + rel * np.abs(t))
    ok = not bad.any()
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if not ok else None
    return verdict("check_array", name, answer, ok, right=f" (shape {t.shape})", hint=hint, reveal=reveal,
                   wrong=f"{int(bad.sum())} of {bad.size} entries are off, the first at index {first} "
                         f"(largest difference {np.nanmax(err):.3g}).",
                   truth=f"Computed: {show(t)}.")
