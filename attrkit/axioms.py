"""The IG paper's axioms as executable checks, and a scorecard of methods × axioms.

Sundararajan, Taly, Yan (ICML 2017) argue from six properties; each ``check_*`` below runs one of them on a
method (a name from :data:`attrkit.methods.METHODS` or any function with that call shape) and returns an
:class:`AxiomResult`: a verdict, the numbers behind it and a one-line explanation. Without a model the check
runs the paper's own toy (:mod:`attrkit.toys`); give a model/inputs to test your own case.

    check_sensitivity_a             x, x′ differ in one feature and F(x) ≠ F(x′) ⇒ that feature gets non-zero credit
    check_dummy                     F does not depend on a feature ⇒ it gets zero credit (sensitivity (b))
    check_implementation_invariance equal functions, different networks ⇒ equal attributions
    check_completeness              Σ attributions = F(x) − F(x′)   (AGI: its own endpoints f_i(x_0) − f_i(x_T))
    check_linearity                 attributions of a·f1 + b·f2 = a·(those of f1) + b·(those of f2)
    check_symmetry                  F symmetric in x_i, x_j, x_i = x_j, x′_i = x′_j ⇒ equal credit

Verdicts from a relative error ``err`` (each check says what it divides by): "holds" if err ≤ EXACT = 1e-6
(float64 round-off, captum's 1e-9 stabiliser, quadrature error on smooth paths), "holds approximately" if
err ≤ APPROX = 0.05 (the IG paper's 5 % completeness criterion, §5), else "fails". Sensitivity (a) is yes/no:
the credit is non-zero (|attr| > EXACT·|ΔF|) or it is not. "not applicable": the method has no rule for any of
the check's models (e.g. LRP on a formula); "not available": an optional package (captum) is missing.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

import torch
from torch import nn

from . import methods as M
from . import toys
from .results import SaveLoad

EXACT = 1e-6
APPROX = 0.05
VERDICTS = ("holds", "holds approximately", "fails", "not applicable", "not available")
TOY_OPTIONS = {"agi": {"bounds": None}}  # the toys' inputs are unbounded: AGI must not clamp them to [0, 1]


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
        key = f" <span style='color:#555'>({html.escape(self.key)})</span>" if self.key else ""
        return (f"<div><b>{html.escape(TITLES.get(self.axiom, self.axiom))}</b> · {html.escape(self.method)}: "
                f"<span style='background:{COLOURS[self.verdict]};padding:1px 4px'>{self.verdict}</span>{key}"
                f"<br/><span style='font-size:small'>{html.escape(self.explanation)}</span></div>")


# ---- shared helpers ------------------------------------------------------------------------------------

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


# ---- 1. sensitivity (a) ------------------------------------------------------------------------------------

def check_sensitivity_a(method, model=None, inputs=None, baseline=None, target=toys.TARGET, options=None):
    """Sensitivity (a) (IG-paper §2.1): if x and x′ differ in exactly one feature and F(x) ≠ F(x′), that
    feature must get non-zero attribution. Default: f(x) = 1 − ReLU(1 − x) at x = 2, x′ = 0 (f: 0 → 1)."""
    paper = model is None
    if paper:
        model, inputs, baseline = toys.saturating(), toys.point(2.0), toys.point(0.0)
    x = _inputs(inputs, "check_sensitivity_a")
    b = _baseline(baseline, x)
    differs = (x != b).flatten(1)
    if (differs.sum(1) != 1).any():
        n = int((differs.sum(1) != 1).nonzero()[0])
        raise ValueError(f"sensitivity (a) compares an input with a baseline that differs in exactly one feature; "
                         f"example {n} differs in {int(differs[n].sum())}")
    dF = _scores(model, x, target) - _scores(model, b, target)
    if (dF.abs() < 1e-12).any():
        raise ValueError("sensitivity (a) needs F(x) ≠ F(x′) for every example; some have F(x) = F(x′)")
    feature = differs.float().argmax(1)

    def body(name, fn, opts):
        a = _attr(fn, model, x, target, b, opts)
        credit = a.flatten(1).gather(1, feature[:, None])[:, 0]
        ok = bool((credit.abs() > EXACT * dF.abs()).all())
        numbers = {"attribution": _vec(credit), "F(x) - F(x')": _vec(dF), "feature": feature.tolist()}
        key = f"attr {num(credit[0])} vs ΔF {num(dF[0])}"
        if ok:
            return "holds", numbers, f"the one changed feature gets {num(credit)} (F changes by {num(dF)})", key
        why = f"x and x′ differ only in feature {int(feature[0])} and F changes by {num(dF[0])}, yet it gets " \
              f"{num(credit[0])}"
        if name == "agi":
            r = M.agi_result(model, x, target, **opts)
            numbers["agi own score change"] = _vec(r.score_drop[0])
            drop = float(r.score_drop[0, 0])
            why += (". AGI has no baseline: " + ("its walk from x starts where ∇f = 0 and never moves" if drop == 0
                                                 else f"its own walk explains f_i(x_0) − f_i(x_T) = {num(drop)}"))
        elif name in ("lrp", "lrp_epsilon") and paper:
            why += ": LRP has no baseline; at x = 2 the ReLU is off and the output bias holds all the relevance"
        elif name in ("gradient", "smoothgrad", "gradient_x_input"):
            why += ": it uses the gradient at (or near) x, where f is flat"
        return "fails", numbers, why, key

    return _run("sensitivity_a", method, options, body)


def _inputs(inputs, where: str) -> torch.Tensor:
    if inputs is None:
        raise ValueError(f"{where}: give inputs (N, ...) together with the model")
    if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point() or inputs.dim() < 2:
        raise ValueError(f"{where}: inputs must be a floating-point batch (N, features...), got "
                         f"{tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__}")
    return inputs


# ---- 2. sensitivity (b) / dummy ------------------------------------------------------------------------------

def check_dummy(method, model=None, inputs=None, baseline=None, dummy=None, target=toys.TARGET, options=None):
    """Sensitivity (b) / dummy (IG-paper §4.1): a feature F does not depend on gets zero attribution.
    err = max |attr of dummies| / max(|attr|, |ΔF|). Default: sin(3·x1) + x1² (x2 dummy) and a random ReLU net
    with a disconnected input, at 6 random inputs each, x′ = 0."""
    if model is None:
        net = toys.random_net(4, (8,), "relu", seed=4, dummy=(2,))
        cases = [("sin(3·x1) + x1², x2 dummy", toys.sin_dummy(), _uniform(6, 2, 1, -2, 2), None, [1]),
                 ("random ReLU net, x2 dummy", net, _explained([net], 6, 4, 2), None, [2])]
    else:
        if dummy is None:
            raise ValueError("check_dummy: pass dummy=[indices of the features F does not depend on]")
        cases = [("your model", model, _inputs(inputs, "check_dummy"), baseline, list(dummy))]
    prepared = []
    for label, m, x, b, d in cases:
        b = _baseline(b, x)
        nf = x.flatten(1).shape[1]
        if not d or any(not isinstance(i, int) or not 0 <= i < nf for i in d):
            raise ValueError(f"dummy must list feature indices in 0..{nf - 1} (of the flattened input), got {d}")
        moved = x.flatten(1).clone()
        moved[:, d] = _uniform(len(x), len(d), 7, -3, 3).to(x.dtype)
        change = float((_scores(m, moved.reshape(x.shape), target) - _scores(m, x, target)).abs().max())
        if change > 1e-9:
            raise ValueError(f"features {d} are not dummies of {label}: changing them changes F by {change:.3g}")
        prepared.append((label, m, x, b, d))

    def body(name, fn, opts):
        def per_case(case):
            label, m, x, b, d = case
            a = _attr(fn, m, x, target, b, opts).flatten(1)
            dF = _scores(m, x, target) - _scores(m, b, target)
            scale = max(float(a.abs().max()), float(dF.abs().max()), 1e-12)
            return label, float(a[:, d].abs().max()), scale
        done, skipped = _cases(prepared, fn, name, opts, per_case)
        err = max(v / s for _, v, s in done)
        numbers = {"max |attr of dummy|": {lab: v for lab, v, _ in done}, "relative": err, "skipped": skipped}
        verdict = grade(err)
        expl = (f"features F ignores get {show(err)} of the largest attribution" if verdict != "holds" else
                "features F does not depend on get zero attribution")
        return verdict, numbers, expl + _skipped(skipped), f"dummy {show(err)}"

    return _run("dummy", method, options, body)


def _skipped(skipped) -> str:
    return f" (skipped: {'; '.join(s.split(':')[0] for s in skipped)}, no rule for it)" if skipped else ""


# ---- 3. implementation invariance ----------------------------------------------------------------------------

def check_implementation_invariance(method, pair=None, inputs=None, baseline=None, target=toys.TARGET,
                                    options=None):
    """Implementation invariance (IG-paper §2.2): two networks computing the same function (verified on random
    inputs) get the same attributions. err = max |A_F − A_G| / max |A|. Default: the paper's F, G at x = (3, 1),
    x′ = 0, and a random ReLU net against a copy with permuted, rescaled hidden units."""
    if pair is None:
        F, G = toys.relu_pair()
        net = toys.random_net(4, (8,), "relu", seed=3)
        cases = [("paper's F, G at (3, 1)", F, G, toys.point(3.0, 1.0), None),
                 ("random net vs reparameterised copy", net, toys.reparameterised(net), _explained([net], 4, 4, 3), None)]
    else:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(isinstance(m, nn.Module) for m in pair):
            raise TypeError("pair must be two nn.Modules (F, G) that compute the same function")
        cases = [("your pair", pair[0], pair[1], _inputs(inputs, "check_implementation_invariance"), baseline)]
    prepared = []
    for label, f, g, x, b in cases:
        b = _baseline(b, x)
        diff = _equal_functions(f, g, torch.cat([x, b]), target, f"the two networks of {label}")
        prepared.append((label, f, g, x, b, diff))

    def body(name, fn, opts):
        def per_case(case):
            label, f, g, x, b, diff = case
            af, ag = _attr(fn, f, x, target, b, opts), _attr(fn, g, x, target, b, opts)
            err = float((af - ag).abs().max()) / max(float(af.abs().max()), float(ag.abs().max()), 1e-12)
            return label, af, ag, err, diff
        done, skipped = _cases(prepared, fn, name, opts, per_case)
        err = max(c[3] for c in done)
        numbers = {c[0]: {"F": _vec(c[1][0]), "G": _vec(c[2][0]), "relative": c[3], "max |F - G|": c[4]}
                   for c in done}
        numbers["skipped"] = skipped
        first = done[0]
        verdict = grade(err)
        if verdict == "holds":
            expl, key = f"equal networks get equal attributions, e.g. {num(first[1][0])} for both", \
                f"F, G {num(first[1][0])}"
        else:
            worst = max(done, key=lambda c: c[3])
            expl = (f"{worst[0]}: the same function gets {num(worst[1][0])} from one network and "
                    f"{num(worst[2][0])} from the other")
            key = f"F {num(first[1][0])}, G {num(first[2][0])}"
        return verdict, numbers, expl + _skipped(skipped), key

    return _run("implementation_invariance", method, options, body)


# ---- 4. completeness --------------------------------------------------------------------------------------

def check_completeness(method, model=None, inputs=None, baseline=None, target=toys.TARGET, options=None):
    """Completeness (IG-paper Prop. 1): Σ attributions = F(x) − F(x′). err = |gap| / |F(x) − F(x′)| (examples
    with |ΔF| < 1e-6 compare the gap itself). AGI has no baseline: it is judged against its own endpoints,
    Σ AGI_ij = f_i(x_0) − f_i(x_T) for every walk (paper mode; labelled so in the result). Default: a random
    tanh net at 4 random inputs and the paper's F at (3, 1), x′ = 0."""
    if model is None:
        net = toys.random_net(4, (8,), "tanh", seed=3)
        cases = [("random tanh net", net, _explained([net], 4, 4, 4), None),
                 ("paper's F at (3, 1)", toys.relu_pair()[0], toys.point(3.0, 1.0), None)]
    else:
        cases = [("your model", model, _inputs(inputs, "check_completeness"), baseline)]
    cases = [(lab, m, x, _baseline(b, x)) for lab, m, x, b in cases]
    for _, m, x, _ in cases:
        _scores(m, x, target)

    def body(name, fn, opts):
        own = fn is M.agi

        def per_case(case):
            label, m, x, b = case
            if own:
                r = M.agi_result(m, x, target, **opts)
                total, change = r.accounted.flatten(), r.score_drop.flatten()
                keep = ~torch.isnan(change)
                total, change = total[keep], change[keep]
            else:
                total = _attr(fn, m, x, target, b, opts).flatten(1).sum(1)
                change = _scores(m, x, target) - _scores(m, b, target)
            err = float(((total - change).abs() / change.abs().clamp_min(1e-6)).max())
            return label, total, change, err
        done, skipped = _cases(cases, fn, name, opts, per_case)
        err = max(c[3] for c in done)
        ref = "f_i(x_0) - f_i(x_T) (AGI's own endpoints)" if own else "F(x) - F(x')"
        numbers = {c[0]: {"sum of attributions": _vec(c[1]), ref: _vec(c[2]), "relative gap": c[3]}
                   for c in done}
        numbers["reference"], numbers["skipped"] = ref, skipped
        verdict = grade(err)
        worst = max(done, key=lambda c: c[3])
        i = int(((worst[1] - worst[2]).abs() / worst[2].abs().clamp_min(1e-6)).argmax())
        if verdict == "holds":  # every gap is round-off: which is largest depends on the CPU, so show the first
            worst, i = done[0], 0
        if own:
            expl = (f"judged against its own endpoints: Σ AGI_ij vs f_i(x_0) − f_i(x_T), worst {num(worst[1][i])} "
                    f"vs {num(worst[2][i])} ({worst[0]}; a left Riemann sum with steps of ε: the gap → 0 as ε → 0)")
        else:
            which = "e.g." if verdict == "holds" else "worst"
            expl = (f"Σ attributions {'=' if verdict == 'holds' else 'vs'} F(x) − F(x′): {which} {num(worst[1][i])} "
                    f"vs {num(worst[2][i])} ({worst[0]})")
        key = f"gap {show(err)}" + (" (own endpoints)" if own else "")
        return verdict, numbers, expl + _skipped(skipped), key

    return _run("completeness", method, options, body)


