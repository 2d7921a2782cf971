""""Predict, then check": compare a student's prediction with the computed truth, kindly.

    my_guess = ...                                   # the student writes a number here first
    check(my_guess, attributions.sum(), rel=0.05, name="sum of attributions")

check() prints one line of feedback and returns True or False. It never raises on a wrong, missing or
oddly typed answer: a notebook cell that checks must not turn red because the guess was wrong.
"""

import numpy as np


def _as_array(x):
    """Number, sequence, numpy array or torch tensor -> float numpy array (ValueError/TypeError if not)."""
    if hasattr(x, "detach"):  # torch tensor, possibly requiring grad or on another device
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def _show(x):
    return np.array2string(x, precision=4, threshold=6) if x.ndim else f"{float(x):.4g}"


def check(answer, truth, tol=1e-6, rel=1e-3, name="your answer"):
    """Print feedback on `answer` versus `truth`; return True if they agree.

    Numbers, sequences and tensors agree when |answer - truth| <= tol + rel * |truth| everywhere
    (like math.isclose, elementwise). Strings (multiple choice) agree ignoring case and outer spaces.
    An answer of ... or None means "not filled in yet".
    """
    if answer is ... or answer is None:
        print(f"✏️ {name}: fill in your prediction (replace the ...), then run this cell again.")
        return False
    if isinstance(truth, str):
        ok = isinstance(answer, str) and answer.strip().lower() == truth.strip().lower()
        print(f"✅ {name}: correct!" if ok else f"❌ {name}: not quite. You said {answer!r}; "
              f"the answer is {truth!r}.")
        return ok
    try:
        a = _as_array(answer)
    except (TypeError, ValueError):
        print(f"❌ {name}: expected a number or numbers, got {type(answer).__name__} {answer!r}.")
        return False
    t = _as_array(truth)
    if a.shape != t.shape and a.size != 1:  # a single number may stand for all entries
        print(f"❌ {name}: expected shape {t.shape}, got {a.shape}.")
        return False
    err = np.abs(a - t)
    bad = ~(err <= tol + rel * np.abs(t))  # written so that a NaN counts as wrong
    if not bad.any():
        print(f"✅ {name}: correct! ({_show(t)})")
        return True
    if t.ndim == 0:
        print(f"❌ {name}: not quite. You said {_show(a)}, the computed value is {_show(t)} "
              f"(off by {float(err):.3g}).")
    else:
        print(f"❌ {name}: not quite. {int(bad.sum())} of {bad.size} entries are off "
              f"(largest difference {err.max():.3g}); computed: {_show(t)}.")
    return False
