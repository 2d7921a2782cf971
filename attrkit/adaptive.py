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
gradients to fit its weights; it only decides where to look. Every row of a batch (input × baseline sample)
refines its own grid, and each round's new nodes of all rows share forward passes: a batch costs the sum of what
its inputs need, where a fixed rule must give every input the steps of the hardest. Limits: all gradients are
kept until the grids are final (memory grows with the nodes used, unlike the fixed rules with ``batch_size``);
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
    """The adaptive rule's history, one entry per round R, one column per row B: ``evaluations`` (R, B) nodes
    of each row so far, ``gaps`` (R, B) signed completeness gap Σ e_j, ``local`` (R, B) Σ |e_j|; ``added``
    (B, m) the round each final node (α order, padding included) was added in; ``converged_rows`` (B,) both
    criteria met for that row within the budget; ``converged``: for every row."""

    tol: float
    converged: bool
    converged_rows: torch.Tensor
    evaluations: torch.Tensor
    gaps: torch.Tensor
    local: torch.Tensor
    added: torch.Tensor

    @property
    def total_evaluations(self) -> int:
        """Model evaluations (path points with a gradient) over all rows: the rule's cost."""
        return int(self.evaluations[-1].sum())

    def __repr__(self):
        nodes = self.evaluations[-1]
        return (f"AdaptiveInfo(tol={self.tol}, converged={int(self.converged_rows.sum())}/{len(nodes)} rows, "
                f"rounds={len(self.evaluations)}, nodes per row={int(nodes.min())}–{int(nodes.max())}, "
                f"total={self.total_evaluations})")


def _to_bisect(e: torch.Tensor, local_ok: torch.Tensor, allowed: torch.Tensor, room: torch.Tensor):
    """Each failing row's worst intervals: as many as it takes for their misses to cover its excess over
    Σ|e_j| ≤ 3·allowed (only the worst one if just the total gap fails), at most ``room``. Returns a (B, m−1)
    mask over the intervals sorted by |e_j|, largest first, and that sort order."""
    size, order = e.abs().sort(dim=1, descending=True)
    excess = (size.sum(1) - CANCELLATION * allowed).clamp_min(0)
    count = torch.searchsorted(size.cumsum(1), excess.view(-1, 1)).squeeze(1) + 1
    count = torch.where(local_ok, 1, count).minimum(room)
    return torch.arange(e.shape[1]) < count.view(-1, 1), order


def refine(evaluate, score_change: torch.Tensor, tol: float = 0.01, budget: int = 50, atol=0.0):
    """Choose the nodes of every row's path integral; each row refines its own grid, so an easy input stops at
    three nodes while a hard one in the same batch goes on. ``evaluate(rows (P,), alphas (P,))`` must return
    (F, dF/dα) at those (row, α) pairs, two float64 (P,) tensors (each round's new pairs of all rows come in one
    call, so they share forward passes); ``score_change`` (B,) is F(x) − F(x′); ``budget``: nodes per row.

    Returns ``(alphas, index, info)``: ``alphas`` (B, m) each row's nodes in α order, padded after its last
    node (α = 1) with copies of it, which the trapezoid gives weight 0; ``index`` (B, m) each node's position
    in evaluation order (padding repeats the α = 1 node's); ``info`` an :class:`AdaptiveInfo`.
    """
    rows = score_change.shape[0]
    allowed = (tol * score_change.abs() + atol).expand(rows)
    # Every row's nodes, sorted by α, as (B, m) tensors: α, F, dF/dα, position in evaluation order, round
    # added. Rows with fewer nodes are padded with copies of their α = 1 node: zero-width intervals, e_j = 0.
    a = torch.linspace(0, 1, INITIAL_NODES, dtype=torch.float64).repeat(rows, 1)
    f, d = (v.view(rows, -1) for v in evaluate(torch.arange(rows).repeat_interleave(INITIAL_NODES), a.flatten()))
    grid = dict(a=a, f=f, d=d, pos=torch.arange(a.numel()).view(rows, -1),
                round=torch.zeros_like(a, dtype=torch.long))
    nodes, seen, history = torch.full((rows,), INITIAL_NODES), a.numel(), []
    while True:
        e = local_errors(grid["a"], grid["f"], grid["d"])
        gap, local = e.sum(1), e.abs().sum(1)
        local_ok = local <= CANCELLATION * allowed
        ok = (gap.abs() <= allowed) & local_ok
        history.append((nodes.clone(), gap, local))
        todo = ~ok & (nodes < budget)
        if not todo.any():
            break
        chosen, order = _to_bisect(e, local_ok, allowed, budget - nodes)
        chosen &= todo.view(-1, 1)
        who, rank = torch.nonzero(chosen, as_tuple=True)  # row by row
        j = order[who, rank]
        a = grid["a"]
        new = (a[who, j] + a[who, j + 1]) / 2  # the midpoint of [α_j, α_{j+1}]
        s, slope = evaluate(who, new)
        fresh = dict(a=new, f=s, d=slope, pos=seen + torch.arange(len(who)),
                     round=torch.full((len(who),), len(history)))
        # lay each row's new nodes out in its own row of a (B, k) block (padding: its α = 1 node), append, re-sort
        count = chosen.sum(1)
        k = torch.arange(int(count.max()))
        take = ((count.cumsum(0) - count).view(-1, 1) + k).clamp_max(len(who) - 1)
        real = k < count.view(-1, 1)
        grid = {name: torch.cat([v, torch.where(real, fresh[name][take], v[:, -1:])], 1)
                for name, v in grid.items()}
        nodes, seen = nodes + count, seen + len(who)
        o = grid["a"].sort(dim=1, stable=True).indices[:, :int(nodes.max())]
        grid = {name: v.gather(1, o) for name, v in grid.items()}
    info = AdaptiveInfo(tol=float(tol), converged=bool(ok.all()), converged_rows=ok,
                        evaluations=torch.stack([h[0] for h in history]), gaps=torch.stack([h[1] for h in history]), local=torch.stack([h[2] for h in history]),
                        added=grid["round"])
    return grid["a"], grid["pos"], info


