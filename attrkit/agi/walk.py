"""Adversarial Gradient Integration (Pan, Li, Zhu, IJCAI 2021), with every adversarial trajectory kept.

AGI explains the true class i of an input x without a baseline. For a false class j it walks from x towards an
adversarial example of j by steepest ascent on f_j and integrates −∇f_i along the walk: the *individual* AGI_ij
(Algorithm 1). AGI(x) is the plain sum of the individual AGIs over a subsample S of false classes (Algorithm 2,
see :mod:`attrkit.agi.classes`).

Two modes, named after where they come from (they differ; research notes §2.5):

- ``mode="paper"``, Algorithm 1 as a path: every step starts from the current point,
  x_{t+1} = clip(x_t + ε·sign(∇f_j(x_t) / ‖∇f_i(x_t)‖)), and adds −∇f_i(x_t) ⊙ (x_{t+1} − x_t). This is a left
  Riemann sum of a line integral, so Σ_features AGI_ij → f_i(x_0) − f_i(x_T) as ε → 0 (the "accounted-for" check).
- ``mode="reference"``, the authors' code (AGI-repo ``utils.py`` ``pgd_step``/``fgsm_step``): every step restarts
  from the ORIGINAL input, x_{t+1} = clip(x_0 + ε·sign(∇f_j(x_t))), and adds −∇f_i(x_t) ⊙ (x_{t+1} − x_0). Its
  points never leave the L∞ ball of radius ε around x_0, and no completeness identity holds.

In both, a trajectory stops as soon as the prediction at the current point is j, tested before stepping (as
``pgd_step`` does), or after ``max_steps`` steps. Read on: :func:`adversarial_step` (one line of Algorithm 1),
:func:`agi` (all trajectories of all inputs advance together, one forward and two backward passes per step;
at t = 0 they all stand on their input, so :func:`_shared_start` serves them from one forward), then the result
types.
"""
from __future__ import annotations

import math
import secrets

import torch

from torch import nn

from ..common.checks import (check_batch_size, check_callable, check_logits, check_steps, check_target,
                             guard, no_gradient_error)
from ..common.outputs import class_table
from ..common.parts import Parts, as_parts, check_args, expand_args
from ..common.progress import progress_bar
from .arguments import check_bounds, check_choice, check_epsilon
from .classes import SELECTIONS, false_classes
from .result import AGIResult, Trajectory

MODES = ("paper", "reference")
OUTPUTS = ("probability", "logit", "double_softmax")
RECORDS = ("full", "scores", "none")


def class_scores(logits: torch.Tensor, output: str) -> torch.Tensor:
    """f: the scores being explained. "probability" = softmax (AGI_main.py), "logit" = raw, "double_softmax" =
    softmax of probabilities (AGI_quantitive.py, whose model already ends in a Softmax)."""
    if output == "logit":
        return logits
    p = torch.softmax(logits, dim=-1)
    return torch.softmax(p, dim=-1) if output == "double_softmax" else p


def clip(x: torch.Tensor, bounds) -> torch.Tensor:
    """Clamp into the model's valid input range (``bounds`` = (low, high) tensors, or None for no clamp)."""
    return x if bounds is None else torch.clamp(x, bounds[0], bounds[1])


