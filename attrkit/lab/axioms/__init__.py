"""The IG paper's axioms as executable checks, and a scorecard of methods × axioms.

Sundararajan, Taly, Yan (ICML 2017) argue from six properties; each ``check_*`` below runs one of them on a
method (a name from :data:`attrkit.lab.methods.METHODS` or any function with that call shape) and returns an
:class:`AxiomResult`: a verdict, the numbers behind it and a one-line explanation. Without a model the check
runs the paper's own toy (:mod:`attrkit.lab.toys`); give a model/inputs to test your own case.

    check_sensitivity_a             x, x′ differ in one feature and F(x) ≠ F(x′) ⇒ that feature gets non-zero credit
    check_dummy                     F does not depend on a feature ⇒ it gets zero credit (sensitivity (b))
    check_implementation_invariance equal functions, different networks ⇒ equal attributions
    check_completeness              Σ attributions = F(x) − F(x′)   (AGI: its own endpoints f_i(x_0) − f_i(x_T);
                                    LRP, which has no baseline: F(x), what it conserves)
    check_linearity                 attributions of a·f1 + b·f2 = a·(those of f1) + b·(those of f2)
    check_symmetry                  F symmetric in x_i, x_j, x_i = x_j, x′_i = x′_j ⇒ equal credit

Verdicts from a relative error ``err`` (each check says what it divides by): "holds" if err ≤ EXACT = 1e-6
(float64 round-off, captum's 1e-9 stabiliser, quadrature error on smooth paths), "holds approximately" if
err ≤ APPROX = 0.05 (the IG paper's 5 % completeness criterion, §5), else "fails". Sensitivity (a) is yes/no:
the credit is non-zero (|attr| > EXACT·|ΔF|) or it is not. "not applicable": the method has no rule for any of
the check's models (e.g. LRP on a formula), or the axiom is not defined for it (sensitivity (a) for AGI, which
has no baseline); "not available": an optional package (captum) is missing.

Modules: :mod:`.verdicts` (AxiomResult, thresholds, shared helpers), :mod:`.checks` (the six checks),
:mod:`.scorecard` (all of them on all methods).
"""
from .checks import (check_completeness, check_dummy, check_implementation_invariance, check_linearity,
                     check_sensitivity_a, check_symmetry)
from .scorecard import AXIOMS, Scorecard, scorecard
from .verdicts import APPROX, COLOURS, EXACT, TITLES, TOY_OPTIONS, VERDICTS, AxiomResult, grade, num, show

__all__ = ["check_sensitivity_a", "check_dummy", "check_implementation_invariance", "check_completeness",
           "check_linearity", "check_symmetry", "scorecard", "Scorecard", "AxiomResult", "AXIOMS", "TITLES",
           "COLOURS", "VERDICTS", "EXACT", "APPROX", "TOY_OPTIONS", "grade", "show", "num"]
