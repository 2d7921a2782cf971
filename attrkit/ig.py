"""Integrated Gradients (Sundararajan, Taly & Yan, ICML 2017), one function per term of the formula.

    IG_i(x) = (x_i − x′_i) · ∫₀¹ ∂F(γ(α))/∂x_i dα,      γ(α) = x′ + α (x − x′)          (Eq. 1)
            ≈ (x_i − x′_i) · Σ_k w_k ∂F(γ(α_k))/∂x_i                                     (Eq. 3)

Read top to bottom: :func:`path_points` builds γ(α_k), :func:`path_gradients` evaluates ∇F there,
:func:`integral_approximation` forms Σ_k w_k ∇F(γ(α_k)), and :func:`integrated_gradients` multiplies by (x − x′).
The nodes α_k and weights w_k come from :mod:`attrkit.quadrature` (or :mod:`attrkit.adaptive`).

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
from dataclasses import dataclass

import torch
from torch import nn

from . import adaptive, baselines
from ._checks import (check_batch, check_batch_size, check_logits, check_model, check_output, check_target, guard,
                      no_gradient_error)
from ._progress import progress_bar
from .quadrature import METHODS, MIN_STEPS, quadrature, trapezoid_weights
from .results import SaveLoad, fmt, heatmap_png, html_summary

RECORDS = ("full", "scores", "none")


# ---- the formula, term by term -----------------------------------------------------------------------------

def path_points(start: torch.Tensor, end: torch.Tensor, alphas: torch.Tensor) -> torch.Tensor:
    """γ(α_k) = x′ + α_k (x − x′) for every α: shape (m, *start.shape)."""
    a = alphas.to(start).view(-1, *[1] * start.dim())
    return start + a * (end - start)


def target_scores(logits: torch.Tensor, target: torch.Tensor, output: str) -> torch.Tensor:
    """F: the explained class's logit, or its softmax probability, one number per row."""
    f = logits if output == "logit" else torch.softmax(logits, dim=-1)
    return f.gather(1, target.view(-1, 1)).squeeze(1)


