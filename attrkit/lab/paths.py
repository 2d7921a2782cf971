"""Path methods in general: any path γ from the baseline x′ to the input x gives attributions (IG paper §4).

    A_i(γ) = ∫_0^1 ∂F/∂x_i(γ(t)) · γ_i'(t) dt                                        (IG paper, Eq. 2)

By the gradient theorem for line integrals the A_i add up to F(x) − F(x′) along *every* path (completeness);
IG is the straight path γ(α) = x′ + α(x − x′). Here a path is a polyline of points γ_0 = x′, …, γ_m = x,
shape (m + 1, N, ...), and :func:`path_attributions` integrates along it with the midpoint rule per segment.

Paths: :func:`straight_path` (IG), :func:`axis_path` (one feature after the other; averaged over all orders it
is :func:`shapley_shubik`), :func:`low_gradient_first_path` (in the spirit of Guided IG: Kapishnikov et al., CVPR 2021) and
:func:`blur_path` (Blur IG: Xu, Venugopalan & Sundararajan, CVPR 2020).
"""
from __future__ import annotations

import itertools

import torch

from ..ig.baselines import gaussian_blur
from ..ig.gradients import gradients_at


def path_attributions(model, points: torch.Tensor, target, output: str = "logit") -> torch.Tensor:
    """A_i ≈ Σ_k ∂F/∂x_i(midpoint of segment k) · (γ_{k+1} − γ_k)_i for points (m + 1, N, ...) → (N, ...).

    Eq. 2 of the IG paper on a polyline; the midpoint rule is exact per segment for a quadratic F. ``target``:
    one class index for all rows, or an (N,) tensor.
    """
    points = points.detach()
    steps, rows = points.shape[0] - 1, points.shape[1]
    if steps < 1:
        raise ValueError("a path needs at least two points (the baseline and the input)")
    target = torch.as_tensor(target).long().reshape(-1).expand(rows)
    middles = (points[1:] + points[:-1]) / 2
    _, grads = gradients_at(model, middles.reshape(-1, *points.shape[2:]), target.repeat(steps), output)
    return (grads.view(steps, *points.shape[1:]) * (points[1:] - points[:-1])).sum(0)


def straight_path(baseline: torch.Tensor, x: torch.Tensor, steps: int) -> torch.Tensor:
    """IG's path: γ_k = x′ + (k/m)(x − x′), k = 0 … m."""
    alphas = torch.linspace(0, 1, steps + 1, dtype=x.dtype).view(-1, *[1] * x.dim())
    return baseline + alphas * (x - baseline)


def axis_path(baseline: torch.Tensor, x: torch.Tensor, steps: int, order=None) -> torch.Tensor:
    """Move one feature at a time (of the flattened features, in ``order``), ``steps`` segments each."""
    flat_b, flat_x = baseline.reshape(baseline.shape[0], -1), x.reshape(x.shape[0], -1)
    order = range(flat_x.shape[1]) if order is None else order
    corner, legs = flat_b.clone(), [flat_b[None]]
    for i in order:
        end = corner.clone()
        end[:, i] = flat_x[:, i]
        legs.append(straight_path(corner, end, steps)[1:])
        corner = end
    return torch.cat(legs).view(-1, *x.shape)


def shapley_shubik(model, baseline: torch.Tensor, x: torch.Tensor, steps: int, target,
                   output: str = "logit") -> torch.Tensor:
    """The average of the axis paths over all n! orders of the n features (the Shapley–Shubik cost share):
    a *mixture* of path methods. Symmetric features get equal shares, yet it is not IG. For a few features only."""
    n = x.reshape(x.shape[0], -1).shape[1]
    if n > 6:
        raise ValueError(f"{n} features have {n}! orders; this is for toys of at most 6 features")
    orders = list(itertools.permutations(range(n)))
    return sum(path_attributions(model, axis_path(baseline, x, steps, o), target, output) for o in orders) / len(orders)


def low_gradient_first_path(model, baseline: torch.Tensor, x: torch.Tensor, steps: int, target,
                            output: str = "logit") -> torch.Tensor:
    """A path that, at every step, moves the features with the smallest |∂F/∂x_i| first (the idea of Guided
    IG, Kapishnikov et al., CVPR 2021: travel where the model is flat, so that the large gradients are met
    last and shared by fewer features). Each step brings the L1 distance to x down by 1/m of the total; the
    features are taken in increasing |gradient|, and features with equal |gradient| move together by the
    same fraction of what they have left, so exactly symmetric features stay equal.

    A simplification for teaching: the authors' algorithm (PAIR saliency, ``guided_ig.py``) selects a fixed
    fraction of features per step and bounds how far the path may stray from the straight line (``max_dist``).
    """
    target = torch.as_tensor(target).long().reshape(-1).expand(x.shape[0])
    current, points = baseline.clone(), [baseline.clone()]
    total = (x - baseline).abs().reshape(x.shape[0], -1).sum(1)
    for k in range(1, steps + 1):
        _, g = gradients_at(model, current, target, output)
        for n in range(x.shape[0]):
            left = (x[n] - current[n]).reshape(-1)
            need = left.abs().sum() - total[n] * (1 - k / steps)  # L1 distance to cover in this step
            size = g[n].reshape(-1).abs().round(decimals=9)       # equal up to round-off → one group
            row = current[n].reshape(-1).clone()
            for level in torch.unique(size[left != 0]):
                if need <= 0:
                    break
                group = (size == level) & (left != 0)
                share = min(1.0, float(need / left[group].abs().sum()))
                row[group] += share * left[group]
                need = need - share * left[group].abs().sum()
            current = current.clone()
            current[n] = row.view_as(current[n])
        points.append(current.clone())
    points[-1] = x.clone()  # the last step lands on x exactly (round-off)
    return torch.stack(points)


def blur_path(x: torch.Tensor, steps: int, max_sigma: float = 4.0, kernel_size: int = 21) -> torch.Tensor:
    """Blur IG's path (Xu, Venugopalan & Sundararajan, CVPR 2020): from x blurred with σ = ``max_sigma`` to x,
    through σ_k = max_sigma·(1 − k/m). The baseline is the blurred image, so completeness reads
    Σ A_i = F(x) − F(blur(x)). Images (N, C, H, W)."""
    sigmas = [max_sigma * (1 - k / steps) for k in range(steps)]
    return torch.stack([gaussian_blur(x, kernel_size, s) for s in sigmas] + [x.clone()])
