"""Baselines x′: the "absence of signal" every IG path starts from.

IG attributes F(x) − F(x′), so the baseline is half of the question being asked (IG paper §3, and the Distill
article "Visualizing the Impact of Feature Attribution Baselines", Sturmfels, Lundberg & Lee 2020, whose menu
this module follows). A feature equal to its baseline value gets zero attribution whatever it does
("baseline blindness"): a black baseline can never credit black pixels.

Contract: a baseline object is called on the inputs and returns ``k`` baselines per input, a tensor of shape
``(k, N, ...)``. Deterministic baselines have ``k = 1``. With ``k > 1`` :func:`attrkit.ig.integrated_gradients`
runs IG once per baseline and averages the attributions, i.e. it estimates

    E_{x′ ~ D}[ IG(x, x′) ]

which is *expected gradients* (Erion et al. 2021) when D is the data (:class:`FromData`), and the IG authors'
"average over several random baselines" when D is noise (:class:`UniformNoise`). Completeness then holds for
F(x) − mean_k F(x′_k).

``bounds`` is the valid input range (default (0, 1): images in [0, 1] with normalisation inside the model).
If your model takes normalised inputs, pass the normalised bounds, or black is not black.
"""
from __future__ import annotations

import math

import torch

from ..common.checks import check_float_tensor


class Baseline:
    """Base class: ``baseline(inputs, generator=None) -> (k, N, ...)``."""

    name = "baseline"
    samples = 1

    def __call__(self, inputs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    def _args(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._args()})"


