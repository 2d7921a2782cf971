"""Explain one prediction in one view, and catch a model that cheats.

:func:`explain` runs, on any image classifier and input: the top classes, Integrated Gradients (Sundararajan,
Taly, Yan, ICML 2017; black baseline, Gauss–Legendre), AGI (Pan, Li, Zhu, IJCAI 2021; paper mode), the plain
gradient, and two controls that know nothing about the model (a random map and an edge detector), each scored
by deletion and insertion (:mod:`attrkit.lab.metrics`, RISE). A method is worth reading only where it beats the
controls.

:func:`marker_share` and :func:`shortcut_report` quantify a shortcut: the share of positive attribution that
falls on a region (e.g. the class marker of the zoo's ``mnist_shortcut`` model), with and without the marker.
"""
from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass

import torch
from torch import nn

from . import methods
from ..common.checks import check_model, check_output, guard
from ..agi.walk import agi
from ..ig.path import integrated_gradients
from .metrics import causal_metric, edge_map, random_map
from .methods import model_scores
from ..common.saving import SaveLoad
from ..common.html import heatmap_png, html_summary

METHODS = ("IG", "AGI", "gradient", "edge", "random")


# ---- the methods, in one call shape: (model, inputs (N, ...), target (N,)) → maps (N, ...) --------------------

class Probabilities(nn.Module):
    """``model`` followed by a softmax: the AGI repository's ``Sequential(Normalize, net, Softmax)``, so that
    methods of :mod:`attrkit.lab.methods` (which explain the raw output) explain the probability instead."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.training = model.training  # never call .eval() here: it would change the caller's model

    def forward(self, x):
        return torch.softmax(self.model(x), dim=-1)


def gradient(model, inputs, target, output="probability", absolute=False) -> torch.Tensor:
    """∂f_target/∂x by :func:`attrkit.lab.methods.gradient` (Simonyan et al. 2014), f = probability or logit;
    ``absolute=True`` gives |∂p/∂x|, captum's ``Saliency`` default, which the AGI repository compares against."""
    g = methods.gradient(Probabilities(model) if output == "probability" else model, inputs, target)
    return g.abs() if absolute else g


def standard_methods(ig_steps=100, agi_classes=9, agi_mode="paper", epsilon=0.05, max_steps=20, seed=0,
                     bounds=(0.0, 1.0), output="probability", progress=None) -> dict:
    """The methods :func:`explain` runs, as ``{name: f(model, x, target) → maps}`` (reuse them for your own
    tables). IG: black baseline, Gauss–Legendre ``ig_steps`` nodes (the AGI repository's IG: captum, 100 steps);
    AGI: ``agi_classes`` random false classes (int, list or "all"), ε, ``max_steps``; controls seeded."""
    return {
        "IG": lambda m, x, t: integrated_gradients(m, x, target=t, baseline=0.0, steps=ig_steps,
                                                   method="gausslegendre", output=output, record="none",
                                                   progress=progress).attributions,
        "AGI": lambda m, x, t: agi(m, x, target=t, classes=agi_classes, seed=seed, epsilon=epsilon,
                                   max_steps=max_steps, mode=agi_mode, output=output, bounds=bounds,
                                   record="none", progress=progress).attributions,
        "gradient": lambda m, x, t: gradient(m, x, t, output),
        "edge": lambda m, x, t: edge_map(x),
        "random": lambda m, x, t: torch.stack([random_map(x.shape[1:], seed + i) for i in range(len(x))]),
    }


# ---- one prediction -----------------------------------------------------------------------------------------