# ---- 5. linearity -------------------------------------------------------------------------------------------

class _Mix(nn.Module):
    """a·f1 + b·f2 for any two models (toys.combine builds it as one network for the toys)."""

    def __init__(self, f1, f2, a, b):
        super().__init__()
        self.f1, self.f2, self.a, self.b = f1, f2, a, b
        self.eval()

    def forward(self, x):
        return self.a * self.f1(x) + self.b * self.f2(x)


def check_linearity(method, models=None, weights=(2.0, -0.5), inputs=None, baseline=None, target=toys.TARGET,
                    options=None):
    """Linearity (IG-paper §4.1): the attributions of a·f1 + b·f2 are a·(those of f1) + b·(those of f2).
    err = max |A(af1 + bf2) − aA(f1) − bA(f2)| / max |A(af1 + bf2)|. Default: two random tanh nets, a = 2,
    b = −0.5, 4 random inputs where all three predict the explained class, x′ = 0; their combination is one network (toys.combine)."""
    a, b = _weights(weights)
    if models is None:
        f1, f2 = toys.random_net(4, (8,), "tanh", seed=2), toys.random_net(4, (8,), "tanh", seed=4)
        x = _explained([f1, f2, _Mix(f1, f2, a, b)], 4, 4, 5)
    else:
        if not isinstance(models, (tuple, list)) or len(models) != 2 or \
                not all(isinstance(m, nn.Module) for m in models):
            raise TypeError("models must be two nn.Modules (f1, f2) with the same inputs and outputs")
        f1, f2 = models
        x = _inputs(inputs, "check_linearity")
    both = isinstance(f1, toys.Net) and isinstance(f2, toys.Net)
    mix = toys.combine(f1, f2, a, b) if both else _Mix(f1, f2, a, b)
    base = _baseline(baseline, x)
    _equal_functions(mix, _Mix(f1, f2, a, b), torch.cat([x, base]), target, "the combined network and a·f1 + b·f2")

    def body(name, fn, opts):
        def per_case(_):
            am = _attr(fn, mix, x, target, base, opts)
            a1, a2 = _attr(fn, f1, x, target, base, opts), _attr(fn, f2, x, target, base, opts)
            lin = a * a1 + b * a2
            return float((am - lin).abs().max()) / max(float(am.abs().max()), float(lin.abs().max()), 1e-12), am, lin
        (err, am, lin), = _cases([("the mix",)], fn, name, opts, per_case)[0]
        numbers = {"a, b": [a, b], "A(a f1 + b f2)": _vec(am[0]), "a A(f1) + b A(f2)": _vec(lin[0]), "relative": err}
        verdict = grade(err)
        mixed = f"{a:g}·f1 {'+' if b >= 0 else '−'} {abs(b):g}·f2"
        expl = (f"attributions of {mixed} equal the same mix of the attributions" if verdict == "holds"
                else f"attributions of {mixed} differ from the same mix of the attributions by {show(err)}: "
                     f"{num(am[0])} vs {num(lin[0])} (first input)")
        return verdict, numbers, expl, f"error {show(err)}"

    return _run("linearity", method, options, body)


