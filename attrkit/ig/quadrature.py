"""Quadrature rules for the IG path integral: where to evaluate the gradient (α) and how much each counts (w).

IG (Sundararajan et al. 2017, Eq. 1) is an integral over α ∈ [0, 1]; Eq. 3 replaces it by a sum:

    IG_i(x) ≈ (x_i − x'_i) · Σ_k w_k · ∂F(x' + α_k (x − x')) / ∂x_i

Every rule below is a list of nodes α_k and weights w_k with Σ w_k = 1, so a linear F is attributed exactly.

    rule                 α_k (k = 0 … n−1)                 w_k                           Σw   error on smooth F
    riemann_left         k / n                             1/n                           1    O(1/n)
    riemann_right        (k + 1) / n   (the paper's Eq. 3) 1/n                           1    O(1/n)
    riemann_middle       (2k + 1) / (2n)                   1/n                           1    O(1/n²)
    riemann_trapezoid    k / (n − 1)   (needs n ≥ 2)       1/(n−1), ends 1/(2(n−1))      1    O(1/n²)
    gausslegendre        (1 + ξ_k) / 2, ξ = Legendre roots ω_k / 2 (Gauss weights)       1    O(ρ^−2n) (captum's default)

The α of the Riemann rules come from ``torch.linspace`` in float32, exactly as captum builds them, so both
libraries evaluate the model at the same points (this matters on ReLU nets: a node at α = 0.5 computed as
0.49999999999999994 falls on the other side of a kink). Gauss–Legendre uses numpy's ``leggauss`` like captum.

captum's ``riemann_trapezoid`` is not a normalised trapezoid: it puts 1/n (ends 1/(2n)) on the nodes k/(n−1),
so its weights sum to (n−1)/n and its attributions are ours times (n−1)/n (0.98 at n = 50).
:func:`captum_trapezoid` reproduces it for comparison.
"""
from __future__ import annotations

import numpy as np
import torch

METHODS = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre")
MIN_STEPS = {"riemann_left": 1, "riemann_right": 1, "riemann_middle": 1, "riemann_trapezoid": 2,
             "gausslegendre": 1}


def _linspace(start: float, end: float, n: int) -> torch.Tensor:
    # float32 like captum (it calls torch.linspace(...).tolist()), then widened: same numbers, float64 storage
    return torch.linspace(start, end, n).double()


def quadrature(method: str, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes and weights ``(alphas, weights)`` of a rule with ``steps`` nodes, float64 tensors of shape (steps,)."""
    if method not in METHODS:
        hint = " (the adaptive rule chooses its nodes from the model: use integrated_gradients(method='adaptive'))" \
            if method == "adaptive" else ""
        raise ValueError(f"method must be one of {METHODS}, got {method!r}{hint}")
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"steps must be an int, got {type(steps).__name__}")
    if steps < MIN_STEPS[method]:
        raise ValueError(f"steps must be ≥ {MIN_STEPS[method]} for {method}, got {steps}"
                         + (" (a trapezoid needs both ends α = 0 and α = 1)" if method == "riemann_trapezoid" else ""))
    n = steps
    uniform = torch.full((n,), 1.0 / n, dtype=torch.float64)
    if method == "riemann_left":
        return _linspace(0, 1 - 1 / n, n), uniform
    if method == "riemann_right":
        return _linspace(1 / n, 1, n), uniform
    if method == "riemann_middle":
        return _linspace(1 / (2 * n), 1 - 1 / (2 * n), n), uniform
    if method == "riemann_trapezoid":
        alphas = _linspace(0, 1, n)
        return alphas, trapezoid_weights(alphas)
    xi, omega = np.polynomial.legendre.leggauss(n)  # on [−1, 1]; map to [0, 1]
    return torch.from_numpy(0.5 * (1 + xi)), torch.from_numpy(0.5 * omega)


def trapezoid_weights(alphas: torch.Tensor) -> torch.Tensor:
    """Composite trapezoid weights on any sorted grid from 0 to 1: node k gets half of each interval it touches.

    Σ w = α_last − α_first = 1. Used for the uniform trapezoid and for the adaptive rule's non-uniform grids
    (one per row of a (B, m) ``alphas``; a repeated node spans no interval and gets weight 0).
    """
    h = alphas[..., 1:] - alphas[..., :-1]
    w = torch.zeros_like(alphas)
    w[..., :-1] += h / 2
    w[..., 1:] += h / 2
    return w


def captum_trapezoid(steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """captum's ``riemann_trapezoid``: our nodes with weights 1/n (ends 1/(2n)), which sum to (n−1)/n."""
    alphas, _ = quadrature("riemann_trapezoid", steps)
    weights = torch.full((steps,), 1.0 / steps, dtype=torch.float64)
    weights[0] /= 2
    weights[-1] /= 2
    return alphas, weights
