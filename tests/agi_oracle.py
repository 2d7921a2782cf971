"""An independent float64 oracle for AGI on a linear-softmax model f = softmax(W x + b).

Written from the research notes (§2.2 Algorithm 1, §2.3 the reference ``pgd_step``/``fgsm_step``), not from
attrkit: numpy only, gradients in closed form (∇_x p_c = p_c (W_c − pᵀW), no autograd), one trajectory at a time.
"""
from __future__ import annotations

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def scores_and_gradients(W: np.ndarray, b: np.ndarray, x: np.ndarray, output: str):
    """f (C,) and its Jacobian G (C, D) at x, for f = logits, softmax, or softmax(softmax)."""
    z = W @ x + b
    if output == "logit":
        return z, W.copy()
    p = softmax(z)
    G = p[:, None] * (W - p @ W)                 # ∇p_c = p_c (W_c − Σ_k p_k W_k)
    if output == "probability":
        return p, G
    q = softmax(p)                               # double softmax: ∇q_c = q_c (∇p_c − Σ_k q_k ∇p_k)
    return q, q[:, None] * (G - q @ G)


def individual_agi(W, b, x0, i, j, epsilon, max_steps, mode, output="probability", lo=0.0, hi=1.0) -> dict:
    """Algorithm 1 (mode "paper") or the authors' pgd_step (mode "reference") for one (x0, i, j)."""
    x = x0.copy()
    A = np.zeros_like(x0)
    points, contributions, f_i, f_j, pred = [], [], [], [], []
    for t in range(max_steps + 1):
        f, G = scores_and_gradients(W, b, x, output)
        points.append(x.copy())
        f_i.append(f[i])
        f_j.append(f[j])
        pred.append(int(np.argmax(W @ x + b)))
        if pred[-1] == j or t == max_steps:      # stop test before stepping; x_T reached after max_steps
            break
        if mode == "paper":
            base, d = x, np.sign(G[j] / np.linalg.norm(G[i]))
        else:                                    # fgsm_step(image=x0, ...): restart from the original input
            base, d = x0, np.sign(G[j])
        x_next = clip(base + epsilon * d, lo, hi)
        c = -G[i] * (x_next - base)
        contributions.append(c)
        A = A + c
        x = x_next
    T = len(points) - 1
    return dict(agi=A, points=np.array(points), contributions=np.array(contributions).reshape(T, *x0.shape),
                f_i=np.array(f_i), f_j=np.array(f_j), predicted=np.array(pred), steps_taken=T,
                reached=pred[-1] == j)


def clip(x, lo, hi):
    return x if lo is None else np.clip(x, lo, hi)
