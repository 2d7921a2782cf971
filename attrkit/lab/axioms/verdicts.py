"""What an axiom check returns (:class:`AxiomResult`), how a number becomes a verdict, and the helpers the six
checks share. The thresholds are explained in :mod:`attrkit.lab.axioms`."""
from __future__ import annotations

import html
from dataclasses import dataclass

import torch
from torch import nn

from .. import methods as M
from .. import toys
from ...common.html import INK, MUTED, themed
from ...common.saving import SaveLoad

EXACT = 1e-6
APPROX = 0.05
VERDICTS = ("holds", "holds approximately", "fails", "not applicable", "not available")
TOY_OPTIONS = {"agi": {"bounds": None}}  # the toys' inputs are unbounded: AGI must not clamp them to [0, 1]


TITLES = {
    "sensitivity_a": "Sensitivity (a)",
    "dummy": "Sensitivity (b) / dummy",
    "implementation_invariance": "Implementation invariance",
    "completeness": "Completeness",
    "linearity": "Linearity",
    "symmetry": "Symmetry preservation",
}
COLOURS = {"holds": "#c8e6c9", "holds approximately": "#fff3b0", "fails": "#ffcdd2", "not applicable": "#e0e0e0",
           "not available": "#eeeeee"}



@dataclass(repr=False)
class AxiomResult(SaveLoad):
    """One method checked against one axiom: ``verdict`` (one of VERDICTS), ``numbers`` behind it, a one-line
    ``explanation``, and ``key``: the number to show in a scorecard cell."""
    axiom: str
    method: str
    verdict: str
    numbers: dict
    explanation: str
    key: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict in ("holds", "holds approximately")

    def __repr__(self):
        key = f" ({self.key})" if self.key else ""
        return f"{TITLES.get(self.axiom, self.axiom)} · {self.method}: {self.verdict}{key}\n  {self.explanation}"

    def _repr_html_(self):
        key = f" <span style='color:{MUTED}'>({html.escape(self.key)})</span>" if self.key else ""
        return themed(f"<b>{html.escape(TITLES.get(self.axiom, self.axiom))}</b> · {html.escape(self.method)}: "
                      f"<span style='background:{COLOURS[self.verdict]};color:{INK};padding:1px 4px'>"
                      f"{self.verdict}</span>{key}<br/><span style='font-size:small'>{html.escape(self.explanation)}"
                      "</span>", "padding:2px 4px")


def grade(err: float) -> str:
    """Relative error → verdict (EXACT / APPROX above)."""
    return "holds" if err <= EXACT else "holds approximately" if err <= APPROX else "fails"


def show(err: float) -> str:
    """A relative error for people: "< 1e-6", "3e-05", "4.2 %"."""
    return "< 1e-6" if err <= EXACT else f"{err:.0e}" if err < 1e-3 else f"{100 * err:.3g} %"


def num(v) -> str:
    """A number or short vector, rounded so that the text does not depend on round-off: "(1.5, -0.5)"."""
    t = torch.as_tensor(v, dtype=torch.float64).flatten()
    vals = [f"{0.0 if abs(x) < 5e-7 else x:.4g}" for x in t.tolist()]
    return vals[0] if len(vals) == 1 else "(" + ", ".join(vals) + ")"


def _vec(t: torch.Tensor) -> list:
    return [round(float(x), 9) for x in t.detach().flatten().tolist()]


