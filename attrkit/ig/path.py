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

from ..common.checks import check_batch_size, check_callable, check_output, guard
from ..common.outputs import REDUCTIONS
from ..common.parts import Parts, as_parts, check_args
from ..common.progress import progress_bar
from . import adaptive
from .endpoints import BASELINE_SPACES, endpoints
from .forward import Forward, LayerForward, layer_name
from .gradients import gradients_at, path_gradients
from .quadrature import METHODS, MIN_STEPS, quadrature, trapezoid_weights
from .result import IGResult, IGTrace

RECORDS = ("auto", "full", "scores", "none")
# record="auto" keeps the full trace while its gradients take at most this many numbers (16 MiB in float32, a
# few images at 50 steps); above it only the per-step scores, so a first call on a real model costs no more
# memory than captum's (bench/ig.py). The explorers ask for record="full" themselves.
FULL_TRACE_LIMIT = 2 ** 22


# ---- the formula's last term ---------------------------------------------------------------------------------

def integral_approximation(gradients: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Σ_k w_k ∇F(γ(α_k)) for gradients (m, B, ...) → (B, ...): the Riemann sum of Eq. 3 without (x − x′),
    summed in float64 (:func:`riemann_sum`) and returned in the gradients' dtype."""
    return riemann_sum(gradients, weights).to(gradients.dtype)


def riemann_sum(gradients: torch.Tensor, weights: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """The same sum, kept in float64: a float32 running sum of m terms loses ~m·2⁻²⁴ of the result, which at
    5000 steps is larger than the completeness gap the course teaches students to read (captum: 1.9e-6 at every
    m; a float32 sum: 5.8e-4 at m = 5000). Blocks of nodes are widened to float64 at most 2²⁰ numbers (8 MiB)
    at a time, so the copy stays small whatever m and the batch. ``out``: a float64 total to add into (the loop's
    running sum), so no second image-sized float64 tensor is made."""
    per_node = max(1, gradients[0].numel()) if len(gradients) else 1
    block = max(1, 2 ** 20 // per_node)
    w = weights.to(device=gradients.device, dtype=torch.float64)
    total = torch.zeros(gradients.shape[1:], dtype=torch.float64, device=gradients.device) if out is None else out
    if block == 1:  # big nodes: add each into the float64 total directly, no widened copy at all
        for wk, g in zip(w.tolist(), gradients):
            total.add_(g, alpha=wk)
        return total
    for k in range(0, len(gradients), block):
        total += torch.tensordot(w[k:k + block], gradients[k:k + block].double(), dims=1)
    return total


# ---- the public function -------------------------------------------------------------------------------------

def integrated_gradients(model, inputs, target=None, baseline=None, steps=50, method="riemann_trapezoid",
                         output="logit", batch_size=None, record="auto", layer=None, progress=None,
                         tol=0.01, forward_args=None, reduce=None, baseline_in="input", layer_input=False):
    """IG attributions of ``inputs`` (N, ...) for class ``target`` → :class:`IGResult` (Eq. 1, Eq. 3).

    ``model``: any callable (an ``nn.Module`` in eval mode, a function, a bound method) taking the inputs and
    then ``forward_args``; it may return (N, C) scores, (N,) or (N, 1) (one score: ``output="logit"``), a
    Hugging Face output with ``.logits``, a tuple whose first element is the scores, or (N, C, *positions) with
    a position ``target=(c, *p)`` or ``reduce="sum"``/``"mean"`` over the positions.
    ``inputs``: a tensor or a tuple of tensors with the same N (results come back in the same structure).
    ``target``: None (the predicted class), an int, an (N,) tensor, or a position tuple (see above).
    ``baseline``: None (zeros), a number, a tensor broadcastable to the inputs, or an :mod:`attrkit.ig.baselines`
    object (k > 1 baselines per input: IG is averaged over them = expected gradients); a tuple of these for
    tuple inputs. ``method``: a rule of :mod:`attrkit.ig.quadrature` with ``steps`` nodes, or "adaptive"
    (:func:`attrkit.ig.adaptive.refine`: each input's nodes placed until its completeness gap is within
    ``tol``·|F(x) − F(x′)|, ``steps`` = the most nodes it may use per input). ``output``: "logit" or
    "probability". ``batch_size``: at most this many points per forward pass, the probe included.
    ``record``: "full" (scores, gradients, running sums per step), "scores" (only the per-step numbers),
    "none", or "auto" (full while the gradients fit in 16 MiB, else scores). ``forward_args``: extra
    arguments after the inputs (masks, token types); tensors have one row per input and travel with its path
    points, under every rule. ``layer``: a submodule whose output (``layer_input=True``: input) the path runs
    in, captum's layer IG; ``baseline_in="input"`` (captum's convention): the baseline is an input and the path
    starts at the layer's activation there; ``baseline_in="layer"``: the baseline is given in the layer's
    space (None = zero activation, the "zero embedding"; integer ids are embedded).
    """
    module = check_callable(model)
    check_output(output)
    _check_method(method, steps)
    batch_size = check_batch_size(batch_size)
    if record not in RECORDS:
        raise ValueError(f"record must be one of {RECORDS}, got {record!r}")
    if reduce is not None and reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be None or one of {REDUCTIONS}, got {reduce!r}")
    if baseline_in not in BASELINE_SPACES:
        raise ValueError(f"baseline_in must be one of {BASELINE_SPACES}, got {baseline_in!r}")
    if layer is not None and (not isinstance(layer, nn.Module) or (module is not None and module is model and
                                                                   not any(m is layer for m in model.modules()))):
        raise ValueError("layer must be a submodule of model (e.g. layer=model.embedding), got "
                         f"{type(layer).__name__}")
    if not (progress is None or isinstance(progress, bool)):
        raise TypeError(f"progress must be None (auto), True or False, got {progress!r}")
    parts_in, single = as_parts(inputs, allow_int=layer is not None)
    n = parts_in[0].shape[0]
    args = check_args(forward_args, n)
    baselines_given = baseline if isinstance(baseline, (tuple, list)) else (baseline,)
    kept = [t for t in (*parts_in, *baselines_given, *args) if isinstance(t, torch.Tensor)]
    with guard(module if module is not None else nn.Module(), *kept), torch.enable_grad():
        # a caller's torch.no_grad() must not hide the gradients IG is made of (captum turns them on too)
        if module is not None:
            for p in module.parameters():
                # only input gradients are needed; frozen weights also tell us at once whether the input reaches F
                if p.is_leaf:
                    p.requires_grad_(False)
        parts = Parts(parts_in, single)
        common = dict(reduce=reduce, position=False)
        forward = Forward(model, parts, args, n, output, **common) if layer is None else \
            LayerForward(model, parts, parts_in, args, n, output, layer, to_input=layer_input, **common)
        x, start, baseline_name, target, score, start_score = endpoints(forward, parts, parts_in, baseline, target,
                                                                        output, layer, baseline_in, batch_size)
        k = start.shape[0] // n
        rows_target = target.repeat(k)  # rows are (baseline sample j, example n), sample-major
        end = x.expand(k, *x.shape).reshape(k * n, *x.shape[1:])
        if record == "auto":
            record = "full" if start.numel() * steps <= FULL_TRACE_LIMIT else "scores"

        if method == "adaptive":
            change = score.repeat(k) - start_score
            # below this the misses are float round-off of F, not quadrature error
            atol = 100 * torch.finfo(score.dtype).eps * (score.repeat(k).abs() + start_score.abs())
            alphas, weights, total, trace_parts, info = _adaptive(forward, start, end, rows_target, steps,
                                                                  tol, atol, batch_size, record, change, progress)
        else:
            alphas, weights = quadrature(method, steps)
            total, trace_parts = _fixed(forward, start, end, alphas, weights, rows_target, batch_size,
                                        record, progress)
            info = None

    space = parts if layer is None else forward.space
    diff = end - start
    # Eq. 3 in float64 (its sum is float64 too), in place: on a real model each image-sized copy is felt
    attributions = total.mul_(diff).view(k, *x.shape)
    attributions = attributions[0] if k == 1 else attributions.mean(0)
    baseline_score = start_score.view(k, n).mean(0)
    delta = (attributions.flatten(1).sum(1) - (score.double() - baseline_score.double())).to(score.dtype)
    trace = _trace(alphas, weights, diff, score.repeat(k) - start_score, record, *trace_parts)
    if not space.single:
        trace.gradients, trace.running = (None if t is None else space.give_back(t, lead=2)
                                          for t in (trace.gradients, trace.running))
    starts = start.reshape(k, *x.shape)
    return IGResult(attributions=space.give_back(attributions.to(x.dtype)), delta=delta, score=score,
                    baseline_score=baseline_score, inputs=space.give_back(x.detach().clone()),
                    baseline=space.give_back(starts[0].clone()) if k == 1 else space.give_back(starts.clone(), 2),
                    target=target, method=method, steps=int(alphas.shape[-1]), output=output,
                    layer=layer_name(model, layer), baseline_name=baseline_name, samples=k, trace=trace,
                    model_inputs=None if layer is None else _given(parts_in, single), refinement=info)


def _given(parts, single):
    parts = tuple(p.detach().clone() for p in parts)
    return parts[0] if single else parts


def _fixed(forward, start, end, alphas, weights, target, batch_size, record, progress):
    """A fixed rule: accumulate Σ w_k ∇F chunk by chunk, so only one chunk of gradients is alive at a time."""
    m, rows = alphas.shape[0], start.shape[0]
    diff_flat = (end - start).reshape(rows, -1) if record != "none" else None
    total = torch.zeros(start.shape, dtype=torch.float64, device=start.device)
    scores = contributions = gradients = None
    if record != "none":
        scores, contributions = start.new_empty(rows, m), start.new_empty(rows, m)
    if record == "full":
        gradients = start.new_empty(m, *start.shape)
    with progress_bar(m, progress, "IG") as bar:
        # the forward already returns F's space (softmax applied): output="logit" only gathers the target
        for k0, k1, s, g in path_gradients(forward, start, end, alphas, target, "logit", batch_size):
            riemann_sum(g, weights[k0:k1], out=total)
            if record != "none":
                w = weights[k0:k1].to(g)
                scores[:, k0:k1] = s.T
                slopes = torch.einsum("kbd,bd->kb", g.reshape(k1 - k0, rows, -1), diff_flat)  # no (c, B, D) temporary
                contributions[:, k0:k1] = (w.view(-1, 1) * slopes).T
            if record == "full":
                gradients[k0:k1] = g
            bar.update(k1 - k0)
    return total, (scores, contributions, None if gradients is None else gradients.movedim(0, 1).contiguous())


def _adaptive(forward, start, end, target, budget, tol, atol, batch_size, record, score_change, progress):
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
            s, g = gradients_at(lambda p: forward(p, r), points, target[r], "logit")
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
    per_pair = torch.zeros(len(who), dtype=torch.float64).index_add_(0, index.flatten().cpu(),
                                                                   weights.flatten()).to(grads.device)
    total = torch.zeros(start.shape, dtype=torch.float64, device=start.device)
    for r, g, wp in zip(kept["rows"], kept["grads"], per_pair.split([len(r) for r in kept["rows"]])):
        total.index_add_(0, r, wp.view(-1, *[1] * (g.dim() - 1)) * g)  # float64, as for the fixed rules
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
    gaps = (contributions.double().cumsum(1) - score_change.double().view(-1, 1)).to(contributions.dtype)
    running = None
    if gradients is not None:  # (B, m, ...)
        w = weights.to(gradients).expand(gradients.shape[0], -1)
        running = diff.unsqueeze(1) * (w.view(*w.shape, *[1] * (gradients.dim() - 2)) * gradients).cumsum(1)
    return IGTrace(alphas=alphas, weights=weights, scores=scores, contributions=contributions, gaps=gaps,
                   gradients=gradients, running=running)


