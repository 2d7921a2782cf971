"""Deletion and insertion (Petsiuk, Das, Saenko, "RISE", BMVC 2018), done carefully and as the AGI repository does.

Deletion: replace the pixels of an image one group at a time, most salient first, by a *substrate* (e.g. black),
and watch the class score fall; a good map makes it fall fast, so a **lower** area under the curve is better.
Insertion: start from the substrate and put the most salient pixels back first; **higher** is better.

Two protocols (research notes §3.2):

- ``protocol="ours"``: the map is reduced to one value per pixel location (``reduce="sum"`` over channels, or
  ``"abs_sum"``), ranked with a *stable* sort (ties in raster order), so every step changes exactly
  ``pixels_per_step`` locations in all channels (the last step may change fewer); area = trapezoid rule over
  the fraction of pixels changed. Default substrates follow RISE: black for deletion, blur for insertion.
- ``protocol="agi-repo"``: the AGI authors' ``evaluator.py`` + RISE ``evaluation.py`` ``single_run`` with its
  quirks kept: black (zeros) for both deletion *and* insertion; the raw signed (C, H, W) map ranked per channel
  (NumPy ``argsort``, flipped: not stable), and each step replaces, in every channel, the *union* of the C
  per-channel next-``step`` positions (so up to C × step locations per step: ``pixels_changed`` shows it); the
  score of an image is the *mean* of its n + 1 points, not an area. Use it to compare with the paper's numbers.

The repository hard-codes 224 × 224 images and ``step=224`` (n = 224 steps). We generalise this as
``pixels_per_step = W`` (one image row's worth per step, n = H steps): 224 at 224², 28 for MNIST.

Blur substrate: RISE uses a Gaussian of kernel 11 and σ = 5 (pixels, at 224²). Scaling σ with the image size
(σ ≈ 0.6 at 28²) leaves MNIST digits fully legible (the shipped model keeps p ≈ 0.95), so it would not remove any
evidence; we keep RISE's kernel 11 and σ = 5 in pixels at every size (at 28² the model's mean probability of the
true class drops to ≈ 0.30; black gives ≈ 0.1). Pass ``blur=(kernel, sigma)`` to choose.

Read on: :func:`make_substrate`, :func:`saliency_2d`, :func:`change_steps` (which step changes which pixel: the whole
protocol in one function), :func:`causal_metric` (curves for a batch), :func:`deletion` / :func:`insertion`
(one image), then the controls :func:`random_map` and :func:`edge_map`.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..common.checks import check_batch_size, check_logits, check_model, check_output, check_target, guard, scores
from ..ig.baselines import gaussian_blur
from ..common.progress import progress_bar
from .curves import CausalCurve, CausalCurves
from .methods import model_scores

KINDS = ("deletion", "insertion")
PROTOCOLS = ("ours", "agi-repo")
SUBSTRATES = ("black", "blur", "mean")
REDUCES = ("sum", "abs_sum")
RISE_BLUR = (11, 5.0)  # RISE Evaluation.ipynb: gkern(klen=11, nsig=5)


# ---- the pieces ---------------------------------------------------------------------------------------------

def make_substrate(images: torch.Tensor, name: str = "black", blur=RISE_BLUR) -> torch.Tensor:
    """What removed pixels become: "black" (zeros), "blur" (Gaussian, ``blur`` = (kernel, σ) in pixels) or
    "mean" (each image's per-channel mean colour). ``images`` (N, C, H, W). The blur kernel shrinks to fit
    images smaller than it (reflect padding)."""
    if name == "black":
        return torch.zeros_like(images)
    if name == "blur":
        k, s = blur
        k = min(int(k), 2 * min(images.shape[-2:]) - 1)  # reflect padding needs kernel // 2 < image side
        k -= 1 - k % 2                                    # and the kernel must be odd
        return gaussian_blur(images, k, float(s))
    if name == "mean":
        return images.mean(dim=(2, 3), keepdim=True).expand_as(images).clone()
    raise ValueError(f"substrate must be one of {SUBSTRATES}, got {name!r}")


def saliency_2d(saliency: torch.Tensor, reduce: str = "sum") -> torch.Tensor:
    """(N, C, H, W) or (N, H, W) maps → (N, H, W): one value per pixel location (channel sum or sum of |·|)."""
    if reduce not in REDUCES:
        raise ValueError(f"reduce must be one of {REDUCES}, got {reduce!r}")
    if saliency.dim() == 3:
        return saliency
    return saliency.sum(1) if reduce == "sum" else saliency.abs().sum(1)


def change_steps(saliency: torch.Tensor, pixels_per_step: int, protocol: str = "ours") -> torch.Tensor:
    """For every pixel location, the step (1, 2, …) at which it is replaced: (N, H·W) long.

    ours:     one ranking per image (``saliency`` (N, H, W)), stable, descending: location of rank r changes at
              step ⌊r / pixels_per_step⌋ + 1.
    agi-repo: ``saliency`` (N, R, H, W) with R rankings (R = C for a per-channel map), NumPy ``argsort`` flipped
              as in RISE; a location changes at the first step at which *any* ranking reaches it (the union).
    """
    if protocol == "ours":
        flat = saliency.flatten(1)
        order = torch.sort(flat, dim=1, descending=True, stable=True).indices
        rank = torch.empty_like(order)
        rank.scatter_(1, order, torch.arange(flat.shape[1]).expand_as(order).contiguous())
        return rank // pixels_per_step + 1
    sal = saliency.detach().cpu().double().numpy()
    n, r = sal.shape[:2]
    order = np.flip(np.argsort(sal.reshape(n, r, -1), axis=2), axis=2)  # salient_order, as in evaluation.py
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(order.shape[2])[None, None].repeat(r, 1).repeat(n, 0), axis=2)
    return torch.from_numpy((rank // pixels_per_step + 1).min(axis=1))


def trapezoid_auc(scores: torch.Tensor, fractions: torch.Tensor) -> torch.Tensor:
    """Area under score-vs-fraction curves (…, n+1) by the trapezoid rule; with uniform fractions this is RISE's
    ``auc(arr) = (Σ arr − arr[0]/2 − arr[-1]/2) / n``."""
    return ((scores[..., 1:] + scores[..., :-1]) / 2 * fractions.diff(dim=-1)).sum(-1)


# ---- the metric -----------------------------------------------------------------------------------------------

def _settings(kind, protocol, substrate, reduce, pixels_per_step, width):
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if protocol == "agi-repo":
        if substrate not in (None, "black"):
            raise ValueError(f"protocol='agi-repo' uses black (zeros) for deletion and insertion, as the AGI "
                             f"repository does; got substrate={substrate!r}. Use protocol='ours' to choose")
        if reduce is not None:
            raise ValueError("protocol='agi-repo' ranks the raw per-channel map (no channel reduction, that is "
                             "its quirk); leave reduce=None, or use protocol='ours'")
        substrate = "black"
    else:
        substrate = substrate or ("black" if kind == "deletion" else "blur")
        reduce = reduce or "sum"
        if substrate not in SUBSTRATES:
            raise ValueError(f"substrate must be one of {SUBSTRATES}, got {substrate!r}")
        if reduce not in REDUCES:
            raise ValueError(f"reduce must be one of {REDUCES}, got {reduce!r}")
    pixels_per_step = width if pixels_per_step is None else pixels_per_step
    if isinstance(pixels_per_step, bool) or not isinstance(pixels_per_step, int) or pixels_per_step < 1:
        raise ValueError(f"pixels_per_step must be a positive int (default: the image width), got {pixels_per_step!r}")
    return substrate, reduce, pixels_per_step


def _check_maps(images, saliencies):
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or not images.is_floating_point():
        raise ValueError("images must be a float tensor (N, C, H, W)"
                         + (f", got shape {tuple(images.shape)}" if isinstance(images, torch.Tensor) else ""))
    if not isinstance(saliencies, torch.Tensor):
        raise TypeError(f"saliencies must be a torch.Tensor, got {type(saliencies).__name__} "
                        "(pass result.attributions)")
    n, c, h, w = images.shape
    s = saliencies.detach()
    if s.dim() == 3:
        s = s.unsqueeze(1)
    if s.dim() != 4 or s.shape[0] != n or s.shape[2:] != (h, w) or s.shape[1] not in (1, c):
        raise ValueError(f"saliencies must have shape (N, H, W) or (N, C, H, W) matching images "
                         f"{tuple(images.shape)}, got {tuple(saliencies.shape)}")
    if not torch.isfinite(s).all():
        raise ValueError("saliencies contain NaN or inf")
    return s


def causal_metric(model, images, saliencies, kind="deletion", target=None, substrate=None,
                  pixels_per_step=None, reduce=None, protocol="ours", output="probability", blur=RISE_BLUR,
                  batch_size=None, progress=None) -> CausalCurves:
    """Deletion or insertion curves of N images (N, C, H, W) under their maps (N, [C,] H, W) → :class:`CausalCurves`.

    ``target``: the class whose score is tracked (None: the model's prediction on the original image, as RISE).
    ``output``: "probability" (softmax, as RISE and the AGI repository) or "logit". All n + 1 intermediate
    images of an image are built at once (``where(step ≤ s, finish, start)``) and scored in batches of at most
    ``batch_size`` images (default: about 16 MB of input per batch, at most 1024 images: 1024 for MNIST, 27 at
    3 × 224²). Arguments are documented in the module docstring.
    """
    check_model(model)
    check_output(output)
    sal = _check_maps(images, saliencies)
    n, c, h, w = images.shape
    batch_size = check_batch_size(batch_size) or min(1024, max(1, 2 ** 22 // (c * h * w)))
    substrate, reduce, pps = _settings(kind, protocol, substrate, reduce, pixels_per_step, w)
    ranked = saliency_2d(sal, reduce) if protocol == "ours" else sal
    step_of = change_steps(ranked, pps, protocol).to(images.device)       # (N, HW)
    n_steps = math.ceil(h * w / pps)
    s_idx = torch.arange(n_steps + 1, device=images.device)
    changed = step_of[:, None, :] <= s_idx[None, :, None]                  # (N, n+1, HW)
    fractions = changed.float().mean(2)
    pixels_changed = torch.stack([(step_of == s).sum(1) for s in range(1, n_steps + 1)], 1)
    x = images.detach()
    sub = make_substrate(x, substrate, blur)
    start, finish = (x, sub) if kind == "deletion" else (sub, x)
    rows_i = torch.arange(n).repeat_interleave(n_steps + 1)   # every (image, step) pair is one model input
    rows_s = torch.arange(n_steps + 1).repeat(n)
    out = torch.empty(n, n_steps + 1)
    with guard(model, images), torch.no_grad():
        # chunk.clone(): x shares the caller's storage, and a model may write to its input (x.sub_ in forward)
        logits = torch.cat([model_scores(model, chunk.clone()) for chunk in x.split(batch_size)])
        targets = check_target(target, n, check_logits(logits, n), logits.argmax(1))
        with progress_bar(len(rows_i), progress, kind) as bar:
            for ii, ss in zip(rows_i.split(batch_size), rows_s.split(batch_size)):
                m = changed[ii, ss].view(-1, 1, h, w)
                sc = scores(model, torch.where(m, finish[ii], start[ii]), output)
                out[ii, ss] = sc.gather(1, targets[ii, None])[:, 0].float().cpu()
                bar.update(len(ii))
    if protocol == "ours":
        auc, rule = trapezoid_auc(out, fractions.cpu()), "trapezoid area over the fraction of pixels"
    else:
        auc, rule = out.mean(1), f"mean of the {n_steps + 1} points (agi-repo)"
    return CausalCurves(kind, protocol, targets.cpu(), out, fractions.cpu(), pixels_changed.cpu(), auc, rule,
                        substrate, pps, reduce, output)


def _as_batch(image, saliency):
    """One image (C, H, W) or (1, C, H, W) and its map (H, W), (C, H, W) or (1, C, H, W) → batches of one."""
    if not isinstance(image, torch.Tensor) or image.dim() not in (3, 4) or (image.dim() == 4 and len(image) != 1):
        raise ValueError("image must be one image (C, H, W) or (1, C, H, W); for a batch use causal_metric")
    if not isinstance(saliency, torch.Tensor):
        raise TypeError(f"saliency must be a torch.Tensor, got {type(saliency).__name__} (pass result.attributions[0])")
    return (image if image.dim() == 4 else image.unsqueeze(0),
            saliency if saliency.dim() == 4 else saliency.unsqueeze(0))


def _one(model, image, saliency, kind, **kw) -> CausalCurve:
    return causal_metric(model, *_as_batch(image, saliency), kind, **kw)[0]


def deletion(model, image, saliency, target=None, substrate=None, pixels_per_step=None, reduce=None,
             protocol="ours", output="probability", blur=RISE_BLUR) -> CausalCurve:
    """Deletion curve of one image (C, H, W) under ``saliency`` (H, W) or (C, H, W): most salient pixels
    replaced first by the substrate (default black). Lower area is better. See the module docstring."""
    return _one(model, image, saliency, "deletion", target=target, substrate=substrate,
                pixels_per_step=pixels_per_step, reduce=reduce, protocol=protocol, output=output, blur=blur)


def insertion(model, image, saliency, target=None, substrate=None, pixels_per_step=None, reduce=None,
              protocol="ours", output="probability", blur=RISE_BLUR) -> CausalCurve:
    """Insertion curve of one image: start from the substrate (ours: blur; agi-repo: black) and put the most
    salient pixels back first. Higher area is better. See the module docstring."""
    return _one(model, image, saliency, "insertion", target=target, substrate=substrate,
                pixels_per_step=pixels_per_step, reduce=reduce, protocol=protocol, output=output, blur=blur)


def causal_images(image, saliency, kind="deletion", steps=(0, 1, 2), substrate=None, pixels_per_step=None,
                  reduce=None, protocol="ours", blur=RISE_BLUR) -> torch.Tensor:
    """The images the model sees after the given steps of a deletion or insertion run: (len(steps), C, H, W)."""
    image, saliency = _as_batch(image, saliency)
    sal = _check_maps(image, saliency)
    _, c, h, w = image.shape
    substrate, reduce, pps = _settings(kind, protocol, substrate, reduce, pixels_per_step, w)
    step_of = change_steps(saliency_2d(sal, reduce) if protocol == "ours" else sal, pps, protocol)[0]
    sub = make_substrate(image, substrate, blur)[0]
    start, finish = (image[0], sub) if kind == "deletion" else (sub, image[0])
    m = step_of.view(1, 1, h, w) <= torch.as_tensor(list(steps)).view(-1, 1, 1, 1)
    return torch.where(m, finish, start)


# ---- controls: maps that know nothing about the model ---------------------------------------------------------

def random_map(shape, seed: int = 0) -> torch.Tensor:
    """A map of independent standard-normal values (a method must beat this to mean anything)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(tuple(shape), generator=g)


def edge_map(images: torch.Tensor) -> torch.Tensor:
    """Sobel gradient magnitude per channel, same shape as ``images`` ((C, H, W) or (N, C, H, W)): a map that
    sees only the image (Adebayo et al. 2018 show edge detectors resemble many saliency maps)."""
    x = images.detach().float()
    single = x.dim() == 3
    x = x.unsqueeze(0) if single else x
    n, c, h, w = x.shape
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    k = torch.stack([kx, kx.t()]).unsqueeze(1).repeat(c, 1, 1, 1)          # (2C, 1, 3, 3)
    g = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k, groups=c).view(n, c, 2, h, w)
    out = g.pow(2).sum(2).sqrt()
    return out[0] if single else out
