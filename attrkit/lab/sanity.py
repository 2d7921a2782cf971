"""The model-parameter randomisation test (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018).

If an explanation method explains *the model*, destroying the model's learned weights must change the maps.
Cascading randomisation re-initialises the layers one by one from the top (the output layer) down, keeping the
earlier randomisations, and after each stage compares the new maps with the original ones. A method whose maps
stay similar while the weights turn to noise is explaining the input (e.g. its edges), not the model.

Similarity per image and stage (Adebayo et al. §3): Spearman rank correlation of the absolute maps and of the
signed maps (channels summed), and the structural similarity (SSIM, Wang et al. 2004) of the absolute maps
scaled to [0, 1].

The caller's model is never touched: every stage works on a deep copy (:func:`randomised_models`).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..common.checks import check_batch, check_model, guard
from ..common.progress import progress_bar
from ..common.saving import SaveLoad
from ..common.html import heatmap_png, html_summary
from .methods import model_scores


# ---- which layers, and how they are randomised --------------------------------------------------------------

def layers_top_down(model: nn.Module) -> list[str]:
    """Names of the modules that own parameters, from the output layer down to the input layer."""
    return [name for name, m in model.named_modules() if any(True for _ in m.parameters(recurse=False))][::-1]


def randomise_(module: nn.Module, seed: int) -> None:
    """Re-initialise ``module``'s own parameters in place: its ``reset_parameters()`` (PyTorch's default init,
    e.g. Kaiming-uniform for Linear/Conv) under ``seed``; modules without one get N(0, σ²) with σ = the
    weights' own standard deviation."""
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
        else:
            for p in module.parameters(recurse=False):
                p.normal_(0.0, float(p.std()) if p.numel() > 1 and float(p.std()) > 0 else 0.01)


def randomised_models(model: nn.Module, layers=None, seed: int = 0):
    """Yield ``(stage, model copy)``: ``("original", copy)`` then, for each layer from the top, a fresh deep copy
    with that layer and all layers above it re-initialised (cascading). The caller's model is untouched."""
    names = layers_top_down(model) if layers is None else list(layers)
    modules = dict(model.named_modules())
    unknown = [n for n in names if n not in modules]
    if unknown:
        raise ValueError(f"layers {unknown} are not modules of the model; choose from {layers_top_down(model)}")
    work = copy.deepcopy(model)
    parts = dict(work.named_modules())
    yield "original", copy.deepcopy(work)
    for k, name in enumerate(names):
        randomise_(parts[name], seed + k)
        yield name, copy.deepcopy(work)


# ---- similarity measures ----------------------------------------------------------------------------------------

