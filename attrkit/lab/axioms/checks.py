"""The six axioms of the IG paper (Sundararajan, Taly, Yan, ICML 2017, §2–4), one ``check_*`` each: a method on
the paper's toy (or your model) → an :class:`AxiomResult`; thresholds in :mod:`attrkit.lab.axioms`."""
from __future__ import annotations

import torch
from torch import nn

from .. import methods as M
from .. import toys
from .verdicts import (EXACT, _Mix, _attr, _baseline, _cases, _equal_functions, _explained, _inputs, _run, _scores,
                       _skipped, _uniform, _vec, _weights, _agi_has_no_baseline, _lrp_conserves, _LRP_NOT_LINEAR,
                       LRP_NAMES, LRP_REFERENCE, grade, num, show)

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
        if name == "agi":  # the axiom compares an input with a baseline; AGI takes none, so it does not apply
            numbers["agi own score change"] = drop = float(M.agi_result(model, x, target, **opts).score_drop[0, 0])
            return "not applicable", numbers, _agi_has_no_baseline(float(credit[0]), drop), "n/a: no baseline"
        if ok:
            return "holds", numbers, f"the one changed feature gets {num(credit)} (F changes by {num(dF)})", key
        why = f"x and x′ differ only in feature {int(feature[0])} and F changes by {num(dF[0])}, yet it gets " \
              f"{num(credit[0])}"
        if name in LRP_NAMES and paper:
            why += ": LRP has no baseline; at x = 2 the ReLU is off and the output bias holds all the relevance"
        elif name in ("gradient", "smoothgrad", "gradient_x_input"):
            why += ": it uses the gradient at (or near) x, where f is flat"
        return "fails", numbers, why, key

    return _run("sensitivity_a", method, options, body)


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
    Σ AGI_ij = f_i(x_0) − f_i(x_T) for every walk (paper mode). LRP, baseline-free too, conserves F(x) itself and
    is judged against Σ R_i = F(x). Default: a random tanh net at 4 random inputs and the paper's F at (3, 1)."""
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
        own, conserves = fn is M.agi, name in LRP_NAMES

        def per_case(case):
            label, m, x, b = case
            if own:
                r = M.agi_result(m, x, target, **opts)
                total, change = r.accounted.flatten(), r.score_drop.flatten()
                keep = ~torch.isnan(change)
                total, change = total[keep], change[keep]
            else:
                total = _attr(fn, m, x, target, b, opts).flatten(1).sum(1)
                change = _scores(m, x, target) - (0.0 if conserves else _scores(m, b, target))
            err = float(((total - change).abs() / change.abs().clamp_min(1e-6)).max())
            return label, total, change, err
        done, skipped = _cases(cases, fn, name, opts, per_case)
        err = max(c[3] for c in done)
        ref = "f_i(x_0) - f_i(x_T) (AGI's own endpoints)" if own else LRP_REFERENCE if conserves else "F(x) - F(x')"
        numbers = {c[0]: {"sum of attributions": _vec(c[1]), ref: _vec(c[2]), "relative gap": c[3]} for c in done}
        numbers["reference"], numbers["skipped"] = ref, skipped
        verdict = grade(err)
        worst = max(done, key=lambda c: c[3])
        i = int(((worst[1] - worst[2]).abs() / worst[2].abs().clamp_min(1e-6)).argmax())
        which = "e.g." if verdict == "holds" else "worst"  # all gaps round-off: the largest depends on the CPU
        worst, i = (done[0], 0) if verdict == "holds" else (worst, i)
        case = f"{which} {num(worst[1][i])} vs {num(worst[2][i])} ({worst[0]})"
        if own:
            expl = (f"judged against its own endpoints: Σ AGI_ij vs f_i(x_0) − f_i(x_T), worst {num(worst[1][i])} "
                    f"vs {num(worst[2][i])} ({worst[0]}; a left Riemann sum with steps of ε: the gap → 0 as ε → 0)")
        else:
            expl = _lrp_conserves(verdict, name, case) if conserves else \
                f"Σ attributions {'=' if verdict == 'holds' else 'vs'} F(x) − F(x′): {case}"
        key = f"gap {show(err)}" + (" (own endpoints)" if own else " (to F(x))" if conserves else "")
        return verdict, numbers, expl + _skipped(skipped), key

    return _run("completeness", method, options, body)


# ---- 5. linearity -------------------------------------------------------------------------------------------

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
        if verdict != "holds" and name in LRP_NAMES:
            expl += _LRP_NOT_LINEAR
        return verdict, numbers, expl, f"error {show(err)}"

    return _run("linearity", method, options, body)


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
