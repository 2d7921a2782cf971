"""What a student sees after a check, and what an instructor collects.

Two modes:

- ``"learn"`` (default): a correct answer gets ✅; the first wrong try gets ❌ and the hint (no truth); the second
  wrong try of the same exercise reveals the computed truth. A correct answer starts the count again.
- ``"record"`` (``ATTRKIT_EXERCISE_MODE=record`` in the environment, or :func:`mode` ``("record")``): nothing about
  the truth is printed, not even whether the answer was right; the line ``{"name", "answer", "correct"}`` is
  appended to the JSON-lines file ``ATTRKIT_EXERCISE_LOG`` (default ``attrkit_answers.jsonl`` in the working
  directory), and the cell prints "recorded". This is the mode of the student release (issue 19).

In record mode every line also carries ``notebook`` (``$ATTRKIT_NOTEBOOK``, which the student release sets) and
``time`` (UTC), and :func:`mark` notes when a student opens and finishes a notebook: ``python
scripts/course_times.py --logs <folder of the class's logs>`` turns them into measured study times per notebook.
"""
from __future__ import annotations

import inspect
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

MODES = ("learn", "record")
MODE_VARIABLE, LOG_VARIABLE, DEFAULT_LOG = "ATTRKIT_EXERCISE_MODE", "ATTRKIT_EXERCISE_LOG", "attrkit_answers.jsonl"
NOTEBOOK_VARIABLE = "ATTRKIT_NOTEBOOK"
EVENTS = ("open", "done")
REVEAL_AFTER = 2  # wrong tries: the first gets the hint, the second the truth

_state = {"mode": None, "tries": {}}  # mode None: follow the environment variable


def mode(new: str | None = None) -> str:
    """The current mode; ``mode("record")`` or ``mode("learn")`` sets it for this session (it then wins over
    the environment variable). ``mode("auto")`` goes back to following ``ATTRKIT_EXERCISE_MODE``."""
    if new is not None:
        if new == "auto":
            _state["mode"] = None
        elif new in MODES:
            _state["mode"] = new
        else:
            raise ValueError(f"mode must be one of {MODES} (or 'auto' to follow ${MODE_VARIABLE}), got {new!r}")
    current = _state["mode"] or os.environ.get(MODE_VARIABLE, "learn").strip().lower() or "learn"
    if current not in MODES:
        raise ValueError(f"${MODE_VARIABLE} must be one of {MODES}, got {current!r}: fix or unset the variable")
    return current


def reset() -> None:
    """Forget every exercise's count of wrong tries, and follow the environment's mode again."""
    _state["tries"].clear()
    _state["mode"] = None


def log_path() -> Path:
    return Path(os.environ.get(LOG_VARIABLE) or DEFAULT_LOG)


def jsonable(answer):
    """The answer as JSON can hold it: numbers and lists as they are, tensors as lists, a function as its
    source code (the grader reads what the student wrote), anything else as its repr."""
    if answer is ... or answer is None:
        return None
    if callable(answer) and not hasattr(answer, "detach"):
        try:
            return inspect.getsource(answer)
        except (OSError, TypeError):
            return repr(answer)
    if hasattr(answer, "detach"):
        answer = answer.detach().cpu().numpy()
    if isinstance(answer, (np.ndarray, np.generic)):
        return answer.tolist()
    try:
        json.dumps(answer)
        return answer
    except (TypeError, ValueError):
        return repr(answer)


def _append(entry: dict) -> None:
    entry.update(notebook=os.environ.get(NOTEBOOK_VARIABLE) or None,
                 time=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    with open(log_path(), "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def record(name: str, answer, correct: bool) -> None:
    _append({"name": name, "answer": jsonable(answer), "correct": bool(correct)})


def mark(event: str) -> None:
    """In record mode, note the time a student ``"open"``s or is ``"done"`` with a notebook (the student
    release's first and last cells call it); in learn mode nothing is written."""
    if event not in EVENTS:
        raise ValueError(f"event must be one of {EVENTS}, got {event!r}")
    if mode() != "record":
        return
    _append({"event": event})
    notebook = os.environ.get(NOTEBOOK_VARIABLE) or "this notebook"
    print(f"📝 {notebook}: {'started' if event == 'open' else 'finished'}, time noted.")


def not_yet(name: str, what: str = "fill in your prediction (replace the ...), then run this cell again") -> bool:
    print(f"✏️ {name}: {what}.")
    return False


def verdict(kind: str, name: str, answer, ok: bool, *, right: str, wrong: str, truth: str, hint: str | None,
            reveal: bool = True):
    """Print one verdict and return it (True/False), or record it (record mode: return None).

    right: the ✅ line's tail; wrong: what may be said about a wrong answer without giving the truth away;
    truth: the sentence that gives it away, shown only after REVEAL_AFTER wrong tries (and if ``reveal``).
    """
    if mode() == "record":
        record(name, answer, ok)
        print(f"📝 {name}: recorded.")
        return None
    key = (kind, name)
    if ok:
        _state["tries"].pop(key, None)
        print(f"✅ {name}: correct!{right}")
        return True
    tries = _state["tries"][key] = _state["tries"].get(key, 0) + 1
    print(f"❌ {name}: not quite. {wrong}".rstrip())
    if tries < REVEAL_AFTER or not reveal:
        print(f"💡 Hint: {hint}" if hint else "Think again and try once more"
              + (" (the answer is shown after a second wrong try)." if reveal else "."))
    else:
        print(truth)
    return False
