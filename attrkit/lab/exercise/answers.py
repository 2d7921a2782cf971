"""When does an answer equal the truth? Numbers (with the rounding rule), arrays and words (with synonyms).

Nothing here prints: each function returns a verdict and the words that explain it, and :mod:`.feedback` decides
what the student may see.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

import numpy as np

MIN_DIGITS = 2  # the rounding rule needs at least this many significant digits ("1" for 0.947 is a guess)


def as_array(x) -> np.ndarray:
    """Number, sequence, numpy array or torch tensor -> float numpy array (ValueError/TypeError if not)."""
    if hasattr(x, "detach"):  # torch tensor, possibly requiring grad or on another device
        x = x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=float)


def show(x) -> str:
    x = as_array(x)
    return np.array2string(x, precision=4, threshold=6) if x.ndim else f"{float(x):.4g}"


# ---- the rounding rule -----------------------------------------------------------------------------------------

def written_digits(value) -> tuple[int, float] | None:
    """(significant digits, unit of the last digit) of a number as the student wrote it, or None.

    Floats are read as Python prints them (``0.011`` → 2 digits, unit 0.001), numeric strings as typed
    (``"0.50"`` → 2 digits, unit 0.01: a string keeps a trailing zero that a float loses), integers without
    their trailing zeros (``150`` → 2 digits, unit 10). Tensors, arrays and booleans return None: they were
    computed, not written, and get no rounding allowance.
    """
    if isinstance(value, (bool, np.bool_)) or hasattr(value, "detach") or isinstance(value, np.ndarray):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value)):
        digits = str(abs(int(value)))
        kept = digits.rstrip("0") or "0"
        return len(kept), 10.0 ** (len(digits) - len(kept))
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        text = repr(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    sign, digits, exponent = d.as_tuple()
    digits = "".join(map(str, digits)).lstrip("0") or "0"
    return len(digits), 10.0 ** exponent


def rounding_slack(answer) -> np.ndarray | float:
    """Half a unit of the last written digit, per entry (0 where the rounding rule does not apply)."""
    if isinstance(answer, (list, tuple)):
        return np.array([rounding_slack(a) for a in answer], dtype=float)
    written = written_digits(answer)
    if written is None or written[0] < MIN_DIGITS:
        return 0.0
    return 0.5 * written[1] * (1 + 1e-9)  # 1e-9: 0.0115 is stored as 0.01149999…, which must still round to 0.011


def parse_number(answer):
    """A numeric string ("0.011") as a number; anything else unchanged."""
    if isinstance(answer, str):
        try:
            return float(answer)
        except ValueError:
            return answer
    return answer


def compare_numbers(answer, truth, tol: float, rel: float, rounding: bool):
    """(ok, answer array, truth array, error array, bad mask) or (None, message) for an unusable answer."""
    try:
        a = as_array(parse_number(answer))
    except (TypeError, ValueError):
        return None, f"expected a number or numbers, got {type(answer).__name__} {answer!r}."
    t = as_array(truth)
    if a.shape != t.shape and a.size != 1:  # a single number may stand for all entries
        return None, f"expected shape {t.shape}, got {a.shape}."
    err = np.abs(a - t)
    allowed = tol + rel * np.abs(t)
    if rounding:
        allowed = np.maximum(allowed, np.broadcast_to(rounding_slack(answer), a.shape))
    bad = ~(err <= allowed)  # written so that a NaN counts as wrong
    return not bad.any(), a, t, err, bad


# ---- words -----------------------------------------------------------------------------------------------------

ARTICLES = re.compile(r"^(the|a|an)\s+")


def normalise(word: str) -> str:
    """Case, outer spaces and quotes, hyphens/underscores, repeated spaces, a final full stop and a leading
    article do not matter: "The black-image." reads as "black image"."""
    w = re.sub(r"[\s_\-]+", " ", word.strip().strip("'\"`").rstrip(".!").lower()).strip()
    return ARTICLES.sub("", w)


def accepted_words(truth, synonyms=()) -> tuple[str, list[str]]:
    """(the word to show, every accepted word) from a string or a set of strings, plus synonyms."""
    if isinstance(truth, str):
        main, words = truth, [truth]
    else:
        words = sorted(truth)
        if not words or not all(isinstance(w, str) for w in words):
            raise TypeError("truth must be a string, or a set of strings that are all accepted")
        main = words[0]
    return main, words + [s for s in synonyms]


def is_words(truth) -> bool:
    return isinstance(truth, str) or (isinstance(truth, (set, frozenset)) and all(isinstance(w, str) for w in truth))


def same_words(answer, truth, synonyms=()) -> bool:
    if not isinstance(answer, str):
        return False
    _, words = accepted_words(truth, synonyms)
    return normalise(answer) in {normalise(w) for w in words}
