"""How many steps? An adaptive rule that places them, and an advisor that measures them.

The adaptive rule uses a fact the fixed rules ignore: at every node we already know F(γ(α)) exactly (it is the
forward pass that gives the gradient). On an interval [a, b] of the grid the quadrature's guess of how much F
changes is the trapezoid of the slopes dF/dα = ∇F(γ(α))·(x − x′),

    guess_j = (b − a) · (slope(a) + slope(b)) / 2,      exact_j = F(γ(b)) − F(γ(a)),

so its local miss e_j = guess_j − exact_j is known exactly, and the completeness gap is Σ_j e_j (IG Prop. 1).
:func:`refine` starts from the nodes 0, ½, 1 and bisects the intervals that miss most until

    |Σ_j e_j| ≤ tol·|F(x) − F(x′)|      (the completeness gap: what the user asked for)    and
    Σ_j |e_j| ≤ 3·tol·|F(x) − F(x′)|    (no lucky cancellation: random signs would give √J, we allow 3).

The result is the composite trapezoid on the final non-uniform grid (weights: half of each neighbouring interval,
Σ w = 1), applied to every feature's gradient: a genuine quadrature of Eq. 1, so the attributions converge, not
just their total (checked against a many-step reference in tests/test_adaptive.py). The rule never uses the
gradients to fit its weights; it only decides where to look. Limits: the grid is shared by the N inputs of a
call (an interval is bisected if any input needs it; run inputs one by one for per-input grids); all gradients
are kept until the grid is final (memory grows with the nodes used, unlike the fixed rules with ``batch_size``);
and a stretch where F is flat while features trade off exactly (e.g. F = x₁ − x₂ on a symmetric path) looks
exact to the rule and stays coarse.

:func:`steps_needed` is the step advisor: the completeness gap of every rule against the number of steps, and
the fewest steps that bring it within ``tol`` (the paper suggests 5 %, we default to 1 %).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .quadrature import METHODS, MIN_STEPS
from .results import SaveLoad, html_summary

INITIAL_NODES = 3
CANCELLATION = 3.0
LADDER = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512,
          640, 768, 1024)


def local_errors(alphas: torch.Tensor, scores: torch.Tensor, slopes: torch.Tensor) -> torch.Tensor:
    """e_j = trapezoid guess of F's change over [α_j, α_{j+1}] − the exact change; (B, m−1) for sorted α."""
    h = alphas.diff()
    return h * (slopes[:, :-1] + slopes[:, 1:]) / 2 - scores.diff(dim=1)


@dataclass(repr=False)
class AdaptiveInfo(SaveLoad):
    """The adaptive rule's history, one entry per round R: ``evaluations`` (R,) nodes so far, ``gaps`` (R, B)
    signed completeness gap Σ e_j, ``local`` (R, B) Σ |e_j|; ``added`` (m,) the round each final node (α order)
    was added in; ``converged``: both criteria met for every row within the budget."""

    tol: float
    converged: bool
    evaluations: torch.Tensor
    gaps: torch.Tensor
    local: torch.Tensor
    added: torch.Tensor

    def __repr__(self):
        return (f"AdaptiveInfo(tol={self.tol}, converged={self.converged}, rounds={len(self.evaluations)}, "
                f"nodes={int(self.evaluations[-1])})")