def _bound(value, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(value, dtype=like.dtype, device=like.device)


def _check_bounds(bounds):
    lo, hi = bounds
    if not torch.all(torch.as_tensor(lo) < torch.as_tensor(hi)):
        raise ValueError(f"bounds must be (low, high) with low < high, got {bounds!r}")
    return bounds


def _rng(seed, generator):
    # an explicit seed wins, so a baseline object gives the same draws on every call
    return torch.Generator().manual_seed(seed) if seed is not None else generator


class Constant(Baseline):
    """Every feature set to ``value``: a number, or one value per channel (dim 1), e.g. an RGB colour."""

    def __init__(self, value, name: str | None = None):
        self.value = value
        self.name = name or "constant"

    def __call__(self, inputs, generator=None):
        v = _bound(self.value, inputs)
        if v.dim() == 1 and inputs.dim() >= 2:  # per channel: (C,) → (C, 1, 1, ...)
            if v.shape[0] != inputs.shape[1]:
                raise ValueError(f"constant colour has {v.shape[0]} values but inputs have {inputs.shape[1]} "
                                 "channels (dim 1)")
            v = v.view(-1, *([1] * (inputs.dim() - 2)))
        return torch.broadcast_to(v, inputs.shape).clone().unsqueeze(0)

    def _args(self):
        return f"{self.value!r}"


def black(bounds=(0.0, 1.0)) -> Constant:
    """The lowest valid value everywhere (the IG paper's image baseline)."""
    return Constant(_check_bounds(bounds)[0], name="black")


def white(bounds=(0.0, 1.0)) -> Constant:
    """The highest valid value everywhere."""
    return Constant(_check_bounds(bounds)[1], name="white")


def gaussian_blur(images: torch.Tensor, kernel_size: int, sigma: float) -> torch.Tensor:
    """Blur the last two dims with a separable Gaussian (reflect padding), like torchvision's
    ``gaussian_blur``, in plain torch so that a blur costs no torchvision import."""
    half = (kernel_size - 1) / 2
    x = torch.linspace(-half, half, kernel_size, dtype=images.dtype, device=images.device)
    g = torch.exp(-0.5 * (x / sigma) ** 2)
    g = g / g.sum()
    shape = images.shape
    flat = images.reshape(-1, 1, *shape[-2:])
    p = kernel_size // 2
    flat = torch.nn.functional.pad(flat, (p, p, p, p), mode="reflect")
    flat = torch.nn.functional.conv2d(flat, g.view(1, 1, 1, -1))
    flat = torch.nn.functional.conv2d(flat, g.view(1, 1, -1, 1))
    return flat.reshape(shape)


class Blur(Baseline):
    """The input blurred with a Gaussian of width ``sigma`` pixels (over the last two dims): keeps colour and
    layout, removes edges and texture, so IG credits what the blur destroys."""

    name = "blur"

    def __init__(self, sigma: float):
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0, got {sigma!r}")
        self.sigma = float(sigma)

    def __call__(self, inputs, generator=None):
        if inputs.dim() < 3:
            raise ValueError(f"Blur needs image inputs (N, ..., H, W), got shape {tuple(inputs.shape)}")
        h, w = inputs.shape[-2:]
        # 3σ each side, but reflect padding must stay inside the image
        k = min(2 * math.ceil(3 * self.sigma) + 1, 2 * ((min(h, w) - 1) // 2) + 1)
        return gaussian_blur(inputs, k, self.sigma).unsqueeze(0)

    def _args(self):
        return f"sigma={self.sigma}"


class MaxDistance(Baseline):
    """For each feature, the valid bound farthest from x: the farthest valid input in L1 distance. Not a
    neutral input, which is the point of showing it (Distill)."""

    name = "max_distance"

    def __init__(self, bounds=(0.0, 1.0)):
        self.bounds = _check_bounds(bounds)

    def __call__(self, inputs, generator=None):
        lo, hi = (_bound(b, inputs) for b in self.bounds)
        return torch.where(inputs < (lo + hi) / 2, hi, lo).expand(inputs.shape).unsqueeze(0).clone()

    def _args(self):
        return f"bounds={self.bounds}"


class UniformNoise(Baseline):
    """``samples`` images of uniform noise in ``bounds`` (the IG reference code averages 10 of them)."""

    name = "uniform"

    def __init__(self, samples: int = 1, bounds=(0.0, 1.0), seed: int | None = None):
        self.samples, self.bounds, self.seed = _check_samples(samples), _check_bounds(bounds), seed

    def __call__(self, inputs, generator=None):
        lo, hi = (_bound(b, inputs) for b in self.bounds)
        u = torch.rand((self.samples, *inputs.shape), generator=_rng(self.seed, generator), dtype=inputs.dtype)
        return lo + u.to(inputs.device) * (hi - lo)

    def _args(self):
        return f"samples={self.samples}, bounds={self.bounds}, seed={self.seed}"


class GaussianNoise(Baseline):
    """``samples`` noisy copies x + σ·ε, clipped to ``bounds``: a baseline close to x, so IG explains what
    a small perturbation changes (with k samples this is close to SmoothGrad on gradient × input)."""

    name = "gaussian"

    def __init__(self, sigma: float, samples: int = 1, bounds=(0.0, 1.0), seed: int | None = None):
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0, got {sigma!r}")
        self.sigma, self.samples, self.bounds, self.seed = float(sigma), _check_samples(samples), \
            _check_bounds(bounds), seed

    def __call__(self, inputs, generator=None):
        lo, hi = (_bound(b, inputs) for b in self.bounds)
        eps = torch.randn((self.samples, *inputs.shape), generator=_rng(self.seed, generator), dtype=inputs.dtype)
        return torch.clamp(inputs.unsqueeze(0) + self.sigma * eps.to(inputs.device), lo, hi)

    def _args(self):
        return f"sigma={self.sigma}, samples={self.samples}, bounds={self.bounds}, seed={self.seed}"


class FromData(Baseline):
    """``samples`` baselines per input drawn (with replacement) from ``data`` (M, ...): expected gradients."""

    name = "data"

    def __init__(self, data: torch.Tensor, samples: int = 10, seed: int | None = None):
        check_float_tensor(data, "data")
        if data.dim() < 1 or data.shape[0] == 0:
            raise ValueError("data must be a non-empty batch (M, ...) of example inputs")
        self.data, self.samples, self.seed = data, _check_samples(samples), seed

    def __call__(self, inputs, generator=None):
        if self.data.shape[1:] != inputs.shape[1:]:
            raise ValueError(f"data rows have shape {tuple(self.data.shape[1:])} but inputs rows have "
                             f"{tuple(inputs.shape[1:])}; pass data drawn from the same input space")
        idx = torch.randint(self.data.shape[0], (self.samples, inputs.shape[0]), generator=_rng(self.seed, generator))
        return self.data.to(device=inputs.device, dtype=inputs.dtype)[idx.to(self.data.device)]

    def _args(self):
        return f"data={tuple(self.data.shape)}, samples={self.samples}, seed={self.seed}"


class Once(Baseline):
    """Another baseline, drawn on the first call and then repeated: for comparing runs on the same baselines."""

    def __init__(self, baseline: Baseline):
        self.baseline, self.name, self.samples, self.drawn = baseline, baseline.name, baseline.samples, None

    def __call__(self, inputs, generator=None):
        if self.drawn is None or self.drawn.shape[1:] != inputs.shape:
            self.drawn = self.baseline(inputs, generator)
        return self.drawn

    def _args(self):
        return repr(self.baseline)


def _check_samples(samples) -> int:
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a positive int (baselines per input), got {samples!r}")
    return samples


def resolve(baseline, inputs: torch.Tensor) -> tuple[torch.Tensor, str]:
    """Any accepted ``baseline`` argument → ``(k, N, ...)`` tensor on the inputs' device and dtype, and a name.

    None → zeros; a number → that constant; a tensor broadcastable to ``inputs``; or a :class:`Baseline`.
    """
    if baseline is None:
        return torch.zeros_like(inputs).unsqueeze(0), "zeros"
    if isinstance(baseline, bool):
        raise TypeError("baseline must be None, a number, a tensor or a Baseline object, got a bool")
    if isinstance(baseline, (int, float)):
        if not math.isfinite(baseline):
            raise ValueError(f"baseline must be finite, got {baseline}")
        return torch.full_like(inputs, float(baseline)).unsqueeze(0), f"constant({baseline})"
    if isinstance(baseline, Baseline):
        b = baseline(inputs)
        if b.shape[1:] != inputs.shape or b.dim() != inputs.dim() + 1:
            raise ValueError(f"{baseline!r} returned shape {tuple(b.shape)}, expected (k, *inputs.shape) = "
                             f"(k, {', '.join(map(str, inputs.shape))})")
        check_float_tensor(b, "baseline")
        return b.to(inputs.dtype), baseline.name
    if isinstance(baseline, torch.Tensor):
        check_float_tensor(baseline, "baseline")
        try:
            b = torch.broadcast_to(baseline.to(device=inputs.device, dtype=inputs.dtype), inputs.shape)
        except RuntimeError:
            raise ValueError(f"baseline of shape {tuple(baseline.shape)} does not broadcast to inputs of shape "
                             f"{tuple(inputs.shape)}; pass one baseline per input (same shape) or one example "
                             f"(shape {tuple(inputs.shape[1:])})") from None
        return b.unsqueeze(0), "tensor"
    raise TypeError(f"baseline must be None, a number, a tensor or a Baseline object from attrkit.baselines, "
                    f"got {type(baseline).__name__}")
