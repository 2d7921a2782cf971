"""Plots of attributions and of the paths behind them (matplotlib). The core never imports this, and this
imports none of the methods: the ``plot_*`` wrappers read result objects (IGResult, StepAdvice, AGIResult)
by their field names.

Sign convention everywhere: red = positive, blue = negative, white = zero (symmetric colour scale).

Other tools use other colours (issue 18, item 7): this course draws positive **red**, negative **blue**, zero
white. The IG authors' ``Visualize`` (ankurtaly/Integrated-Gradients, used by their howto) paints positive
**green** and negative **red**, and by default shows only the positive part (``polarity='positive'``, clipped at
the 99.9th percentile); captum's ``visualize_image_attr`` draws ``sign="all"`` on a red–white–green map (red
negative, green positive), and by default (``sign="absolute_value"``) only the size, in blues. So red means
"against" there and "for" here. Before reading any map, find (1) which colour is positive (the colour bar, or the
call's arguments), (2) whether the sign was dropped (then no colour means "against"), (3) whether one sign was
hidden, and (4) how it was clipped (percentile clipping saturates the strongest pixels).
Every function returns a Figure, already closed in pyplot: Jupyter shows it once, and ``display(fig)`` works.

- maps (:mod:`attrkit.viz.images`): ``heatmap``, ``overlay``, ``path_strip``; the reference code's clipping
  (:mod:`attrkit.viz.clipping`): ``ig_clip``, ``agi_clip``, ``clipping_panels``
- curves (:mod:`attrkit.viz.traces`): ``path_scores``, ``path_gradient_norms``, ``running_sum``,
  ``completeness_vs_steps``, ``quadrature_nodes``, ``agi_trajectories``, ``agi_class_maps``
- named features (:mod:`attrkit.viz.features`): ``text_html``, ``text_tokens``, ``tabular_bars``
- result objects (below): ``plot_ig_trace``, ``plot_ig_path``, ``plot_steps_needed``, ``plot_agi_trajectories``,
  ``plot_agi_points``, ``plot_agi_running``, ``plot_agi_class_maps``, ``plot_explanation``
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from .features import TokenView, tabular_bars, text_html, text_tokens
from .clipping import agi_clip, clipping_panels, ig_clip, linear_transform, mass_threshold
from .images import channel_map, heatmap, line_points, overlay, path_strip, symmetric_limit, to_image
from .traces import (agi_class_maps, agi_trajectories, completeness_vs_steps, gradient_norms, path_gradient_norms,
                     path_scores, quadrature_nodes, running_sum)

__all__ = [
    "heatmap", "overlay", "ig_clip", "agi_clip", "clipping_panels", "path_strip", "mass_threshold",
    "linear_transform", "channel_map", "symmetric_limit", "to_image", "line_points",
    "path_scores", "path_gradient_norms", "gradient_norms", "running_sum", "completeness_vs_steps",
    "quadrature_nodes", "agi_trajectories", "agi_class_maps",
    "text_html", "text_tokens", "TokenView", "tabular_bars",
    "plot_ig_trace", "plot_ig_path", "plot_steps_needed",
    "plot_agi_trajectories", "plot_agi_points", "plot_agi_running", "plot_agi_class_maps", "plot_explanation",
]


# ---- result objects → the plots above ------------------------------------------------------------------------

def _walks(res, index: int) -> list:
    if getattr(res, "trajectories", None) is None:
        raise ValueError("this AGI result kept no trajectories: run agi(..., record='scores' or 'full')")
    return res.trajectories[index]


def _walk(res, index: int, false_class):
    walks = _walks(res, index)
    if not walks:
        raise ValueError(f"input {index} has no adversarial walks")
    return walks[0] if false_class is None else res.trajectory(index, false_class)


def plot_agi_trajectories(res, index: int = 0, *, class_names=None, axes=None):
    """:func:`agi_trajectories` for input ``index`` of an ``AGIResult``: f_i and f_j along every walk."""
    walks = _walks(res, index)
    return agi_trajectories([w.scores for w in walks], [w.false_scores for w in walks],
                            false_classes=[w.false_class for w in walks], reached=[w.reached for w in walks],
                            true_class=int(res.target[index]), class_names=class_names, axes=axes,
                            title=f"AGI walks of input {index} ({res.mode} mode, ε = {res.epsilon:g})")


def plot_agi_points(res, index: int = 0, false_class: int | None = None, *, max_images: int = 8):
    """:func:`path_strip` of the points x_0 … x_T of one walk (default: the first false class)."""
    w = _walk(res, index, false_class)
    if w.points is None:
        raise ValueError("this AGI result kept no points: run agi(..., record='full')")
    return path_strip(w.points, max_images=max_images,
                      title=f"walk of input {index}: class {w.true_class} → {w.false_class}")


def plot_agi_running(res, index: int = 0, false_class: int | None = None, *, ax=None):
    """:func:`running_sum` of one walk: Σ AGI_ij after each step against f_i(x_0) − f_i(x_t). They agree as
    ε → 0 in paper mode (a line integral); in reference mode no such identity holds (research notes §2.5)."""
    w = _walk(res, index, false_class)
    if w.contributions is None:
        raise ValueError("this AGI result kept no contributions: run agi(..., record='full')")
    running = torch.cat([torch.zeros_like(w.contributions[:1].sum(0, keepdim=True)), w.running])  # t = 0: nothing yet
    return running_sum(torch.arange(w.steps_taken + 1), running, w.scores[0] - w.scores,
                       total_label="f_i(x_0) − f_i(x_t)",
                       xlabel="step t", ax=ax,
                       title=f"AGI_ij, class {w.true_class} → {w.false_class} ({w.mode} mode)")


def plot_agi_class_maps(res, index: int = 0, *, class_names=None, max_maps: int = 12, reduce: str = "sum"):
    """:func:`agi_class_maps` for input ``index``: the total AGI and each individual AGI_ij."""
    return agi_class_maps(res.per_class[index], res.classes[index], total=res.attributions[index],
                          class_names=class_names, max_maps=max_maps, reduce=reduce)


def _ig_row(res, index: int, sample: int) -> int:
    """Trace rows are (baseline sample j, input n) → j·N + n (IGTrace)."""
    n = res.inputs.shape[0]
    if not 0 <= index < n or not 0 <= sample < res.samples:
        raise IndexError(f"index must be in [0, {n}) and sample in [0, {res.samples}), got {index}, {sample}")
    return sample * n + index


def plot_ig_trace(res, index: int = 0, *, sample: int = 0, figsize=None):
    """Four views of one IG run (``IGResult``, record="scores" or "full"): F along the path, the gradient size
    along it (record="full"), the running attribution sum against F(x) − F(x′), and the attributions."""
    tr = res.trace
    if tr.scores is None:
        raise ValueError("this IG result kept no trace: run integrated_gradients(..., record='scores' or 'full')")
    row = _ig_row(res, index, sample)
    fig, axes = plt.subplots(2, 2, figsize=figsize or (10, 7), layout="constrained")
    f_x = float(res.score[index])
    f_b = res.baseline_score_of(row)  # this row's own sample (baseline_score is the mean over samples)
    alphas = tr.nodes(row)[0]
    m = len(alphas)
    path_scores(alphas, tr.scores[row, :m], f_baseline=f_b, f_input=f_x, ax=axes[0, 0])
    if tr.gradients is not None:
        path_gradient_norms(alphas, tr.gradients[row, :m], ax=axes[0, 1])
    else:
        axes[0, 1].text(0.5, 0.5, "gradients not kept:\nrecord='full'", ha="center", va="center")
        axes[0, 1].set_axis_off()
    running_sum(alphas, tr.contributions[row, :m].cumsum(0), f_x - f_b, ax=axes[1, 0],
                title=f"running sum: gap {float(tr.gaps[row, -1]):+.3g} ({res.method}, {m} nodes)")
    heatmap(res.attributions[index], ax=axes[1, 1], title=f"attributions ({res.output} of class "
                                                         f"{int(res.target[index])})")
    fig.suptitle(f"IG, input {index}" + (f", baseline sample {sample}" if res.samples > 1 else ""))
    plt.close(fig)
    return fig


def plot_ig_path(res, index: int = 0, *, sample: int = 0, max_images: int = 8):
    """:func:`path_strip` of the points x′ + α_k(x − x′) IG evaluated, at the rule's own α_k."""
    base = res.baseline if res.samples == 1 else res.baseline[sample]
    alphas = res.trace.nodes(_ig_row(res, index, sample))[0]
    return path_strip(line_points(res.inputs[index], base[index], alphas), alphas,
                      max_images=max_images, title=f"IG path of input {index} ({res.method}, {res.steps} nodes)")