def _weights(weights):
    if not isinstance(weights, (tuple, list)) or len(weights) != 2 or \
            not all(isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights):
        raise ValueError(f"weights must be two numbers (a, b), got {weights!r}")
    return float(weights[0]), float(weights[1])


# ---- 6. symmetry preservation --------------------------------------------------------------------------------

def check_symmetry(method, model=None, inputs=None, baseline=None, pair=(0, 1), target=toys.TARGET,
                   options=None):
    """Symmetry preservation (IG-paper §4.2): if swapping x_i and x_j leaves F unchanged, x_i = x_j and
    x′_i = x′_j, then x_i and x_j get equal attributions. err = max |A_i − A_j| / max(|A_i|, |A_j|).
    Default: x·y + z at (1, 1, 2), x′ = 0 (the slides' example), and a random symmetric ReLU net at 4 random
    inputs with x1 = x2."""
    if model is None:
        sym = toys.symmetric_net(3, (0, 1), seed=7)
        x = _uniform(256, 3, 6)
        x[:, 1] = x[:, 0]
        with torch.no_grad():
            x = x[sym(x).argmax(1) == toys.TARGET][:4]
        cases = [("x·y + z at (1, 1, 2)", toys.product_plus(), toys.point(1.0, 1.0, 2.0), None, (0, 1)),
                 ("symmetric random net", sym, x, None, (0, 1))]
    else:
        cases = [("your model", model, _inputs(inputs, "check_symmetry"), baseline, tuple(pair))]
    prepared = []
    for label, m, x, b, (i, j) in cases:
        b = _baseline(b, x)
        nf = x.flatten(1).shape[1]
        if i == j or not (0 <= i < nf and 0 <= j < nf):
            raise ValueError(f"pair must name two different features among 0..{nf - 1}, got {(i, j)}")
        xf, bf = x.flatten(1), b.flatten(1)
        if (xf[:, i] != xf[:, j]).any() or (bf[:, i] != bf[:, j]).any():
            raise ValueError(f"symmetry needs x_{i} = x_{j} and x′_{i} = x′_{j} in every example")
        rand = _uniform(200, nf, 8, -3, 3).to(x.dtype)
        swapped = rand.clone()
        swapped[:, [i, j]] = rand[:, [j, i]]
        shape = (200, *x.shape[1:])
        if float((_scores(m, rand.reshape(shape), target) - _scores(m, swapped.reshape(shape), target)).abs().max()) \
                > 1e-9:
            raise ValueError(f"{label}: F is not symmetric in features {i} and {j} (swapping them changes F)")
        prepared.append((label, m, x, b, i, j))

    def body(name, fn, opts):
        def per_case(case):
            label, m, x, b, i, j = case
            a = _attr(fn, m, x, target, b, opts).flatten(1)
            ai, aj = a[:, i], a[:, j]
            err = float(((ai - aj).abs() / torch.maximum(ai.abs(), aj.abs()).clamp_min(1e-12)).max())
            return label, a, err, i, j
        done, skipped = _cases(prepared, fn, name, opts, per_case)
        err = max(c[2] for c in done)
        numbers = {c[0]: {"attributions": _vec(c[1][0]), "relative": c[2]} for c in done}
        numbers["skipped"] = skipped
        verdict = grade(err)
        worst = max(done, key=lambda c: c[2])
        expl = (f"symmetric features get equal attributions, e.g. {num(done[0][1][0])}" if verdict == "holds" else
                f"{worst[0]}: symmetric features x{worst[3]}, x{worst[4]} get attributions {show(err)} apart "
                f"({num(worst[1][0])}, first input)")
        return verdict, numbers, expl + _skipped(skipped), f"diff {show(err)}"

    return _run("symmetry", method, options, body)


