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

The step advisor that measures every rule against this one is :mod:`attrkit.ig.advice`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..common.saving import SaveLoad

INITIAL_NODES = 3
CANCELLATION = 3.0


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