def _ranks(v: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties get the average of their ranks (as scipy.stats.rankdata)."""
    _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse]


def spearman(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Spearman rank correlation of each pair of maps (N, ...) → (N,), over the positions where ``mask`` (bool,
    same shape) is True if given; NaN where a map is constant there."""
    a, b = a.detach().flatten(1).double().cpu().numpy(), b.detach().flatten(1).double().cpu().numpy()
    keep = np.ones_like(a, dtype=bool) if mask is None else mask.detach().flatten(1).cpu().numpy().astype(bool)
    out = []
    for x, y, k in zip(a, b, keep):
        x, y = x[k], y[k]
        rx, ry = _ranks(x) - (len(x) + 1) / 2, _ranks(y) - (len(y) + 1) / 2
        den = np.sqrt((rx ** 2).sum() * (ry ** 2).sum())
        out.append((rx * ry).sum() / den if den > 0 else np.nan)
    return torch.tensor(out, dtype=torch.float64)


def ssim(a: torch.Tensor, b: torch.Tensor, window: int = 7, sigma: float = 1.5) -> torch.Tensor:
    """Mean SSIM (Wang et al. 2004) of 2-D maps (N, H, W) with values in [0, 1] → (N,): Gaussian window,
    C1 = 0.01², C2 = 0.03² (data range 1), 'valid' positions only."""
    a, b = a.double().unsqueeze(1), b.double().unsqueeze(1)
    window = min(window, a.shape[-1], a.shape[-2])
    g = torch.exp(-((torch.arange(window) - (window - 1) / 2) ** 2) / (2 * sigma ** 2)).double()
    w = (g[:, None] * g[None, :] / g.sum() ** 2).view(1, 1, window, window)
    mu_a, mu_b = F.conv2d(a, w), F.conv2d(b, w)
    var_a = F.conv2d(a * a, w) - mu_a ** 2
    var_b = F.conv2d(b * b, w) - mu_b ** 2
    cov = F.conv2d(a * b, w) - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return s.flatten(1).mean(1)


def _unit_abs(m: torch.Tensor) -> torch.Tensor:
    """|map| summed over channels and scaled to [0, 1] per image (the maps SSIM compares)."""
    a = m.abs().sum(1) if m.dim() == 4 else m.abs()
    return a / a.flatten(1).amax(1).clamp_min(1e-30).view(-1, *[1] * (a.dim() - 1))


def similarity(original: torch.Tensor, other: torch.Tensor, support: torch.Tensor | None = None) -> dict:
    """Per-image similarity of two sets of maps (N, [C,] H, W): spearman_abs, spearman_signed, ssim, and with a
    ``support`` mask (N, H, W) also spearman_abs_support (rank correlation of |map| inside the mask only)."""
    sig = (lambda m: m.sum(1) if m.dim() == 4 else m)
    a, b = _unit_abs(original), _unit_abs(other)
    out = dict(spearman_abs=spearman(a, b), spearman_signed=spearman(sig(original), sig(other)), ssim=ssim(a, b))
    if support is not None:
        out["spearman_abs_support"] = spearman(a, b, support.reshape(a.shape))
    return out


# ---- the test ---------------------------------------------------------------------------------------------------

@dataclass(repr=False)
class SanityResult(SaveLoad):
    """Cascading randomisation. ``stages`` = ["original", top layer, …, bottom layer]; ``maps`` (S, N, ...) the
    maps at each stage; ``spearman_abs``/``spearman_signed``/``ssim`` (S, N) similarity to the original maps;
    ``target`` (N,) the class explained at every stage (the original model's prediction unless given);
    ``changed`` the parameter names re-initialised by each stage (cumulative); ``spearman_abs_support`` (S, N)
    the |map| rank correlation inside ``support`` only (None without one).

    Why a support: a map multiplied by the input (IG with a black baseline, gradient × input) is exactly 0
    wherever the input is 0, whatever the weights, so on MNIST (about 80 % black background) its rank
    correlation over all pixels stays high even for a random model. Inside the digit it shows what the model
    contributes."""
    stages: list
    maps: torch.Tensor
    spearman_abs: torch.Tensor
    spearman_signed: torch.Tensor
    ssim: torch.Tensor
    target: torch.Tensor
    changed: list
    method: str
    spearman_abs_support: torch.Tensor | None = None

    def table(self) -> list[dict]:
        """One row per stage with the mean (NaN-ignoring) of each similarity over the images."""
        nm = lambda t: float(np.nanmean(t.numpy())) if not torch.isnan(t).all() else float("nan")
        rows = [dict(stage=s, spearman_abs=nm(self.spearman_abs[k]), spearman_signed=nm(self.spearman_signed[k]),
                     ssim=nm(self.ssim[k])) for k, s in enumerate(self.stages)]
        if self.spearman_abs_support is not None:
            for k, r in enumerate(rows):
                r["spearman_abs_support"] = nm(self.spearman_abs_support[k])
        return rows

    def __repr__(self):
        lines = [f"SanityResult({self.method}, {self.maps.shape[1]} images): similarity to the original maps"]
        for r in self.table():
            extra = f"  |map| in support {r['spearman_abs_support']:+.3f}" if "spearman_abs_support" in r else ""
            lines.append(f"  {r['stage']:<16} spearman |map| {r['spearman_abs']:+.3f}  signed "
                         f"{r['spearman_signed']:+.3f}  ssim {r['ssim']:.3f}{extra}")
        return "\n".join(lines)

    def _repr_html_(self):
        rows = [(r["stage"], f"Spearman |map| {r['spearman_abs']:+.3f}, signed {r['spearman_signed']:+.3f}, "
                             f"SSIM {r['ssim']:.3f}") for r in self.table()]
        images = [(s, heatmap_png(self.maps[k, 0])) for k, s in enumerate(self.stages)]
        return html_summary(f"Cascading randomisation of {self.method} (image 0 shown)", rows, images)


def cascading_randomisation(model, inputs, method, target=None, layers=None, seed: int = 0,
                            method_name: str | None = None, support=None, progress=None) -> SanityResult:
    """Adebayo et al.'s cascading model-parameter randomisation of ``method`` on ``inputs`` (N, ...).

    ``method(model, inputs, target)`` returns the maps (a tensor, or a result with ``.attributions``), e.g.
    ``lambda m, x, t: integrated_gradients(m, x, target=t).attributions``. ``target``: the class explained at
    every stage (None: the *original* model's predictions, kept fixed while the weights change). ``layers``: the
    module names to randomise, top first (default :func:`layers_top_down`). ``support``: None, a bool mask
    (N, H, W), or "input" (where any channel of the input is non-zero) for ``spearman_abs_support``.
    """
    check_model(model)
    inputs = check_batch(inputs)
    names = layers_top_down(model) if layers is None else list(layers)
    with guard(model, inputs):
        if target is None:
            with torch.no_grad():
                target = model_scores(model, inputs.detach().clone()).argmax(1)  # copies: a model may write to its input
        target = torch.as_tensor(target).long().expand(len(inputs)).clone() if torch.as_tensor(target).dim() == 0 \
            else torch.as_tensor(target).long()
        before = {k: v.detach().clone() for k, v in model.state_dict().items()}
        stages, maps, changed = [], [], []
        with progress_bar(len(names) + 1, progress, "randomisation") as bar:
            for stage, m in randomised_models(model, names, seed):
                r = method(m.eval(), inputs.detach().clone(), target)
                maps.append((r.attributions if hasattr(r, "attributions") else r).detach().cpu())
                changed.append([k for k, v in m.state_dict().items() if not torch.equal(v, before[k])])
                stages.append(stage)
                bar.update(1)
    maps = torch.stack(maps)
    if isinstance(support, str):
        if support != "input":
            raise ValueError(f"support must be None, a bool mask (N, H, W) or 'input', got {support!r}")
        support = (inputs.detach() != 0).any(1).cpu() if inputs.dim() == 4 else (inputs.detach() != 0).cpu()
    sims = [similarity(maps[0], mp, support) for mp in maps]
    return SanityResult(stages=stages, maps=maps, target=target.cpu(), changed=changed,
                        spearman_abs=torch.stack([s["spearman_abs"] for s in sims]),
                        spearman_signed=torch.stack([s["spearman_signed"] for s in sims]),
                        ssim=torch.stack([s["ssim"] for s in sims]),
                        spearman_abs_support=None if support is None else
                        torch.stack([s["spearman_abs_support"] for s in sims]),
                        method=method_name or getattr(method, "__name__", "method"))
