"""F and ∇F on the path: the path points γ(α) = x′ + α (x − x′) and the gradients the Riemann sum needs.

Shared by the fixed rules (:mod:`attrkit.ig.path`) and the adaptive rule (:mod:`attrkit.ig.adaptive`).
"""
from __future__ import annotations

import torch

from ..common.checks import no_gradient_error

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

    ``forward``: the model, or a :class:`attrkit.ig.forward.Forward` called as ``forward(points, rows)``: row i of ``points`` belongs to path row ``rows[i]`` (input ``rows[i] mod N``).
    The path points of ``batch_size // B`` nodes go through the model as one batch, α-major like captum; when
    one node's B rows exceed ``batch_size``, each node is evaluated in slices of ``batch_size`` rows, so no
    forward pass ever carries more than ``batch_size`` points.
    """
    if not getattr(forward, "takes_rows", False):  # a plain model: the rows are not its business
        forward = (lambda f: lambda points, rows: f(points))(forward)
    rows, m = start.shape[0], alphas.shape[0]
    every = torch.arange(rows, device=start.device)
    if batch_size is not None and batch_size < rows:
        for k in range(m):
            points = path_points(start, end, alphas[k:k + 1])[0]
            parts = [gradients_at(lambda p, r=every[r0:r0 + batch_size]: forward(p, r), points[r0:r0 + batch_size],
                                  target[r0:r0 + batch_size], output) for r0 in range(0, rows, batch_size)]
            scores, grads = (torch.cat(v) for v in zip(*parts))
            yield k, k + 1, scores.view(1, rows), grads.view(1, *start.shape)
        return
    chunk = m if batch_size is None else batch_size // rows
    for k0 in range(0, m, chunk):
        k1 = min(k0 + chunk, m)
        points = path_points(start, end, alphas[k0:k1]).reshape(-1, *start.shape[1:])
        who = every.repeat(k1 - k0)
        scores, grads = gradients_at(lambda p: forward(p, who), points, target.repeat(k1 - k0), output)
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