# ---- the step advisor -----------------------------------------------------------------------------------------

@dataclass(repr=False)
class StepAdvice(SaveLoad):
    """Completeness gap against steps, per rule. ``steps[rule]`` (S,) the step counts tried; ``gaps[rule]`` (N, S) signed Σ attributions − (F(x) − F(x′));
    ``change`` (N,) F(x) − F(x′); ``needed[rule]`` the fewest steps tried with every |gap| ≤ tol·|change|;
    ``stable[rule]`` the fewest from which every larger count tried stays within (None: not within max_steps).
    The adaptive rule gives each input its own nodes, so for it ``steps`` are the mean nodes per input after
    each round, ``needed`` = ``stable`` that mean at the end (None if some input missed ``tol``), and
    ``nodes`` (N,) what each input used."""

    methods: list
    steps: dict
    gaps: dict
    needed: dict
    stable: dict
    change: torch.Tensor
    tol: float
    output: str
    max_steps: int
    nodes: torch.Tensor | None = None

    def table(self) -> list[tuple[str, str]]:
        rows = []
        for rule in self.methods:
            rel = (self.gaps[rule].abs() / self.change.abs().view(-1, 1)).amax(0)
            if rule == "adaptive" and self.nodes is not None and len(self.nodes) > 1:
                used = f"{int(self.nodes.min())}–{int(self.nodes.max())}"
                head = f"needs {_n(self.needed[rule])} per input on average ({used})" if self.needed[rule] else \
                    f"some inputs still miss at {self.max_steps} nodes ({used} used)"
                rows.append((rule, f"{head}; worst gap at the end: {float(rel[-1]):.2%}"))
                continue
            rows.append((rule, f"needs {_n(self.needed[rule])} (stable from {_n(self.stable[rule])}); "
                               f"gap at {_n(float(self.steps[rule][-1]))} steps: {float(rel[-1]):.2%}"))
        return rows

    def __repr__(self):
        lines = "".join(f"\n  {rule:<18} {text}" for rule, text in self.table())
        return f"StepAdvice(tol={self.tol * 100:g}% of |F(x) − F(x′)|, output={self.output!r}){lines}"

    def _repr_html_(self):
        return html_summary(f"Steps needed for a completeness gap within {self.tol * 100:g}% ({self.output})",
                            self.table())


def _n(v):
    if v is None:
        return "—"
    return str(int(v)) if float(v).is_integer() else f"{float(v):.1f}"


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
    change = nodes = None
    for rule in methods:
        if rule == "adaptive":
            res = integrated_gradients(model, inputs, target=target, method="adaptive", steps=max_steps, tol=tol,
                                       **common)
            info, target = res.refinement, res.target
            per_input = info.evaluations.view(len(info.evaluations), res.samples, -1).sum(1)  # (R, N)
            nodes = per_input[-1]
            counts = per_input.double().mean(1)
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
            out["needed"][rule] = out["stable"][rule] = float(counts[-1]) if bool(ok[-1]) else None
    return StepAdvice(methods=list(methods), change=change, tol=float(tol), output=output, max_steps=int(max_steps),
                      nodes=nodes, **out)
