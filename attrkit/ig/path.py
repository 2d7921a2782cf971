"""Integrated Gradients (Sundararajan, Taly & Yan, ICML 2017), one function per term of the formula.

    IG_i(x) = (x_i − x′_i) · ∫₀¹ ∂F(γ(α))/∂x_i dα,      γ(α) = x′ + α (x − x′)          (Eq. 1)
            ≈ (x_i − x′_i) · Σ_k w_k ∂F(γ(α_k))/∂x_i                                     (Eq. 3)

Read top to bottom: :func:`path_points` builds γ(α_k), :func:`path_gradients` evaluates ∇F there,
:func:`integral_approximation` forms Σ_k w_k ∇F(γ(α_k)), and :func:`integrated_gradients` multiplies by (x − x′).
The nodes α_k and weights w_k come from :mod:`attrkit.ig.quadrature` (or :mod:`attrkit.ig.adaptive`).

Completeness (Prop. 1): Σ_i IG_i(x) = F(x) − F(x′). The result's ``delta`` = Σ attributions − (F(x) − F(x′))
is what the finite sum misses; the paper suggests enough steps to bring it within 5 % of |F(x) − F(x′)|.

Which F? ``output="logit"`` explains the raw class score; ``output="probability"`` its softmax, which the IG
authors recommend for classifiers. The softmax *saturates*: once a class wins, p barely moves, so its gradient
is ~0 over most of the path and all attribution is collected in the short stretch where p rises. That is
faithful to p (completeness holds) but needs more steps there, and features acting only after saturation get
nothing. The logit keeps changing along the path, but explains a score the user never sees and is not comparable
across classes. Try both on the same input (``res.trace.scores`` shows where F moves).
"""
from __future__ import annotations

import warnings

import torch
from torch import nn

from ..common.checks import check_batch, check_batch_size, check_model, check_output, guard
from ..common.progress import progress_bar
from . import adaptive
from .endpoints import _endpoints
from .gradients import gradients_at, path_gradients
from .layer import _LayerForward, _layer_name
from .quadrature import METHODS, MIN_STEPS, quadrature, trapezoid_weights
from .result import IGResult, IGTrace

RECORDS = ("full", "scores", "none")


# ---- the formula's last term ---------------------------------------------------------------------------------