def _image_png(image: torch.Tensor, size: int = 96) -> str:
    """An input image (C, H, W) in [0, 1] as a small base64 PNG (grey for one channel)."""
    from PIL import Image
    a = image.detach().float().cpu().clamp(0, 1)
    a = a[0] if a.shape[0] == 1 else a.permute(1, 2, 0)
    img = Image.fromarray((a.numpy() * 255).round().astype("uint8"))
    k = max(1, size // max(img.size))
    img = img.resize((img.size[0] * k, img.size[1] * k), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


@dataclass(repr=False)
class Explanation(SaveLoad):
    """What :func:`explain` found. ``top_classes``: [class id, name, probability] rows; ``maps``: name → map
    (C, H, W); ``deletion``/``insertion``: name → area (ours protocol: lower / higher is better)."""
    image: torch.Tensor
    target: int
    target_name: str
    top_classes: list
    maps: dict
    deletion: dict
    insertion: dict
    settings: dict

    def beats_controls(self, name: str) -> bool:
        """True when ``name`` beats both controls on deletion *and* insertion."""
        return all(self.deletion[name] < self.deletion[c] and self.insertion[name] > self.insertion[c]
                   for c in ("edge", "random") if c in self.maps)

    def table(self) -> list[dict]:
        return [dict(method=k, deletion=self.deletion.get(k, math.nan), insertion=self.insertion.get(k, math.nan),
                     beats_controls=self.beats_controls(k) if k not in ("edge", "random") else None)
                for k in self.maps]

    def __repr__(self):
        top = ", ".join(f"{name} {p:.3f}" for _, name, p in self.top_classes)
        lines = [f"Explanation of class {self.target} ({self.target_name}); top classes: {top}",
                 f"  {'method':<10} {'deletion ↓':>11} {'insertion ↑':>12}  beats both controls"]
        for r in self.table():
            beats = "" if r["beats_controls"] is None else ("yes" if r["beats_controls"] else "no")
            lines.append(f"  {r['method']:<10} {r['deletion']:>11.3f} {r['insertion']:>12.3f}  {beats}")
        return "\n".join(lines)

    def _repr_html_(self):
        rows = [("explained class", f"{self.target} ({self.target_name})"),
                ("top classes", ", ".join(f"{name} {p:.3f}" for _, name, p in self.top_classes))]
        rows += [(r["method"], f"deletion {r['deletion']:.3f} (lower better), insertion {r['insertion']:.3f} "
                               f"(higher better)" + ("" if r["beats_controls"] is None else
                                                     "; beats both controls" if r["beats_controls"]
                                                     else "; does NOT beat both controls"))
                 for r in self.table()]
        images = [("input", _image_png(self.image))] + [(k, heatmap_png(v)) for k, v in self.maps.items()]
        return html_summary("Explanation (red = for the class, blue = against)", rows, images)


def explain(model, image, target=None, class_names=None, top=5, methods=None, metric_steps=20,
            output="probability", progress=None, **method_settings) -> Explanation:
    """Explain ``model``'s prediction on one ``image`` ((C, H, W) or (1, C, H, W), the model's input space).

    ``target``: class to explain (None: the prediction). ``class_names``: list of names. ``methods``: a dict as
    :func:`standard_methods` returns (default: that, with ``method_settings`` passed on, e.g. ``ig_steps=32,
    agi_classes=5, bounds=(0, 1)``). Each map is scored by deletion (black) and insertion (blur) with
    ``metric_steps`` steps (pixels per step = ⌈H·W / metric_steps⌉).
    """
    check_model(model)
    check_output(output)
    if not isinstance(image, torch.Tensor) or image.dim() not in (3, 4) or (image.dim() == 4 and len(image) != 1):
        raise ValueError("image must be one image tensor (C, H, W) or (1, C, H, W) in the model's input space")
    x = (image if image.dim() == 4 else image.unsqueeze(0)).detach()
    with torch.no_grad(), guard(model, x):  # the model and the methods get copies: a model may write to its input
        p = torch.softmax(model_scores(model, x.clone()), dim=-1)[0]
    names = class_names or [str(c) for c in range(len(p))]
    if len(names) != len(p):
        raise ValueError(f"class_names has {len(names)} names but the model has {len(p)} classes")
    t = int(p.argmax()) if target is None else int(target)
    if not 0 <= t < len(p):
        raise ValueError(f"target {t} out of range: the model has {len(p)} classes")
    method_settings.setdefault("agi_classes", min(9, len(p) - 1))
    methods = methods or standard_methods(output=output, progress=progress, **method_settings)
    tt = torch.tensor([t])
    maps = {k: f(model, x.clone(), tt).detach()[0] for k, f in methods.items()}
    pps = math.ceil(x.shape[-1] * x.shape[-2] / metric_steps)
    stack = torch.stack(list(maps.values()))
    xs, ts = x.expand(len(maps), *x.shape[1:]), tt.expand(len(maps))
    dele = causal_metric(model, xs, stack, "deletion", target=ts, pixels_per_step=pps, progress=progress)
    ins = causal_metric(model, xs, stack, "insertion", target=ts, pixels_per_step=pps, progress=progress)
    vals, idx = p.topk(min(top, len(p)))
    return Explanation(image=x[0].cpu(), target=t, target_name=names[t],
                       top_classes=[[int(i), names[int(i)], float(v)] for v, i in zip(vals, idx)],
                       maps={k: v.cpu() for k, v in maps.items()},
                       deletion={k: float(a) for k, a in zip(maps, dele.auc)},
                       insertion={k: float(a) for k, a in zip(maps, ins.auc)},
                       settings=dict(output=output, metric_steps=metric_steps, pixels_per_step=pps,
                                     **{k: v if isinstance(v, (int, float, str)) or v is None else str(v)
                                        for k, v in method_settings.items()}))


# ---- shortcuts ---------------------------------------------------------------------------------------------------

def marker_share(attributions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Share of positive attribution mass inside ``mask``: Σ_mask max(a, 0) / Σ max(a, 0) per image → (N,).

    ``attributions`` (N, C, H, W) are summed over channels first; ``mask`` bool (N or 1, [1,] H, W). NaN where a
    map has no positive attribution. The share a map spreading evenly would give is ``mask.mean()``.
    """
    a = attributions.detach().sum(1) if attributions.dim() == 4 else attributions.detach()
    m = mask.reshape(-1, *a.shape[-2:]).to(a.dtype)
    pos = a.clamp_min(0)
    total = pos.flatten(1).sum(1)
    inside = (pos * m).flatten(1).sum(1)
    return torch.where(total > 0, inside / total.clamp_min(1e-30), torch.full_like(total, math.nan))


@dataclass(repr=False)
class ShortcutReport(SaveLoad):
    """:func:`shortcut_report`'s numbers. ``share_marked``/``share_clean``: method → (N,) marker shares with and
    without the marker; ``chance``: the marker's share of the image area; accuracies of the model."""
    share_marked: dict
    share_clean: dict
    chance: float
    accuracy_marked: float
    accuracy_clean: float
    accuracy_wrong_marker: float
    follows_wrong_marker: float

    def table(self) -> list[dict]:
        nm = lambda t: float(t[~torch.isnan(t)].mean()) if (~torch.isnan(t)).any() else math.nan
        return [dict(method=k, with_marker=nm(self.share_marked[k]), without_marker=nm(self.share_clean[k]),
                     chance=self.chance) for k in self.share_marked]

    def __repr__(self):
        lines = [f"accuracy: with its class's marker {self.accuracy_marked:.3f}, without marker "
                 f"{self.accuracy_clean:.3f}, with another class's marker {self.accuracy_wrong_marker:.3f} "
                 f"(predicts the marker's class {self.follows_wrong_marker:.3f})",
                 f"share of positive attribution on the marker region (area share {self.chance:.4f}):",
                 f"  {'method':<10} {'with marker':>12} {'without':>9}"]
        lines += [f"  {r['method']:<10} {r['with_marker']:>12.3f} {r['without_marker']:>9.3f}" for r in self.table()]
        return "\n".join(lines)

    def _repr_html_(self):
        import html
        return "<pre>" + html.escape(repr(self)) + "</pre>"


def shortcut_report(model, images, labels, add_marker, marker_mask, methods: dict) -> ShortcutReport:
    """Does ``model`` look at a class marker? ``images`` (N, ...) without markers and their ``labels``;
    ``add_marker(images, labels)`` plants the markers, ``marker_mask(label)`` gives a label's marker region.

    Every map explains the true label, on the marked and on the clean image; shares are measured on the
    label's marker region in both. The wrong-marker accuracy plants the marker of class (label + 1) mod C.
    """
    check_model(model)
    y = torch.as_tensor(labels).long()
    images = images.detach()
    marked = add_marker(images.clone(), y).detach()
    mask = torch.stack([marker_mask(int(c)) for c in y])
    with torch.no_grad():  # the model and the methods get copies: a model may write to its input
        out_marked = model_scores(model, marked.clone())
        c = out_marked.shape[1]
        wrong = (y + 1) % c
        pred_wrong = model(add_marker(images.clone(), wrong)).argmax(1)
        acc_clean = float((model(images.clone()).argmax(1) == y).float().mean())
    share_marked = {k: marker_share(f(model, marked.clone(), y), mask) for k, f in methods.items()}
    share_clean = {k: marker_share(f(model, images.clone(), y), mask) for k, f in methods.items()}
    return ShortcutReport(share_marked=share_marked, share_clean=share_clean, chance=float(mask.float().mean()),
                          accuracy_marked=float((out_marked.argmax(1) == y).float().mean()), accuracy_clean=acc_clean,
                          accuracy_wrong_marker=float((pred_wrong == y).float().mean()),
                          follows_wrong_marker=float((pred_wrong == wrong).float().mean()))