def _to_bisect(e: torch.Tensor, gap_ok: torch.Tensor, local_ok: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Indices of the intervals to bisect: for every row that fails, its worst intervals, as many as it takes
    for their misses to cover the excess (at least one)."""
    chosen = torch.zeros(e.shape[1], dtype=torch.bool)
    for b in torch.nonzero(~(gap_ok & local_ok)).flatten().tolist():
        size, order = e[b].abs().sort(descending=True)
        excess = size.sum() - CANCELLATION * allowed[b]
        count = int(torch.searchsorted(size.cumsum(0), excess.clamp_min(0))) + 1 if not local_ok[b] else 1
        chosen[order[:min(count, len(order))]] = True
    return torch.nonzero(chosen).flatten()


def refine(evaluate, score_change: torch.Tensor, tol: float = 0.01, budget: int = 50, atol=0.0):
    """Choose nodes for the path integral. ``evaluate(alphas (c,))`` must return (F, dF/dα) at those nodes, two
    float64 (B, c) tensors; ``score_change`` (B,) is F(x) − F(x′). Returns ``(alphas (m,) sorted, order, info)``
    where ``order`` sorts the nodes from evaluation order into α order."""
    alphas = torch.linspace(0, 1, INITIAL_NODES, dtype=torch.float64)
    scores, slopes = evaluate(alphas)
    added = torch.zeros(INITIAL_NODES, dtype=torch.long)
    allowed = tol * score_change.abs() + atol
    history = []
    while True:
        order = alphas.argsort()
        e = local_errors(alphas[order], scores[:, order], slopes[:, order])
        gap, local = e.sum(1), e.abs().sum(1)
        history.append((len(alphas), gap, local))
        gap_ok, local_ok = gap.abs() <= allowed, local <= CANCELLATION * allowed
        converged = bool((gap_ok & local_ok).all())
        room = budget - len(alphas)
        if converged or room <= 0:
            break
        pick = _to_bisect(e, gap_ok, local_ok, allowed)
        if len(pick) > room:  # keep the intervals that miss most relative to what their rows allow
            worst = (e[:, pick].abs() / allowed.view(-1, 1).clamp_min(1e-300)).amax(0)
            pick = pick[worst.argsort(descending=True)[:room]]
        a = alphas[order]
        new = (a[pick] + a[pick + 1]) / 2
        s, d = evaluate(new)
        alphas, scores, slopes = torch.cat([alphas, new]), torch.cat([scores, s], 1), torch.cat([slopes, d], 1)
        added = torch.cat([added, torch.full((len(new),), len(history), dtype=torch.long)])
    info = AdaptiveInfo(tol=float(tol), converged=converged,
                        evaluations=torch.tensor([h[0] for h in history]),
                        gaps=torch.stack([h[1] for h in history]), local=torch.stack([h[2] for h in history]),
                        added=added[order])
    return alphas[order], order, info


# ---- the step advisor -----------------------------------------------------------------------------------------

@dataclass(repr=False)
class StepAdvice(SaveLoad):
    """Completeness gap against steps, per rule. ``steps[rule]`` (S,) the step counts tried (for "adaptive": the
    nodes after each refinement round); ``gaps[rule]`` (N, S) signed Σ attributions − (F(x) − F(x′));
    ``change`` (N,) F(x) − F(x′); ``needed[rule]`` the fewest steps tried with every |gap| ≤ tol·|change|;
    ``stable[rule]`` the fewest from which every larger count tried stays within (None: not within max_steps)."""

    methods: list
    steps: dict
    gaps: dict
    needed: dict
    stable: dict
    change: torch.Tensor
    tol: float
    output: str
    max_steps: int

    def table(self) -> list[tuple[str, str]]:
        rows = []
        for rule in self.methods:
            rel = (self.gaps[rule].abs() / self.change.abs().view(-1, 1)).amax(0)
            rows.append((rule, f"needs {_n(self.needed[rule])} (stable from {_n(self.stable[rule])}); "
                               f"gap at {int(self.steps[rule][-1])} steps: {float(rel[-1]):.2%}"))
        return rows

    def __repr__(self):
        lines = "".join(f"\n  {rule:<18} {text}" for rule, text in self.table())
        return f"StepAdvice(tol={self.tol:.0%} of |F(x) − F(x′)|, output={self.output!r}){lines}"

    def _repr_html_(self):
        return html_summary(f"Steps needed for a completeness gap within {self.tol:.0%} ({self.output})",
                            self.table())


def _n(v):
    return "—" if v is None else str(v)


def _first_within(ok: torch.Tensor, steps: torch.Tensor):
    idx = torch.nonzero(ok).flatten()
    needed = int(steps[idx[0]]) if len(idx) else None
    bad = torch.nonzero(~ok).flatten()
    if not ok[-1]:
        return needed, None
    return needed, int(steps[bad[-1] + 1]) if len(bad) else int(steps[0])


def steps_needed(model, inputs, target=None, baseline=None, methods=METHODS + ("adaptive",), tol=0.01,
                 max_steps=256, steps=None, output="logit", layer=None, batch_size=None) -> StepAdvice:
    """Run every rule in ``methods`` at the step counts ``steps`` (default: a ladder 1, 2, 3, 4, 5, 6, 8, … up to
    ``max_steps``) and report the completeness gap and the steps needed for ``tol`` (relative, default 1 %).
    "adaptive" runs once with ``max_steps`` as its budget. Cost: the sum of all step counts tried, per rule."""
    from . import baselines
    from .ig import integrated_gradients

    if not 0 < tol < 1:
        raise ValueError(f"tol must be a fraction in (0, 1), e.g. 0.01 for 1 %, got {tol!r}")
    unknown = [m for m in methods if m not in METHODS + ("adaptive",)]
    if unknown:
        raise ValueError(f"methods must be among {METHODS + ('adaptive',)}, got {unknown}")
    ladder = torch.tensor([s for s in (steps or LADDER) if s <= max_steps])
    if baseline is not None and isinstance(baseline, baselines.Baseline):
        baseline = baselines.Once(baseline)  # every rule must see the same random baselines
    common = dict(baseline=baseline, output=output, layer=layer, batch_size=batch_size, record="none",
                  progress=False)
    out = {k: {} for k in ("steps", "gaps", "needed", "stable")}
    change = None
    for rule in methods:
        if rule == "adaptive":
            res = integrated_gradients(model, inputs, target=target, method="adaptive", steps=max_steps, tol=tol,
                                       **common)
            info, target = res.refinement, res.target
            counts = info.evaluations
            gaps = info.gaps.T.reshape(res.samples, len(res.delta), -1).mean(0).to(res.delta.dtype)
        else:
            counts = ladder[ladder >= MIN_STEPS[rule]]
            rows = []
            for n in counts.tolist():
                res = integrated_gradients(model, inputs, target=target, method=rule, steps=n, **common)
                target = res.target
                rows.append(res.delta)
            gaps = torch.stack(rows, 1)
        change = res.score - res.baseline_score
        ok = (gaps.abs() <= tol * change.abs().view(-1, 1)).all(0)
        out["steps"][rule], out["gaps"][rule] = counts, gaps
        out["needed"][rule], out["stable"][rule] = _first_within(ok, counts)
        if rule == "adaptive":
            out["needed"][rule] = out["stable"][rule] = int(counts[-1]) if bool(ok[-1]) else None
    return StepAdvice(methods=list(methods), change=change, tol=float(tol), output=output, max_steps=int(max_steps),
                      **out)