def integral_approximation(gradients: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Σ_k w_k ∇F(γ(α_k)) for gradients (m, B, ...) → (B, ...): the Riemann sum of Eq. 3 without (x − x′)."""
    return torch.tensordot(weights.to(gradients), gradients, dims=1)


# ---- the public function -------------------------------------------------------------------------------------

def integrated_gradients(model, inputs, target=None, baseline=None, steps=50, method="riemann_trapezoid",
                         output="logit", batch_size=None, record="full", layer=None, progress=None,
                         tol=0.01):
    """IG attributions of ``inputs`` (N, ...) for class ``target`` → :class:`IGResult`.

    ``target``: None (the predicted class), an int, or an (N,) tensor. ``baseline``: None (zeros), a number, a
    tensor broadcastable to the inputs, or an :mod:`attrkit.ig.baselines` object (k > 1 baselines per input: IG
    is averaged over them = expected gradients). ``method``: a rule of :mod:`attrkit.ig.quadrature` with ``steps``
    nodes, or "adaptive" (:func:`attrkit.ig.adaptive.refine`: each input's nodes placed until its completeness gap
    is within ``tol``·|F(x) − F(x′)|, ``steps`` = the most nodes it may use per input). ``output``: "logit" or
    "probability". ``batch_size``: at most this many path points per forward pass (memory then no longer grows
    with ``steps`` for ``record="none"``). ``record``: "full" (scores, gradients, running sums per step),
    "scores" (only the per-step numbers) or "none". ``layer``: a submodule whose *output* the path runs in
    (embedding IG: inputs may then be token ids; an integer ``baseline`` of the same shape, e.g. PAD ids, is
    embedded too).
    """
    check_model(model)
    check_output(output)
    _check_method(method, steps)
    batch_size = check_batch_size(batch_size)
    if record not in RECORDS:
        raise ValueError(f"record must be one of {RECORDS}, got {record!r}")
    if layer is not None and (not isinstance(layer, nn.Module) or not any(m is layer for m in model.modules())):
        raise ValueError("layer must be a submodule of model (e.g. layer=model.embedding), got "
                         f"{type(layer).__name__}")
    if not (progress is None or isinstance(progress, bool)):
        raise TypeError(f"progress must be None (auto), True or False, got {progress!r}")
    inputs = check_batch(inputs, allow_int=layer is not None)
    n = inputs.shape[0]
    with guard(model, inputs, *[b for b in (baseline,) if isinstance(b, torch.Tensor)]):
        for p in model.parameters():
            # only input gradients are needed; frozen weights also tell us at once whether the input reaches F
            if p.is_leaf:
                p.requires_grad_(False)
        # forward(points, rows): row i of points belongs to input rows[i] % N (only a layer's forward needs it)
        forward = (lambda points, rows=None: model(points)) if layer is None else _LayerForward(model, layer, inputs)
        x, start, baseline_name, target, score, start_score = _endpoints(model, forward, inputs, baseline, target,
                                                                         output, layer)
        k = start.shape[0] // n
        rows_target = target.repeat(k)  # rows are (baseline sample j, example n), sample-major
        end = x.expand(k, *x.shape).reshape(k * n, *x.shape[1:])

        if method == "adaptive":
            change = score.repeat(k) - start_score
            # below this the misses are float round-off of F, not quadrature error
            atol = 100 * torch.finfo(score.dtype).eps * (score.repeat(k).abs() + start_score.abs())
            alphas, weights, total, trace_parts, info = _adaptive(forward, start, end, rows_target, output, steps,
                                                                  tol, atol, batch_size, record, change, progress)
        else:
            alphas, weights = quadrature(method, steps)
            total, trace_parts = _fixed(forward, start, end, alphas, weights, rows_target, output, batch_size,
                                        record, progress)
            info = None

    diff = end - start
    rows_attr = diff * total
    attributions = rows_attr.view(k, *x.shape).mean(0)
    baseline_score = start_score.view(k, n).mean(0)
    delta = attributions.flatten(1).sum(1) - (score - baseline_score)
    trace = _trace(alphas, weights, diff, score.repeat(k) - start_score, record, *trace_parts)
    return IGResult(attributions=attributions, delta=delta, score=score, baseline_score=baseline_score,
                    inputs=x.detach().clone(), baseline=(start.reshape(k, *x.shape)[0] if k == 1 else
                                                         start.reshape(k, *x.shape)).clone(),
                    target=target, method=method, steps=int(alphas.shape[-1]), output=output,
                    layer=_layer_name(model, layer), baseline_name=baseline_name, samples=k, trace=trace,
                    model_inputs=inputs.detach().clone() if layer is not None else None, refinement=info)


def _fixed(forward, start, end, alphas, weights, target, output, batch_size, record, progress):
    """A fixed rule: accumulate Σ w_k ∇F chunk by chunk, so only one chunk of gradients is alive at a time."""
    m, rows = alphas.shape[0], start.shape[0]
    diff_flat = (end - start).reshape(rows, -1)
    total = torch.zeros_like(start)
    scores = contributions = gradients = None
    if record != "none":
        scores, contributions = start.new_empty(rows, m), start.new_empty(rows, m)
    if record == "full":
        gradients = start.new_empty(m, *start.shape)
    with progress_bar(m, progress, "IG") as bar:
        for k0, k1, s, g in path_gradients(forward, start, end, alphas, target, output, batch_size):
            w = weights[k0:k1].to(g)
            total += integral_approximation(g, w)
            if record != "none":
                scores[:, k0:k1] = s.T
                contributions[:, k0:k1] = (w.view(-1, 1) * (g.reshape(k1 - k0, rows, -1) * diff_flat).sum(-1)).T
            if record == "full":
                gradients[k0:k1] = g
            bar.update(k1 - k0)
    return total, (scores, contributions, None if gradients is None else gradients.movedim(0, 1).contiguous())


def _adaptive(forward, start, end, target, output, budget, tol, atol, batch_size, record, score_change, progress):
    """The adaptive rule: :func:`attrkit.ig.adaptive.refine` picks every row's nodes; all gradients are kept until
    the grids are final, because refining an interval changes its end nodes' weights."""
    rows = start.shape[0]
    diff = end - start
    diff_flat = diff.reshape(rows, -1)
    kept = {"rows": [], "scores": [], "slopes": [], "grads": []}
    bar = progress_bar(budget * rows, progress, "IG (adaptive)")

    def evaluate(who, alphas):
        """F and dF/dα at the (row, α) pairs of one round, ``batch_size`` pairs per forward pass."""
        chunk = len(who) if batch_size is None else batch_size
        first = len(kept["scores"])
        for i in range(0, len(who), chunk):
            r = who[i:i + chunk].to(start.device)
            points = start[r] + alphas[i:i + chunk].to(start).view(-1, *[1] * (start.dim() - 1)) * diff[r]
            s, g = gradients_at(lambda p: forward(p, rows=r), points, target[r], output)
            kept["rows"].append(r)
            kept["scores"].append(s)
            kept["slopes"].append((g.reshape(len(r), -1) * diff_flat[r]).sum(-1))  # dF(γ(α))/dα = ∇F · (x − x′)
            kept["grads"].append(g)
            bar.update(len(r))
        # the rule's bookkeeping is a few numbers per node: it runs on the CPU
        return (torch.cat(kept[k][first:]).double().cpu() for k in ("scores", "slopes"))

    with bar:
        alphas, index, info = adaptive.refine(evaluate, score_change.double(), tol=tol, budget=budget,
                                              atol=atol.double())
    if not info.converged:
        warnings.warn(f"adaptive IG stopped at its budget of {budget} nodes with the completeness gap above "
                      f"tol={tol} for some inputs; raise steps (the node budget) or tol", stacklevel=3)
    who, grads = torch.cat(kept["rows"]), torch.cat(kept["grads"])
    weights = trapezoid_weights(alphas)  # (B, m); the padding repeats α = 1 and so gets weight 0
    w, index = weights.to(grads), index.to(grads.device)
    per_pair = grads.new_zeros(len(who)).index_add_(0, index.flatten(), w.flatten())
    total = torch.zeros_like(start).index_add_(0, who, per_pair.view(-1, *[1] * (grads.dim() - 1)) * grads)
    if record == "none":
        return alphas, weights, total, (None, None, None), info
    contributions = w * torch.cat(kept["slopes"])[index]
    return alphas, weights, total, (torch.cat(kept["scores"])[index], contributions,
                                    grads[index] if record == "full" else None), info


def _check_method(method, steps):
    if method != "adaptive" and method not in METHODS:
        raise ValueError(f"method must be one of {METHODS + ('adaptive',)}, got {method!r}")
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"steps must be an int, got {type(steps).__name__}")
    least = adaptive.INITIAL_NODES if method == "adaptive" else MIN_STEPS[method]
    if steps < least:
        raise ValueError(f"steps must be ≥ {least} for method={method!r}, got {steps}"
                         + (" (for adaptive, steps is the node budget)" if method == "adaptive" else ""))


def _trace(alphas, weights, diff, score_change, record, scores, contributions, gradients):
    if record == "none":
        return IGTrace(alphas=alphas, weights=weights)
    gaps = contributions.cumsum(1) - score_change.view(-1, 1)
    running = None
    if gradients is not None:  # (B, m, ...)
        w = weights.to(gradients).expand(gradients.shape[0], -1)
        running = diff.unsqueeze(1) * (w.view(*w.shape, *[1] * (gradients.dim() - 2)) * gradients).cumsum(1)
    return IGTrace(alphas=alphas, weights=weights, scores=scores, contributions=contributions, gaps=gaps,
                   gradients=gradients, running=running)


