"""Grading attributions against an answer known exactly (a planted cause, or a model whose output is a known sum).

Every grade takes attributions ``(N, ...)`` and a ground truth of the same shape (or one broadcastable to it),
flattens everything after the first dimension into "units" (pixels, atoms, features) and returns one number per
example, ``(N,)`` float64; NaN where the grade is undefined for that example (said in each docstring).

* :func:`rank_correlation`: does the attribution *order* units as the true contributions do (Spearman)?
* :func:`top_k_precision`: of the k units the attribution ranks highest, how many are truly relevant?
* :func:`attribution_auroc`: how well the attribution separates relevant from irrelevant units, over all
  thresholds (1 = every relevant unit above every other, ½ = chance, 0 = exactly reversed).
* :func:`share_inside`: how much of the positive attribution mass falls inside the relevant region.
* :func:`prediction_share`: the share of the explained output each unit carries. By completeness (IG-paper
  Prop. 1, Σ_i IG_i = F(x) − F(x′)) the shares sum to 1, as do the true contributions' shares of an additive
  target (e.g. TPSA = Σ_atoms TPSA_atom): the two become directly comparable unit by unit.

Pure torch/numpy: molecules, images and text are graded by the same functions. The grades measure agreement
with *this* ground truth, which is the model's when the model provably uses it (a planted cause it cannot solve
the task without, or a target that is an exact per-unit sum it fits well), and only the data's otherwise.
"""
from __future__ import annotations

import numpy as np
import torch

from .sanity import spearman


def _pair(attributions, truth, name: str = "truth"):
    a = torch.as_tensor(attributions).detach()
    t = torch.as_tensor(truth).detach()
    if a.dim() < 2:
        raise ValueError(f"attributions must be a batch (N, ...), got shape {tuple(a.shape)}; add a first "
                         "dimension with a[None] for a single example")
    try:
        t = t.expand_as(a) if t.shape != a.shape else t
    except RuntimeError:
        raise ValueError(f"{name} of shape {tuple(t.shape)} does not match attributions {tuple(a.shape)}") from None
    return a.flatten(1).double().cpu(), t.flatten(1).cpu()


def _mask(t: torch.Tensor) -> torch.Tensor:
    if t.dtype != torch.bool:
        raise TypeError(f"the ground-truth mask must be a bool tensor (True = relevant unit), got {t.dtype}")
    return t


def rank_correlation(attributions, contributions) -> torch.Tensor:
    """Spearman's ρ between each attribution map and the true per-unit contributions → (N,).

    ρ = Pearson correlation of the ranks (ties get their average rank). 1: same order, −1: reversed order,
    ~0: unrelated. Scale-free: it cannot tell whether the attribution's *amounts* are right, only their order
    (use :func:`prediction_share` for amounts). NaN where either map is constant.
    """
    a, t = _pair(attributions, contributions, "contributions")
    return spearman(a, t.double())


def top_k_precision(attributions, mask, k=None) -> torch.Tensor:
    """Of the k units with the largest attribution, the fraction that are relevant (``mask`` True) → (N,).

    ``k``: an int, or None for each example's number of relevant units (then precision = recall, and a perfect
    attribution scores 1). Ties at the k-th place are broken by position (first wins). NaN where k = 0.
    """
    a, m = _pair(attributions, mask, "mask")
    m = _mask(m)
    ks = m.sum(1) if k is None else torch.full((len(a),), int(k))
    if k is not None and not 0 < int(k) <= a.shape[1]:
        raise ValueError(f"k must be between 1 and the number of units {a.shape[1]}, got {k}")
    order = torch.argsort(-a, dim=1, stable=True)
    hits = m.gather(1, order).double().cumsum(1)
    out = torch.full((len(a),), float("nan"), dtype=torch.float64)
    ok = ks > 0
    out[ok] = hits[ok].gather(1, (ks[ok] - 1).view(-1, 1)).squeeze(1) / ks[ok]
    return out


