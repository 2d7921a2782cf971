""""Predict, then check", and "write it, then check": compare a student's answer with the computed truth, kindly.

    my_guess = ...                                   # the student writes a number here first
    check(my_guess, attributions.sum, rel=0.05, name="sum of attributions")   # the truth computed inside

    def my_path_points(x_base, x, alphas):           # or a function of their own
        return ...
    check_function(my_path_points, ig.path_points, cases=[(x_base, x, alphas)], name="path points")

- :func:`check`: numbers (accepting a correctly rounded answer: the rule is in its docstring), arrays, and
  words with synonyms (:mod:`.values`);
- :func:`check_array`: an array the student computed, shape and all (:mod:`.values`);
- :func:`check_function`: the student's code against a reference on a few cases (:mod:`.functions`);
- :mod:`.references`: reference answers of code exercises the library does not already provide;
- :func:`mode`: ``"learn"`` (hint on the first wrong try, the truth on the second) or ``"record"`` (the student
  release: answers go to a JSON-lines log, the truth is never printed) (:mod:`.feedback`);
- :func:`mark`: in record mode, the times a student opens and finishes a notebook, for measured study times.

Every check prints one verdict and returns True or False (None in record mode). None raises on a wrong, missing
or oddly typed answer: a notebook cell that checks must not turn red because the guess was wrong.
"""
from . import references
from .feedback import DEFAULT_LOG, LOG_VARIABLE, MODE_VARIABLE, MODES, NOTEBOOK_VARIABLE, log_path, mark, mode, reset
from .functions import check_function
from .values import check, check_array

__all__ = ["check", "check_array", "check_function", "mode", "mark", "reset", "references", "log_path", "MODES",
           "MODE_VARIABLE", "LOG_VARIABLE", "NOTEBOOK_VARIABLE", "DEFAULT_LOG"]