def path_gradients(forward, start, end, alphas, target, output, batch_size=None):
    """∇F(γ(α_k)) for every node, in chunks: yields ``(k0, k1, scores (c, B), gradients (c, B, ...))``.

    The path points of ``batch_size // B`` nodes go through the model as one batch, α-major like captum.
    """
    rows, m = start.shape[0], alphas.shape[0]
    chunk = m if batch_size is None else max(1, batch_size // rows)
    for k0 in range(0, m, chunk):
        k1 = min(k0 + chunk, m)
        points = path_points(start, end, alphas[k0:k1]).reshape(-1, *start.shape[1:])
        scores, grads = gradients_at(forward, points, target.repeat(k1 - k0), output)
        yield k0, k1, scores.view(k1 - k0, rows), grads.view(k1 - k0, *start.shape)


def gradients_at(forward, points, target, output):
    """F and ∇F at a batch of path points, one per row: ``(scores (P,), gradients (P, ...))``.

    In eval mode the rows are independent, so the gradient of Σ_rows F is every row's own gradient; it is
    taken with ``torch.autograd.grad`` on a fresh leaf, so nothing is written to the model's ``.grad``.
    """
    points = points.detach().requires_grad_()
    scores = target_scores(forward(points), target, output)
    if not scores.requires_grad:
        raise no_gradient_error()
    (grads,) = torch.autograd.grad(scores.sum(), points, allow_unused=True)
    if grads is None:
        raise no_gradient_error()
    return scores.detach(), grads


def integral_approximation(gradients: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Σ_k w_k ∇F(γ(α_k)) for gradients (m, B, ...) → (B, ...): the Riemann sum of Eq. 3 without (x − x′)."""
    return torch.tensordot(weights.to(gradients), gradients, dims=1)


# ---- the public function -------------------------------------------------------------------------------------

def integrated_gradients(model, inputs, target=None, baseline=None, steps=50, method="riemann_trapezoid",
                         output="logit", batch_size=None, record="full", layer=None, progress=None,
                         tol=0.01):
    """IG attributions of ``inputs`` (N, ...) for class ``target`` → :class:`IGResult`.

    ``target``: None (the predicted class), an int, or an (N,) tensor. ``baseline``: None (zeros), a number, a
    tensor broadcastable to the inputs, or an :mod:`attrkit.baselines` object (k > 1 baselines per input: IG
    is averaged over them = expected gradients). ``method``: a rule of :mod:`attrkit.quadrature` with ``steps``
    nodes, or "adaptive" (:func:`attrkit.adaptive.refine`: each input's nodes placed until its completeness gap
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


# ---- the two ways of choosing nodes ---------------------------------------------------------------------------

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
    """The adaptive rule: :func:`attrkit.adaptive.refine` picks every row's nodes; all gradients are kept until
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


# ---- endpoints, baselines, layers -----------------------------------------------------------------------------

def _check_method(method, steps):
    if method != "adaptive" and method not in METHODS:
        raise ValueError(f"method must be one of {METHODS + ('adaptive',)}, got {method!r}")
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"steps must be an int, got {type(steps).__name__}")
    least = adaptive.INITIAL_NODES if method == "adaptive" else MIN_STEPS[method]
    if steps < least:
        raise ValueError(f"steps must be ≥ {least} for method={method!r}, got {steps}"
                         + (" (for adaptive, steps is the node budget)" if method == "adaptive" else ""))


def _model_error(e: Exception, what: str, shape) -> ValueError:
    return ValueError(f"the model failed on {what} of shape {tuple(shape)}: {type(e).__name__}: {e}. Check that "
                      f"{what} is a batch (N, ...) of the shape and dtype the model expects")


def _endpoints(model, forward, inputs, baseline, target, output, layer):
    """x and the baselines x′ in the path's space (layer output for ``layer=``), the target, F(x) and F(x′).

    This is also the probe that runs before any heavy work: the model's output shape, the target's range and
    whether a gradient reaches the path at all are checked here, on one forward pass of x and x′ together.
    """
    n = inputs.shape[0]
    if layer is not None:
        try:
            with torch.no_grad():
                x, logits = forward.capture(inputs)
        except RuntimeError as e:
            raise _model_error(e, "inputs", inputs.shape) from e
        start, name = _start_points(baseline, x, forward, layer, inputs)
        start = start.reshape(-1, *x.shape[1:])
        target = check_target(target, n, check_logits(logits, n), logits.argmax(1))
        score = target_scores(logits, target, output)
        return x, start, name, target, score, _scores_at(forward, start, target.repeat(len(start) // n), output)
    x = inputs.detach()
    start, name = baselines.resolve(baseline, x)
    start = start.reshape(-1, *x.shape[1:])
    both = torch.cat([x, start]).requires_grad_()
    try:
        logits = model(both)
    except RuntimeError as e:
        raise _model_error(e, "inputs", inputs.shape) from e
    check_logits(logits[:n] if logits.dim() == 2 and logits.shape[0] == len(both) else logits, n)
    if not logits.requires_grad:
        raise no_gradient_error()
    logits = logits.detach()
    target = check_target(target, n, logits.shape[1], logits[:n].argmax(1))
    f = target_scores(logits, torch.cat([target, target.repeat(len(start) // n)]), output)
    return x, start, name, target, f[:n], f[n:]


def _start_points(baseline, x, forward, layer, inputs):
    """The baselines, (k, N, ...) in the path's space; integer ids are embedded through ``layer``."""
    if layer is not None and isinstance(baseline, torch.Tensor) and not baseline.is_floating_point() \
            and baseline.dtype != torch.bool:
        try:
            ids = torch.broadcast_to(baseline.to(inputs.device), inputs.shape)
        except RuntimeError:
            raise ValueError(f"an integer baseline (token ids, e.g. PAD) must broadcast to the inputs' shape "
                             f"{tuple(inputs.shape)}, got {tuple(baseline.shape)}") from None
        with torch.no_grad():
            embedded, _ = forward.capture(ids)
        return embedded.unsqueeze(0), "ids"
    return baselines.resolve(baseline, x)


def _scores_at(forward, points, target, output):
    """F at the baselines in a layer's space, checking that a gradient reaches the layer output."""
    leaf = points.detach().requires_grad_()
    try:
        s = target_scores(forward(leaf), target, output)
    except RuntimeError as e:
        raise _model_error(e, "baseline", points.shape) from e
    if not s.requires_grad:
        raise no_gradient_error("layer output")
    return s.detach()


class _LayerForward:
    """The model with ``layer``'s output replaced by the path points: the path runs in that layer's output space
    (captum's LayerIntegratedGradients does the same). The rest of the model still sees the real inputs, repeated
    once per path point, so e.g. a padding mask computed from token ids stays that of the input."""

    def __init__(self, model, layer, inputs):
        self.model, self.layer, self.inputs = model, layer, inputs

    def _run(self, inputs, hook):
        calls = []

        def counted(module, args, out):
            calls.append(1)
            return hook(out)

        handle = self.layer.register_forward_hook(counted)
        try:
            logits = self.model(inputs)
        finally:
            handle.remove()
        if len(calls) != 1:
            raise ValueError(f"layer ran {len(calls)} times in one forward pass; pass a layer the model calls "
                             "exactly once (e.g. model.embedding)")
        return logits

    def capture(self, inputs):
        """(the layer's output, the logits) for ``inputs``."""
        seen = []

        def keep(out):
            if not isinstance(out, torch.Tensor) or not out.is_floating_point():
                raise TypeError("layer must output one floating-point tensor (e.g. an nn.Embedding), got "
                                f"{type(out).__name__ if not isinstance(out, torch.Tensor) else out.dtype}")
            seen.append(out)
            return out

        logits = self._run(inputs, keep)
        return seen[0].detach(), logits

    def __call__(self, points, rows=None):
        """The logits with the layer's output replaced by ``points``: row i of ``points`` belongs to model input
        ``rows[i] % N`` (default: the inputs repeated, path rows α-major as in :func:`path_gradients`)."""
        if rows is None:
            rows = torch.arange(points.shape[0])
        repeated = self.inputs[rows.to(self.inputs.device) % self.inputs.shape[0]]

        def replace(out):
            if out.shape != points.shape:
                raise ValueError(f"layer output has shape {tuple(out.shape)} but the path points have "
                                 f"{tuple(points.shape)}; the baseline must have the layer output's shape")
            return points

        return self._run(repeated, replace)


def _layer_name(model, layer):
    if layer is None:
        return None
    return next((name for name, m in model.named_modules() if m is layer), type(layer).__name__) or "model"


# ---- results -----------------------------------------------------------------------------------------------------

@dataclass(repr=False)
class IGTrace(SaveLoad):
    """Everything along the path. Rows B = k·N (baseline sample j, example n: row j·N + n); m nodes in α order.

    ``alphas``/``weights``: the rule, (m,) for the fixed rules; the adaptive rule gives each row its own grid,
    (B, m), padded after a row's last node (α = 1) with zero-weight copies of it (:meth:`nodes` gives one
    row's). With record="scores" or "full": ``scores`` (B, m) F(γ(α_k)); ``contributions`` (B, m) =
    w_k ∇F(γ(α_k))·(x − x′), what node k adds to Σ attributions; ``gaps`` (B, m)
    the completeness gap after node k (the last column is ``delta``). With record="full" also ``gradients``
    (B, m, ...) ∇F(γ(α_k)) and ``running`` (B, m, ...) the attributions after node k.
    """

    alphas: torch.Tensor
    weights: torch.Tensor
    scores: torch.Tensor | None = None
    contributions: torch.Tensor | None = None
    gaps: torch.Tensor | None = None
    gradients: torch.Tensor | None = None
    running: torch.Tensor | None = None

    def nodes(self, row: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """(α (m_row,), w (m_row,)) of one row without padding: the first m_row columns of the row's per-node
        arrays (``scores``, ``gradients``, ...) belong to them. The same for every row under a fixed rule."""
        if self.alphas.dim() == 1:
            return self.alphas, self.weights
        a = self.alphas[row]
        m = len(a) - int((a == a[-1]).sum()) + 1
        return a[:m], self.weights[row, :m]

    def __repr__(self):
        kept = [f for f in ("scores", "contributions", "gaps", "gradients", "running") if getattr(self, f) is not None]
        grid = "" if self.alphas.dim() == 1 else f", one grid per row: {self.alphas.shape[0]}"
        return f"IGTrace(m={self.alphas.shape[-1]}{grid}, kept={kept})"

    def _repr_html_(self):
        alphas, weights = self.nodes(0)
        pick = torch.linspace(0, len(alphas) - 1, min(len(alphas), 12)).round().long().unique()
        rows = []
        for k in pick.tolist():
            cells = [f"w = {float(weights[k]):.4g}"]
            if self.scores is not None:
                cells += [f"F = {float(self.scores[0, k]):.4g}", f"gap after = {float(self.gaps[0, k]):+.4g}"]
            rows.append((f"α = {float(alphas[k]):.4f}", ", ".join(cells)))
        return html_summary(f"IG trace: {len(alphas)} nodes (input 0)", rows)


@dataclass(repr=False)
class IGResult(SaveLoad):
    """IG for N inputs. ``attributions`` has the shape of ``inputs`` (the path's end: the layer output for
    ``layer=``); ``delta`` (N,) = Σ attributions − (``score`` − ``baseline_score``), with ``score`` = F(x) and
    ``baseline_score`` = F(x′) (mean over the k baseline samples). ``baseline`` is (N, ...), or (k, N, ...) when
    k > 1. ``steps`` is the number of nodes used (adaptive rule: the most any row used; each row's are in
    ``refinement.evaluations[-1]``); ``refinement`` holds the adaptive rule's history."""

    attributions: torch.Tensor
    delta: torch.Tensor
    score: torch.Tensor
    baseline_score: torch.Tensor
    inputs: torch.Tensor
    baseline: torch.Tensor
    target: torch.Tensor
    method: str
    steps: int
    output: str
    layer: str | None
    baseline_name: str
    samples: int
    trace: IGTrace
    model_inputs: torch.Tensor | None = None
    refinement: adaptive.AdaptiveInfo | None = None

    @property
    def relative_delta(self) -> torch.Tensor:
        """|delta| / |F(x) − F(x′)| per input: the paper's "within 5 %" check."""
        return self.delta.abs() / (self.score - self.baseline_score).abs().clamp_min(torch.finfo(self.delta.dtype).tiny)

    def points(self, k: int) -> torch.Tensor:
        """γ(α_k) for every row (B, ...), recomputed from the endpoints (each row's own node k)."""
        start, end = self._ends()
        a = self.trace.alphas[..., k].to(start).reshape(-1, *[1] * (start.dim() - 1))
        return start + a * (end - start)

    def path_points(self) -> torch.Tensor:
        """All path points (B, m, ...)."""
        start, end = self._ends()
        a = self.trace.alphas.to(start).expand(start.shape[0], -1)
        return start.unsqueeze(1) + a.view(*a.shape, *[1] * (start.dim() - 1)) * (end - start).unsqueeze(1)

    def baseline_score_of(self, row: int) -> float:
        """F(x′) of trace row ``row`` (= j·N + n). With k > 1 baseline samples ``baseline_score`` is their mean;
        each trace row closes on its own sample: its last gap is Σ contributions − (F(x) − F(x′_j))."""
        if self.samples == 1:
            return float(self.baseline_score[row])
        tr = self.trace
        return float(self.score[row % len(self.score)]) - float(tr.contributions[row].sum() - tr.gaps[row, -1])

    def per_token(self) -> torch.Tensor:
        """Attributions summed over the last dim, e.g. (N, L, D) embedding attributions → (N, L) per token."""
        return self.attributions.sum(-1)

    def _ends(self):
        start = self.baseline.reshape(-1, *self.inputs.shape[1:])
        return start, self.inputs.repeat(self.samples, *[1] * (self.inputs.dim() - 1))

    def __repr__(self):
        return (f"IGResult(method={self.method!r}, steps={self.steps}, output={self.output!r}, "
                f"attributions={tuple(self.attributions.shape)}, delta={fmt(self.delta)})")

    def _repr_html_(self):
        change = self.score - self.baseline_score
        rows = [("rule", f"{self.method}, {self.steps} nodes"), ("explains", f"{self.output} of class {fmt(self.target)}"),
                ("baseline", f"{self.baseline_name}" + (f" × {self.samples} samples" if self.samples > 1 else "")),
                ("F(x) / F(x′)", f"{fmt(self.score)} / {fmt(self.baseline_score)}"),
                ("Σ attributions", fmt(self.attributions.flatten(1).sum(1))), ("F(x) − F(x′)", fmt(change)),
                ("delta (relative)", f"{fmt(self.delta)} ({fmt(self.relative_delta)})")]
        if self.layer is not None:
            rows.append(("path space", f"output of {self.layer}"))
        if self.trace.scores is not None:
            pick = torch.linspace(0, self.steps - 1, min(self.steps, 5)).round().long()
            alphas = self.trace.nodes(0)[0]
            rows.append(("F along the path, input 0", ", ".join(f"α={alphas[i]:.2f}: "
                                                                f"{self.trace.scores[0, i]:.4g}" for i in pick)))
        first = self.per_token()[0] if self.layer is not None and self.attributions.dim() == 3 else self.attributions[0]
        return html_summary("Integrated Gradients", rows, [("attributions, input 0 (red +, blue −)", heatmap_png(first))])