# ---- the scorecard -----------------------------------------------------------------------------------------

AXIOMS = {
    "sensitivity_a": check_sensitivity_a,
    "dummy": check_dummy,
    "implementation_invariance": check_implementation_invariance,
    "completeness": check_completeness,
    "linearity": check_linearity,
    "symmetry": check_symmetry,
}
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
class Scorecard(SaveLoad):
    """Methods × axioms, every cell computed by a check. ``verdict(method, axiom)``, ``result(method, axiom)``."""
    methods: list
    axioms: list
    results: list = field(default_factory=list)   # row-major: results[m * len(axioms) + a]

    def result(self, method: str, axiom: str) -> AxiomResult:
        if method not in self.methods:
            raise KeyError(f"no method {method!r} in this scorecard; it has {self.methods}")
        if axiom not in self.axioms:
            raise KeyError(f"no axiom {axiom!r} in this scorecard; it has {self.axioms}")
        return self.results[self.methods.index(method) * len(self.axioms) + self.axioms.index(axiom)]

    def verdict(self, method: str, axiom: str) -> str:
        return self.result(method, axiom).verdict

    def __repr__(self):
        head = ["method"] + [TITLES.get(a, a) for a in self.axioms]
        rows = [[M.TITLES.get(m, m)] + [self.verdict(m, a) for a in self.axioms] for m in self.methods]
        widths = [max(len(r[k]) for r in [head] + rows) for k in range(len(head))]
        line = lambda r: " | ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
        return "\n".join([line(head), "-+-".join("-" * w for w in widths)] + [line(r) for r in rows])

    def _repr_html_(self):
        e = html.escape
        head = "".join(f"<th>{e(TITLES.get(a, a))}</th>" for a in self.axioms)
        body, notes = "", []
        for m in self.methods:
            cells = ""
            for a in self.axioms:
                r = self.result(m, a)
                mark = ""
                if r.verdict != "holds":
                    notes.append(r)
                    mark = f"<sup>{len(notes)}</sup>"
                cells += (f"<td title='{e(r.explanation)}' style='background:{COLOURS[r.verdict]};text-align:left'>"
                          f"<b>{e(r.verdict)}</b>{mark}<br/><span style='font-size:smaller'>{e(r.key)}</span></td>")
            body += f"<tr><th style='text-align:left'>{e(M.TITLES.get(m, m))}</th>{cells}</tr>"
        foot = "".join(f"<li value='{k}'>{e(M.TITLES.get(r.method, r.method))} · {e(TITLES.get(r.axiom, r.axiom))}: "
                       f"{e(r.explanation)}</li>" for k, r in enumerate(notes, 1))
        return (f"<div><b>Axioms scorecard</b> (computed; hover a cell for its explanation)"
                f"<table><tr><th>method</th>{head}</tr>{body}</table>"
                f"<ol style='font-size:small'>{foot}</ol></div>")


def scorecard(methods=None, axioms=None, options=None) -> Scorecard:
    """Run every axiom check on every method (default: all of ``attrkit.methods.METHODS`` × all AXIOMS).
    ``options``: {method name: {keyword: value}} passed to that method."""
    methods = list(M.METHODS) if methods is None else list(methods)
    axioms = list(AXIOMS) if axioms is None else list(axioms)
    unknown = [a for a in axioms if a not in AXIOMS]
    if unknown:
        raise ValueError(f"unknown axiom(s) {unknown}; choose from {', '.join(AXIOMS)}")
    if options is not None and not isinstance(options, dict):
        raise TypeError("options must be a dict {method name: {keyword: value}}")
    names, results = [], []
    for method in methods:
        name, _ = M.get(method)
        names.append(name)
        for a in axioms:
            results.append(AXIOMS[a](method, options=(options or {}).get(name)))
    return Scorecard(names, axioms, results)