def _uniform(n: int, d: int, seed: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(n, d, generator=g, dtype=toys.DTYPE)


def _explained(models, n: int, d: int, seed: int) -> torch.Tensor:
    """n random inputs in [0, 1]^d at which every model predicts the explained class (f > 0 for a toy), so
    that methods which explain the prediction (AGI walks away from it) have something to explain."""
    x = _uniform(64 * n, d, seed)
    keep = torch.ones(len(x), dtype=torch.bool)
    for m in models:
        with torch.no_grad():
            keep &= m(x).argmax(1) == toys.TARGET
    if int(keep.sum()) < n:
        raise RuntimeError("too few random inputs where the toys predict the explained class")
    return x[keep][:n]


def _scores(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """F(x) = model(x)[:, target], checking that the model takes such inputs."""
    try:
        with torch.no_grad():
            out = model(x)
    except RuntimeError as e:
        raise ValueError(f"the model cannot take inputs of shape {tuple(x.shape)}: {str(e).splitlines()[0]}") \
            from None
    if out.dim() != 2 or not 0 <= target < out.shape[1]:
        raise ValueError(f"target {target} is not a column of the model's (N, C) output {tuple(out.shape)}")
    return out[:, target].double()


def _baseline(baseline, x: torch.Tensor) -> torch.Tensor:
    return M.resolve_baseline(baseline, x)


class _NotApplicable(Exception):
    """Every model of the check is outside the method's domain."""


def _attr(fn, model, x, target, baseline, options) -> torch.Tensor:
    return M.attribute(fn, model, x, target, baseline, **options).double()


def _options(name: str, options) -> dict:
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options must be a dict of keyword arguments for the method, got {type(options).__name__}")
    return {**TOY_OPTIONS.get(name, {}), **(options or {})}


def _run(axiom: str, method, options, body) -> AxiomResult:
    """Resolve the method, run the check body, and turn missing packages/unsupported models into verdicts."""
    name, fn = M.get(method)
    try:
        verdict, numbers, explanation, key = body(name, fn, _options(name, options))
    except M.MissingDependency as e:
        return AxiomResult(axiom, name, "not available", {}, f"{e}", "captum missing")
    except _NotApplicable as e:
        return AxiomResult(axiom, name, "not applicable", {}, str(e), "no rule")
    return AxiomResult(axiom, name, verdict, numbers, explanation, key)


def _cases(cases, fn, name, options, per_case):
    """Run ``per_case`` on every case; cases the method cannot handle (UnsupportedModel) are skipped."""
    out, skipped = [], []
    for case in cases:
        try:
            out.append(per_case(case))
        except M.UnsupportedModel as e:
            skipped.append(f"{case[0]}: {e}")
    if not out:
        raise _NotApplicable(f"{name} has no rule for the check's models ({'; '.join(skipped)})")
    return out, skipped


def _equal_functions(f, g, points: torch.Tensor, target: int, what: str) -> float:
    """max |f − g| at the given points and at 1000 random points around them; ValueError if not equal."""
    flat = points.flatten(1)
    r = 2.0 * max(1.0, float(flat.abs().max()))
    rand = _uniform(1000, flat.shape[1], seed=12345, low=-r, high=r).reshape(1000, *points.shape[1:])
    x = torch.cat([points, rand.to(points.dtype)])
    a, b = _scores(f, x, target), _scores(g, x, target)
    diff = float((a - b).abs().max())
    if diff > 1e-9 * (1.0 + float(a.abs().max())):
        raise ValueError(f"{what} are not functionally equal: max |difference| = {diff:.3g} on random inputs")
    return diff


def _inputs(inputs, where: str) -> torch.Tensor:
    if inputs is None:
        raise ValueError(f"{where}: give inputs (N, ...) together with the model")
    if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point() or inputs.dim() < 2:
        raise ValueError(f"{where}: inputs must be a floating-point batch (N, features...), got "
                         f"{tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__}")
    return inputs


def _skipped(skipped) -> str:
    return f" (skipped: {'; '.join(s.split(':')[0] for s in skipped)}, no rule for it)" if skipped else ""


class _Mix(nn.Module):
    """a·f1 + b·f2 for any two models (toys.combine builds it as one network for the toys)."""

    def __init__(self, f1, f2, a, b):
        super().__init__()
        self.f1, self.f2, self.a, self.b = f1, f2, a, b
        self.eval()

    def forward(self, x):
        return self.a * self.f1(x) + self.b * self.f2(x)


def _weights(weights):
    if not isinstance(weights, (tuple, list)) or len(weights) != 2 or \
            not all(isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights):
        raise ValueError(f"weights must be two numbers (a, b), got {weights!r}")
    return float(weights[0]), float(weights[1])


def _agi_has_no_baseline(credit: float, drop: float) -> str:
    """Why sensitivity (a) is not applicable to AGI, with what AGI did instead (its own walk's score change)."""
    walk = f"its own walk explains f_i(x_0) − f_i(x_T) = {num(drop)}" if drop else \
        "its walk from x starts where ∇f = 0 and never moves"
    return ("sensitivity (a) compares an input with a baseline, and AGI has no baseline (it walks from x towards other "
            f"classes), so the axiom is not defined for it; the given baseline is unused (credit {num(credit)}; {walk})")


LRP_NAMES = ("lrp", "lrp_epsilon")  # baseline-free: relevance starts at F(x) and is passed down layer by layer
LRP_REFERENCE = "F(x) (LRP has no baseline: it conserves relevance to the output)"
_LRP_NOT_LINEAR = ("; LRP hands out F(x) in shares whose denominators leave out the biases and, in the mix, add "
                   "the terms of f1 and f2 together, so the shares of the mix are not the mix of the shares")


def _lrp_conserves(verdict: str, name: str, worst: str) -> str:
    """Completeness for LRP, judged against what it conserves (F(x)), with the worst case's numbers."""
    expl = (f"LRP has no baseline: it hands out F(x) itself, so it is judged against F(x), not F(x) − F(x′): "
            f"Σ attributions {'=' if verdict == 'holds' else 'vs'} F(x): {worst}")
    if verdict == "fails" and name == "lrp_epsilon":
        expl += "; the ε-rule lets the biases absorb relevance, so the sum drifts from F(x)"
    return expl