def attribution_auroc(attributions, mask) -> torch.Tensor:
    """Area under the ROC curve of the attribution as a score for "this unit is relevant" → (N,).

    = P(a_relevant > a_irrelevant) + ½ P(tie), over all pairs of one relevant and one irrelevant unit (the
    Mann–Whitney statistic). 1: every relevant unit outranks every irrelevant one; ½: no better than chance (a
    random map); 0: the attribution points exactly away from the cause. Signed attribution is used, so evidence
    *against* the class counts as "not relevant". NaN where the mask is all True or all False.
    """
    a, m = _pair(attributions, mask, "mask")
    m = _mask(m).numpy()
    out = []
    for v, pos in zip(a.numpy(), m):
        n1, n0 = int(pos.sum()), int((~pos).sum())
        if n1 == 0 or n0 == 0:
            out.append(np.nan)
            continue
        _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
        ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]       # average ranks, 1..n
        out.append((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
    return torch.tensor(out, dtype=torch.float64)


def share_inside(attributions, mask) -> torch.Tensor:
    """Share of the positive attribution mass inside the relevant region: Σ_mask max(a, 0) / Σ max(a, 0) → (N,).

    1: all evidence *for* the class lies in the region; a map spread evenly scores the region's area fraction
    (``mask.float().mean()``), so compare with that. Negative attribution is ignored. NaN where the map has no
    positive attribution.
    """
    a, m = _pair(attributions, mask, "mask")
    pos = a.clamp_min(0)
    total = pos.sum(1)
    inside = (pos * _mask(m).double()).sum(1)
    return torch.where(total > 0, inside / total.clamp_min(1e-300), torch.full_like(total, float("nan")))


def prediction_share(attributions, total=None) -> torch.Tensor:
    """The share of the explained output each unit carries: a_i / total → (N, units).

    ``total``: (N,) or a number; None = Σ_i a_i, which for IG equals F(x) − F(x′) up to the completeness gap.
    Pass the true contributions to get their shares (e.g. TPSA_atom / TPSA); then
    ``(prediction_share(ig) − prediction_share(true)).abs().sum(1) / 2`` is the share of the output put on the
    wrong units (0: exact, 1: none on the right ones). NaN rows where the total is 0.
    """
    a = torch.as_tensor(attributions).detach().flatten(1).double().cpu()
    tot = a.sum(1) if total is None else torch.as_tensor(total, dtype=torch.float64).expand(len(a))
    return torch.where(tot.view(-1, 1) != 0, a / tot.view(-1, 1), torch.full_like(a, float("nan")))


def misplaced_share(attributions, contributions) -> torch.Tensor:
    """Half the L1 distance between the attribution's and the truth's :func:`prediction_share` → (N,).

    0: every unit carries exactly its true share of the output; 1: all of it sits on the wrong units.
    """
    return (prediction_share(attributions) - prediction_share(contributions)).abs().sum(1) / 2


def grade(attributions, mask, parts=()) -> dict:
    """One row of a grading table, each a mean over the examples (NaNs skipped): ``share`` (:func:`share_inside`
    ``mask``), ``auroc`` (:func:`attribution_auroc`), ``area`` (the share a uniform map would get) and, when
    ``parts`` (a list of bool masks whose union is ``mask``) is given, ``weaker_share``: per example the
    smaller share of any one part. A cause made of parts that must *all* be present (pattern A and pattern B)
    needs credit on each: a method that credits only one part can still score a high ``share`` but gets
    ``weaker_share`` ≈ 0."""
    a = torch.as_tensor(attributions).detach()
    m = torch.as_tensor(mask).expand_as(a)
    row = {"share": share_inside(a, m).nanmean().item(), "auroc": attribution_auroc(a, m).nanmean().item(),
           "area": m.flatten(1).double().mean(1).mean().item()}
    if len(parts):
        row["weaker_share"] = torch.stack([share_inside(a, p) for p in parts]).min(0).values.nanmean().item()
    return row
