"""IG under noise: SmoothGrad, SmoothGrad² and VarGrad over Integrated Gradients (captum's NoiseTunnel).

With n noisy copies x̃_s = x + ε_s, ε_s ~ N(0, σ²) elementwise, and IG_s = IG(x̃_s) (Eq. 1, same baseline):

    smoothgrad     (1/n) Σ_s IG_s                          (Smilkov et al. 2017, Eq. 2, IG in place of ∇F)
    smoothgrad_sq  (1/n) Σ_s IG_s²                         (Hooker et al. 2019, "SmoothGrad-Squared")
    vargrad        (1/n) Σ_s IG_s² − ((1/n) Σ_s IG_s)²     (Adebayo et al. 2018: the variance, as captum)

Every sample is one ordinary IG run, kept in ``runs`` with its own trace, delta and noisy input: the noise a
student adds can be looked at, run by run.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..common.outputs import class_table
from ..common.parts import check_args
from .path import integrated_gradients
from .result import IGResult

KINDS = ("smoothgrad", "smoothgrad_sq", "vargrad")


@dataclass(repr=False)
class NoiseTunnelResult:
    """``attributions``: the combined map (same structure as the inputs); ``runs``: one :class:`IGResult` per
    noise sample (``runs[s].inputs`` is x̃_s, ``runs[s].trace`` its path); ``kind``, ``samples``, ``sigma``,
    ``seed`` as asked."""

    attributions: object
    kind: str
    samples: int
    sigma: object
    seed: int
    runs: list

    @property
    def deltas(self) -> torch.Tensor:
        """(samples, N): each run's completeness gap."""
        return torch.stack([r.delta for r in self.runs])

    def __repr__(self):
        return (f"NoiseTunnelResult(kind={self.kind!r}, samples={self.samples}, sigma={self.sigma}, "
                f"seed={self.seed})")


def noise_tunnel(model, inputs, kind: str = "smoothgrad", samples: int = 5, sigma=1.0, seed: int = 0,
                 **ig_options) -> NoiseTunnelResult:
    """``samples`` IG runs on x + N(0, σ²) noise combined by ``kind`` ("smoothgrad", "smoothgrad_sq",
    "vargrad"). ``sigma``: the noise's standard deviation in input units (captum's ``stdevs``), one number or
    one per input part; ``seed``: the noise generator's seed (the same seed gives the same noise).
    ``ig_options`` go to :func:`attrkit.ig.integrated_gradients` unchanged (target, baseline, steps, ...)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a positive int (noisy copies per input), got {samples!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    single = not isinstance(inputs, (tuple, list))
    parts = (inputs,) if single else tuple(inputs)
    sigmas = tuple(sigma) if isinstance(sigma, (tuple, list)) else (sigma,) * len(parts)
    if len(sigmas) != len(parts) or not all(isinstance(s, (int, float)) and not isinstance(s, bool) and s >= 0
                                            for s in sigmas):
        raise ValueError(f"sigma must be a number ≥ 0 or one per input part ({len(parts)}), got {sigma!r}")
    for k, p in enumerate(parts):
        if not isinstance(p, torch.Tensor) or not p.is_floating_point():
            raise TypeError(f"inputs{'' if single else f'[{k}]'} must be a floating-point tensor: noise is "
                            "added to it")
    target = ig_options.pop("target", None)
    if target is None:  # every noisy copy explains the class predicted at the clean input
        n = parts[0].shape[0]
        with torch.no_grad():
            raw = model(*(p.detach().clone() for p in parts), *check_args(ig_options.get("forward_args"), n))
        target = class_table(raw, n, n, ig_options.get("reduce")).argmax(1)
    g = torch.Generator().manual_seed(seed)
    runs = []
    for _ in range(samples):
        noisy = tuple(p.detach() + s * torch.randn(p.shape, generator=g, dtype=p.dtype).to(p.device)
                      for p, s in zip(parts, sigmas))
        runs.append(integrated_gradients(model, noisy[0] if single else noisy, target=target, **ig_options))
    maps = [r.attributions if isinstance(r.attributions, tuple) else (r.attributions,) for r in runs]
    combined = tuple(_combine([m[k] for m in maps], kind) for k in range(len(parts)))
    return NoiseTunnelResult(attributions=combined[0] if single else combined, kind=kind, samples=samples,
                             sigma=sigma, seed=seed, runs=runs)


def _combine(maps: list, kind: str) -> torch.Tensor:
    a = torch.stack(maps).double()
    mean = a.mean(0)
    if kind == "smoothgrad":
        out = mean
    elif kind == "smoothgrad_sq":
        out = (a * a).mean(0)
    else:
        out = (a * a).mean(0) - mean * mean
    return out.to(maps[0].dtype)


__all__ = ["noise_tunnel", "NoiseTunnelResult", "KINDS", "IGResult"]