def plot_steps_needed(advice, index: int | None = None, *, ax=None):
    """:func:`completeness_vs_steps` of a ``StepAdvice`` (``steps_needed``): relative gap |gap|/|F(x) − F(x′)|
    per rule (worst input, or input ``index``), the tolerance line, and the steps each rule needs."""
    change = advice.change.abs().clamp_min(torch.finfo(advice.change.dtype).tiny)
    rel, steps = {}, {}
    for rule in advice.methods:
        g = advice.gaps[rule].abs() / change.view(-1, 1)
        n = advice.needed[rule]
        label = f"{rule} (needs {'—' if n is None else f'{n:g}'}" + (" per input)" if rule == "adaptive" else ")")
        rel[label] = g if index is None else g[index]
        steps[label] = advice.steps[rule]
    return completeness_vs_steps(steps, rel, total=1.0, tolerance=advice.tol, ax=ax,
                                 ylabel="|gap| / |F(x) − F(x′)|" + (" (worst input)" if index is None else ""),
                                 title=f"completeness gap vs steps ({advice.output})")


def plot_explanation(ex):
    """An :class:`attrkit.lab.explain.Explanation` in one row: the input, its top classes, and every map with its
    deletion (↓) and insertion (↑) scores (red = positive, blue = negative, symmetric scale, colorbars)."""
    n = len(ex.maps)
    fig, axes = plt.subplots(1, n + 2, figsize=(2.6 * (n + 2), 2.9), layout="constrained")
    axes[0].imshow(to_image(ex.image), cmap="gray", vmin=0, vmax=1)
    axes[0].set_title(f"input: {ex.target_name}", fontsize="small")
    axes[0].axis("off")
    names = [str(name)[:18] for _, name, _ in ex.top_classes][::-1]
    axes[1].barh(names, [p for _, _, p in ex.top_classes][::-1], color="0.4")
    axes[1].set_xlim(0, 1)
    axes[1].set_title("top classes (probability)", fontsize="small")
    axes[1].tick_params(labelsize="x-small")
    for ax, (k, v) in zip(axes[2:], ex.maps.items()):
        heatmap(v, ax=ax, title=f"{k}\ndel {ex.deletion[k]:.2f} ins {ex.insertion[k]:.2f}")
    plt.close(fig)
    return fig