def adversarial_step(x: torch.Tensor, x0: torch.Tensor, grad_j: torch.Tensor, grad_i: torch.Tensor,
                     epsilon: float, bounds, mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One line of Algorithm 1 for a batch of trajectory rows → (x_{t+1}, contribution of this step).

    paper:     x_{t+1} = clip(x_t + ε·sign(∇f_j(x_t) / ‖∇f_i(x_t)‖)),   contribution −∇f_i(x_t) ⊙ (x_{t+1} − x_t)
    reference: x_{t+1} = clip(x_0 + ε·sign(∇f_j(x_t))),                contribution −∇f_i(x_t) ⊙ (x_{t+1} − x_0)

    ‖∇f_i‖ is one positive number per row, so sign(∇f_j / ‖∇f_i‖) = sign(∇f_j): both modes compute the latter
    (the reference computes the norm and never uses it; the author agrees, AGI-issue 1). sign(0) = 0: a
    coordinate with no gradient does not move.
    """
    base = x if mode == "paper" else x0
    x_next = clip(torch.add(base, torch.sign(grad_j), alpha=epsilon), bounds)    # base + ε·sign(∇f_j)
    return x_next, grad_i * (base - x_next)                                     # −∇f_i ⊙ (x_{t+1} − base)


def agi(model, inputs, target=None, classes=20, selection="random", seed=0, epsilon=0.05, max_steps=20,
        mode="paper", output="probability", bounds=(0.0, 1.0), batch_size=None, record="full", progress=None,
        forward_args=None):
    """AGI attributions of ``inputs`` (N, ...) for class ``target`` (None: the predicted class) → :class:`AGIResult`.

    Algorithm 2: for every input and every false class j in S (``classes``/``selection``/``seed``, see
    :func:`attrkit.agi.classes.false_classes`) run Algorithm 1 for at most ``max_steps`` steps of size
    ``epsilon`` (L∞, in the model's input space, clamped to ``bounds``; None: no clamp), then sum over S.
    ``output``: "probability" (softmax, as the reference), "logit" or "double_softmax". ``batch_size`` caps the
    rows per forward pass (None: all live trajectories at once). ``record``: "full" (points and contributions
    of every step), "scores" (only the per-step scalars) or "none".

    ``model``: any callable returning (N, C ≥ 2) class scores (a tensor, a Hugging Face output's ``.logits``, or a
    tuple whose first element is the scores): AGI walks towards *other classes*, so a model with one score per
    input has nothing to walk to. ``inputs``: a tensor or a tuple of tensors with the same N; the walk moves all
    parts together (one L∞ step over the joint input), and the attributions, ``per_class`` and the trajectories'
    points come back in the same structure. For a tuple, ``bounds`` is a pair of numbers (every part) or a
    tuple with one (low, high) or None (no clamp) per part. ``forward_args``: extra arguments after the inputs
    (masks, token types), not moved; tensors have one row per input and go with that input's walks.
    """
    module = check_callable(model)
    parts_in, single = as_parts(inputs)
    n = parts_in[0].shape[0]
    args = check_args(forward_args, n)
    parts = Parts(parts_in, single)
    check_choice(mode, MODES, "mode")
    check_choice(output, OUTPUTS, "output")
    check_choice(record, RECORDS, "record")
    check_choice(selection, SELECTIONS, "selection")
    epsilon = check_epsilon(epsilon)
    max_steps = check_steps(max_steps, 1, "max_steps")
    batch_size = check_batch_size(batch_size)
    box = check_bounds(bounds, parts_in, parts)
    if seed is None:                                        # a fresh seed, recorded in the result
        seed = secrets.randbits(31)
    # any callable; (N, C) scores read from tensors, .logits or tuple-first outputs (attrkit.common.outputs)
    # (walk rows of inputs ``idx``: each row gets its own input's forward_args)
    net = lambda v, idx: class_table(model(*parts.unpack(v), *expand_args(args, idx, n)), len(v), n)  # noqa: E731
    kept = [t for t in (*parts_in, *args) if isinstance(t, torch.Tensor)]
    # a caller's torch.no_grad() must not hide the gradients AGI walks along
    with guard(module if module is not None else nn.Module(), *kept), torch.enable_grad():
        x_in = parts.pack(tuple(p.detach() for p in parts_in))
        x_leaf, logits = _first_forward(net, x_in, batch_size)
        num_classes = check_logits(logits, len(x_in))
        if not torch.isfinite(logits).all():
            raise ValueError("the model's output at the inputs contains NaN or inf; AGI needs finite scores")
        i = check_target(target, len(x_in), num_classes, logits.argmax(1)).to(x_in.device)
        S = false_classes(i.cpu(), num_classes, classes, selection, seed).to(x_in.device)
        start = None if x_leaf is None else _shared_start(logits, output, x_leaf, i, S)
        walk = _walk(net, x_in, i, S, epsilon, max_steps, mode, output, box, batch_size, record, progress, start)
    return _assemble(walk, x_in, i, S, record, parts, dict(
        mode=mode, epsilon=epsilon, max_steps=max_steps, output=output, selection=selection, seed=seed,
        bounds=None if box is None else box if not single else
        tuple(b if isinstance(b, torch.Tensor) else float(b) for b in bounds), record=record))


def _walk(model, x_in, i, S, epsilon, m, mode, output, box, batch_size, record, progress, start=None) -> dict:
    """The batched loop. One row per (input n, false class j); every live row advances one step per iteration.

    Per iteration t and chunk of live rows: one forward at x_t, the stop test (argmax == j, before stepping),
    ∇f_j and ∇f_i by two backward passes through the same graph, then :func:`adversarial_step`. Rows that
    reached j leave the batch. Rows still live after m steps get one last forward (no gradient), so that f_i, f_j
    and the argmax are known at x_T for every trajectory. The loop only appends what it saw to two lists; they
    are sorted into trajectories once, at the end (:func:`_pack`). At t = 0, ``start`` (from
    :func:`_shared_start`) replaces the forward and the two backward passes when it could be computed.
    ``model(points, rows)`` is told which input each row walks from (its forward arguments go with it).
    """
    n_idx, slot = (S >= 0).nonzero(as_tuple=True)          # rows in (input, slot) order
    row_i, row_j = i[n_idx], S[n_idx, slot]
    x0 = x_in[n_idx]                                        # a copy per row: the caller's tensor is never touched
    R = len(x0)
    A = torch.zeros_like(x0)                                # AGI_ij of every row, accumulated
    # The live trajectories, compact (one row each): row id, current point x_t, classes (i, j) (and x_0).
    live = dict(row=torch.arange(R, device=x0.device), x=x0, ij=torch.stack([row_i, row_j], 1))
    if mode == "reference":
        live["x0"] = x0
    chunk = batch_size or R
    visits, moves = [], []      # per forward: (rows, t, x_t, (f_i, f_j), argmax); per step: (rows, t, contribution)
    with progress_bar(m, progress, "AGI") as bar:
        for t in range(m + 1):
            if len(live["row"]) == 0:
                break
            survivors = []
            for s in range(0, len(live["row"]), chunk):
                w = dict(live) if chunk >= len(live["row"]) else {k: v[s:s + chunk] for k, v in live.items()}
                shared = t == 0 and start is not None     # one chunk then: batch_size is None
                xt = w["x"].detach().requires_grad_(t < m and not shared)
                if shared:   # every row still stands on its input x_0: read it off the shared start
                    f, p = start["f"][n_idx], start["p"][n_idx]
                    grads = start["g"][slot, n_idx], start["g"][-1, n_idx]            # ∇f_j, ∇f_i
                else:
                    with torch.set_grad_enabled(t < m):
                        logits = model(xt, n_idx[w["row"]])
                        f = class_scores(logits, output)
                    p = logits.argmax(1)
                visits.append((w["row"], t, w["x"] if record == "full" else None,
                               f.detach().gather(1, w["ij"]), p))                           # (f_i, f_j)
                if t == m:
                    continue
                go = p != w["ij"][:, 1]                     # Algorithm 1: stop once the prediction is j
                grad_j, grad_i = grads if shared else _gradients(f, w["ij"][:, 1:], w["ij"][:, :1], xt)
                w["x"], w["c"] = adversarial_step(w["x"], w.get("x0"), grad_j, grad_i, epsilon, box, mode)
                if not go.all():                            # rows that reached j leave the batch
                    keep = go.nonzero()[:, 0]
                    w = {k: v.index_select(0, keep) for k, v in w.items()}
                A.index_add_(0, w["row"], w["c"])
                if record == "full":
                    moves.append((w["row"], t, w["c"]))
                survivors.append(w)
            if t < m:
                live = {k: (survivors[0][k] if len(survivors) == 1 else torch.cat([w[k] for w in survivors]))
                        if survivors else v[:0] for k, v in live.items()}
                bar.update(1)
    (points, f_ij, pred), visited = _pack(visits, R, m, keep=(record == "full", True, True))
    f_i, f_j = f_ij.unbind(1)
    (contrib,), _ = _pack(moves, R, m, keep=(True,)) if record == "full" else ((None,), None)
    T = visited - 1                                         # forwards at x_0..x_T
    last = visited.cumsum(0) - 1                            # where x_T's entry sits in the packed tensors
    return dict(n=n_idx, slot=slot, i=row_i, j=row_j, A=A, T=T, visited=visited, f_i=f_i, f_j=f_j, pred=pred,
                points=points, contrib=contrib, f_i0=f_i[last - T], f_iT=f_i[last], reached=pred[last] == row_j)


def _pack(records, R, m, keep):
    """Per-forward records (rows, t, tensors...) → each tensor packed trajectory by trajectory, step by step
    (trajectory r's entries are contiguous, in order of t), and the number of entries per trajectory."""
    rows = torch.cat([r[0] for r in records])
    order = torch.argsort(rows * (m + 1) + torch.cat([torch.full_like(r[0], r[1]) for r in records]))
    packed = [torch.cat([r[2 + k] for r in records])[order] if wanted else None for k, wanted in enumerate(keep)]
    return packed, torch.bincount(rows, minlength=R)


def _shared_start(logits, output: str, x: torch.Tensor, i: torch.Tensor, S: torch.Tensor) -> dict | None:
    """t = 0 for all trajectories at once. Every trajectory of input n starts on the same point x_0, so the scores
    f (N, C) of one forward of the N inputs, and one batched backward (``is_grads_batched``: the K + 1 one-hot
    output gradients of classes S[n] and i[n] in one call) give every row's ∇f_j(x_0) and ∇f_i(x_0): N forwards
    and (K + 1)·N backwards instead of K·N forwards and 2·K·N backwards. Returns, per input, f (N, C), the argmax
    (N,) and ``g`` (K + 1, N, ...): ∇f of class S[n, k] in g[k, n] and of class i[n] in g[K, n]; or None where
    torch cannot batch the backward (the loop then does t = 0 itself)."""
    f = class_scores(logits, output)
    if not f.requires_grad:
        return None
    K = S.shape[1]
    cls = torch.cat([S.clamp_min(0), i.view(-1, 1)], 1).T                        # (K + 1, N); unused slots → 0
    onehots = torch.zeros((K + 1,) + f.shape, dtype=f.dtype, device=f.device).scatter_(2, cls.unsqueeze(2), 1.0)
    try:
        g, = torch.autograd.grad(f, x, onehots, is_grads_batched=True, allow_unused=True)
    except RuntimeError:             # an operation vmap has no rule for: fall back to the plain loop
        return None
    return None if g is None else dict(f=f.detach(), p=logits.detach().argmax(1), g=g)


def _gradients(f: torch.Tensor, j: torch.Tensor, i: torch.Tensor, xt: torch.Tensor):
    """∇f_j and ∇f_i at every row's point, from one forward: two backward passes through the same graph (the first
    keeps it), each the gradient of Σ_rows f_{row, class of row} (a one-hot per row as the output gradient).
    In eval mode the rows of a batch are independent, so that is every row's own gradient."""
    if not f.requires_grad:
        raise no_gradient_error()
    onehot = lambda c: torch.zeros_like(f).scatter_(1, c, 1.0)
    grad_j, = torch.autograd.grad(f, xt, onehot(j), retain_graph=True, allow_unused=True)
    grad_i, = torch.autograd.grad(f, xt, onehot(i), allow_unused=True)
    if grad_j is None or grad_i is None:
        raise no_gradient_error()
    return grad_j, grad_i


def _assemble(w: dict, x_in, i, S, record: str, parts: Parts, settings: dict) -> "AGIResult":
    """Rows back into (input, slot) tables, and tuple inputs back into their parts; the per-trajectory objects
    are built once, here."""
    N, K = S.shape
    at = (w["n"], w["slot"])
    row_accounted = w["A"].flatten(1).sum(1)                               # Σ features of AGI_ij
    row_drop = w["f_i0"] - w["f_iT"]                                       # f_i(x_0) − f_i(x_T)

    def table(values, fill):
        out = torch.full((N, K), fill, dtype=values.dtype, device=values.device)
        out[at] = values
        return out

    per_class = x_in.new_zeros((N, K) + x_in.shape[1:])
    per_class[at] = w["A"]
    trajectories = None
    if record != "none":
        trajectories = [[] for _ in range(N)]
        visited = w["visited"].tolist()
        split = lambda v, sizes: [None] * len(sizes) if v is None else v.split(sizes)
        split_x = lambda v, sizes: [None] * len(sizes) if v is None else [parts.give_back(c) for c in v.split(sizes)]
        per_row = zip(w["n"].tolist(), w["i"].tolist(), w["j"].tolist(), w["reached"].tolist(),
                      row_accounted.tolist(), row_drop.tolist(), split(w["f_i"], visited), split(w["f_j"], visited),
                      split(w["pred"], visited), split_x(w["points"], visited),
                      split_x(w["contrib"], [v - 1 for v in visited]))
        for n, ci, cj, hit, acc, drop, fi, fj, p, pts, c in per_row:
            trajectories[n].append(Trajectory(
                input_index=n, true_class=ci, false_class=cj, steps_taken=len(fi) - 1, reached=hit, scores=fi,
                false_scores=fj, predicted=p, points=pts, contributions=c, accounted=acc, score_drop=drop,
                mode=settings["mode"]))
    return AGIResult(attributions=parts.give_back(per_class.sum(1)), per_class=parts.give_back(per_class, lead=2),
                     classes=S, target=i,
                     steps_taken=table(w["T"], -1), reached=table(w["reached"], False),
                     accounted=table(row_accounted, math.nan), score_drop=table(row_drop, math.nan),
                     trajectories=trajectories, **settings)


# ---- argument checks (each names the argument and the fix) -----------------------------------------------

def _first_forward(model, x, batch_size):
    """The model (``model(points, input rows)``) at the inputs (for the predicted classes) → (x as a leaf that
    requires grad, logits with their graph), kept for :func:`_shared_start`; with ``batch_size`` set, (None, logits)
    without a graph. A shape mismatch is reported as the inputs' fault."""
    try:
        idx = torch.arange(len(x), device=x.device)
        if batch_size is None:
            leaf = x.detach().clone().requires_grad_(True)
            return leaf, model(leaf, idx)
        with torch.no_grad():  # copies: a model that writes to its input in place must not reach the caller's
            return None, torch.cat([model(c.clone(), k) for c, k in zip(x.split(batch_size), idx.split(batch_size))])
    except RuntimeError as e:
        if not any(w in str(e) for w in ("shape", "size", "mat1", "dimension", "Expected")):
            raise
        raise ValueError(f"the model cannot take inputs of shape {tuple(x.shape)} ({str(e).splitlines()[0]}). "
                         "Pass inputs shaped as the model expects, batch axis first (N, ...); for one example "
                         "use inputs.unsqueeze(0)") from e
