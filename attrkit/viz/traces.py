"""What happens along the path, as curves: IG's score, gradient size and running sum against α, the
completeness gap against the number of steps, and AGI's scores along each adversarial path.

Plain functions take arrays (one input); the ``plot_*`` wrappers in :mod:`attrkit.viz` take result objects.
Each returns its Figure, closed in pyplot (see :mod:`attrkit.viz.images`); ``ax=`` draws into existing axes.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullFormatter

from .images import as_array, channel_map, done, draw_map, new_axes, symmetric_limit

PATH_X = "α  (path x′ + α(x − x′))"


def class_name(j: int, class_names=None) -> str:
    """``class_names[j]`` (a list or dict) when there is one, else the id."""
    try:
        return f"{class_names[j]}" if class_names is not None else str(j)
    except (IndexError, KeyError):
        return str(j)


def _rows(y) -> np.ndarray:
    y = as_array(y)
    return y[None] if y.ndim == 1 else y


def path_scores(alphas, scores, *, f_baseline=None, f_input=None, labels=None, ax=None,
                title: str | None = None) -> Figure:
    """F(x′ + α(x − x′)) against α (TF tutorial: "target class predicted probability over alpha"). Where the
    curve is flat the gradients are ~0 (saturation): those α contribute almost nothing to IG.

    ``scores`` (m,) or (N, m); ``f_baseline``/``f_input`` mark F(x′) at α = 0 and F(x) at α = 1 (the nodes of
    a rule such as Gauss–Legendre need not include the endpoints).
    """
    a, s = as_array(alphas).ravel(), _rows(scores)
    if s.shape[1] != a.size:
        raise ValueError(f"{a.size} alphas but scores have {s.shape[1]} columns")
    fig, ax, owned = new_axes(ax, figsize=(5, 3.2))
    for n, row in enumerate(s):
        ax.plot(a, row, marker=".", label=labels[n] if labels is not None else
                ("F along the path" if len(s) == 1 else f"input {n}"))
    if f_baseline is not None:
        ax.plot(np.zeros(_rows(f_baseline).size), _rows(f_baseline).ravel(), "s", color="k", label="F(x′), α = 0")
    if f_input is not None:
        ax.plot(np.ones(_rows(f_input).size), _rows(f_input).ravel(), "D", color="k", label="F(x), α = 1")
    ax.set_xlabel(PATH_X)
    ax.set_ylabel("F")
    ax.legend(fontsize="small")
    ax.set_title(title if title is not None else "score along the path (flat = saturated)", fontsize="medium")
    return done(fig, owned)


def gradient_norms(gradients, norm: str = "l2") -> np.ndarray:
    """One number per path point: ‖∇F‖₂ (``l2``) or the mean |∂F/∂x_i| (``mean_abs``, TF tutorial) of (m, ...)."""
    g = as_array(gradients)
    g = g.reshape(g.shape[0], -1)
    if norm == "l2":
        return np.sqrt((g ** 2).sum(1))
    if norm == "mean_abs":
        return np.abs(g).mean(1)
    raise ValueError(f"norm must be 'l2' or 'mean_abs', got {norm!r}")


def path_gradient_norms(alphas, gradients, *, norm: str = "l2", ax=None, title: str | None = None) -> Figure:
    """Gradient size along the path (TF tutorial: "average pixel gradients over alpha"): large where F changes,
    ~0 where it has saturated. ``gradients`` (m, ...) for one input."""
    a, y = as_array(alphas).ravel(), gradient_norms(gradients, norm)
    if y.size != a.size:
        raise ValueError(f"{a.size} alphas but {y.size} gradients")
    fig, ax, owned = new_axes(ax, figsize=(5, 3.2))
    ax.plot(a, y, marker=".", color="tab:purple", label="‖∇F‖₂" if norm == "l2" else "mean |∂F/∂xᵢ|")
    ax.set_xlabel(PATH_X)
    ax.set_ylabel("gradient size")
    ax.legend(fontsize="small")
    ax.set_title(title if title is not None else "gradient along the path", fontsize="medium")
    return done(fig, owned)


def running_sum(alphas, running, total=None, *, total_label: str = "F(x) − F(x′)", xlabel: str = PATH_X, ax=None,
                title: str | None = None) -> Figure:
    """Σᵢ of the running attributions up to each α, against F(x) − F(x′) (Distill baselines article, Fig. 4,
    "sum of cumulative gradients"). Completeness (IG Prop. 1) says the curve must end on the line; the gap
    left at the end is the convergence delta.

    ``running`` (m, ...) running attributions, or (m,) already summed over features. ``total``: a number
    (drawn as a line) or (m,) values to compare at each point (drawn as a curve, e.g. AGI's f_i(x_0) − f_i(x_t)).
    """
    a, r = as_array(alphas).ravel(), as_array(running)
    y = r if r.ndim == 1 else r.reshape(r.shape[0], -1).sum(1)
    if y.size != a.size:
        raise ValueError(f"{a.size} alphas but {y.size} running sums")
    fig, ax, owned = new_axes(ax, figsize=(5, 3.2))
    ax.plot(a, y, marker=".", color="tab:red", label="Σ attributions so far")
    if total is not None:
        t = as_array(total).ravel()
        if t.size == 1:
            ax.axhline(t[0], color="tab:blue", ls="--", label=total_label)
        elif t.size == a.size:
            ax.plot(a, t, color="tab:blue", ls="--", marker=".", label=total_label)
        else:
            raise ValueError(f"total must be one number or {a.size} values, got {t.size}")
        if y.size:
            ax.text(0.98, 0.04, f"gap at the end: {y[-1] - t[-1]:+.3g}", transform=ax.transAxes, ha="right",
                    fontsize="small")
    ax.set_xlabel(xlabel)
    if a.size and np.all(a == np.round(a)) and a.max() > 1:  # steps, not α
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("attribution sum")
    ax.legend(fontsize="small")
    ax.set_title(title if title is not None else "running attribution sum", fontsize="medium")
    return done(fig, owned)


def completeness_vs_steps(steps, gaps, *, total=None, tolerance: float = 0.05, ax=None, title: str | None = None,
                          ylabel: str = "|Σ attr − (F(x) − F(x′))|") -> Figure:
    """|Σ attributions − (F(x) − F(x′))| against the number of steps, one line per quadrature rule (log–log).

    ``gaps``: {rule: (S,)} or {rule: (N, S)} (then the worst input is drawn); ``steps``: (S,) shared or
    {rule: (S,)}. With ``total`` = F(x) − F(x′), a line marks ``tolerance``·|total| (IG paper §5 / howto.md:
    within ~5 %). Exact zeros (e.g. a rule that is exact for the model) are drawn at a floor and said so.
    """
    if not isinstance(gaps, dict):
        gaps = {"rule": gaps}
    curves = {}
    for rule, g in gaps.items():
        y = np.abs(_rows(g)).max(0)
        x = as_array(steps[rule] if isinstance(steps, dict) else steps).ravel()
        if x.size != y.size:
            raise ValueError(f"rule {rule!r}: {x.size} step counts but {y.size} gaps")
        curves[rule] = (x, y)
    positive = np.concatenate([y[y > 0] for _, y in curves.values()] + [np.zeros(0)])
    floor = positive.min() / 10 if positive.size else 1e-16
    fig, ax, owned = new_axes(ax, figsize=(5.2, 3.4))
    for rule, (x, y) in curves.items():
        ax.plot(x, np.maximum(y, floor), marker="o", ms=4, label=str(rule))
    if total is not None:
        ax.axhline(tolerance * abs(float(as_array(total).ravel()[0])) or floor, color="k", ls=":",
                   label=f"{tolerance:.0%} of |F(x) − F(x′)|")
    if (np.concatenate([y for _, y in curves.values()]) == 0).any():
        ax.axhline(floor, color="0.6", lw=0.8, label=f"exact 0 (drawn at {floor:.0e})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = np.unique(np.concatenate([x for x, _ in curves.values()]))
    ticks = ticks[(ticks > 0) & (ticks == np.round(ticks))]  # an average count (adaptive rule) gets no label
    ticks = ticks[:: -(-len(ticks) // 8)]  # at most 8 labels
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("steps")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    ax.set_title(title if title is not None else "completeness gap vs steps", fontsize="medium")
    return done(fig, owned)


def quadrature_nodes(rules: dict, *, ax=None, title: str | None = None) -> Figure:
    """Where each rule evaluates the gradient (α) and how much each node weighs (w), one stem set per rule:
    {name: (alphas, weights)}. The legend gives Σw (1 for a proper rule; Captum's trapezoid: (n − 1)/n)."""
    fig, ax, owned = new_axes(ax, figsize=(5.2, 3.2))
    n = max(len(rules), 1)
    for k, (name, (alphas, weights)) in enumerate(rules.items()):
        a, w = as_array(alphas).ravel(), as_array(weights).ravel()
        shift = (k - (n - 1) / 2) * 0.006  # nudge rules apart so coinciding nodes stay visible
        line, = ax.plot(a + shift, w, "o", ms=4, label=f"{name} (Σw = {w.sum():.4g})")
        ax.vlines(a + shift, 0, w, color=line.get_color(), lw=1)
    ax.set_xlabel("node α")
    ax.set_ylabel("weight w")
    ax.legend(fontsize="small")
    ax.set_title(title if title is not None else "quadrature nodes and weights", fontsize="medium")
    return done(fig, owned)


# ---- AGI ---------------------------------------------------------------------------------------------------

def agi_trajectories(scores, false_scores, *, false_classes=None, true_class=None, reached=None,
                     class_names=None, axes=None, figsize=None, title: str | None = None) -> Figure:
    """AGI's adversarial paths, one colour per false class j: left f_i(x^t) of the explained class i (its drop
    is what AGI_ij accounts for), right f_j(x^t) of the target false class (the ascent). A star marks a path
    that reached j (argmax = j), at its last point.

    ``scores``, ``false_scores``: one 1-D array (T_j + 1,) per false class (lengths may differ), or (k, T+1).
    ``axes``: two existing axes to draw into.
    """
    fi = [as_array(s).ravel() for s in scores]
    fj = [as_array(s).ravel() for s in false_scores]
    if len(fi) != len(fj):
        raise ValueError(f"{len(fi)} true-class curves but {len(fj)} false-class curves")
    if axes is None:
        fig, axes, owned = new_axes(None, 1, 2, figsize=figsize or (9.5, 3.4))
    else:
        fig, _, owned = new_axes(axes[0])
    reached = [False] * len(fi) if reached is None else [bool(r) for r in as_array(reached).ravel()]
    js = [int(j) for j in as_array(false_classes).ravel()] if false_classes is not None else range(len(fi))
    for k, (a, b, j) in enumerate(zip(fi, fj, js)):
        label = f"j = {class_name(j, class_names)}" + (" ✓" if reached[k] else "")
        line, = axes[0].plot(np.arange(a.size), a, marker=".", ms=3, label=label)
        axes[1].plot(np.arange(b.size), b, marker=".", ms=3, color=line.get_color(), label=label)
        if reached[k]:
            axes[1].plot(b.size - 1, b[-1], "*", ms=11, color=line.get_color())
    i = f" = {class_name(int(true_class), class_names)}" if true_class is not None else ""
    axes[0].set_title(f"f_i, explained class i{i} (falls)", fontsize="medium")
    axes[1].set_title("f_j of the false class j (rises; ★ reached)", fontsize="medium")
    for ax in axes[:2]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("step t")
        ax.set_ylabel("score")
    if fi:
        axes[1].legend(fontsize="x-small", ncols=2 if len(fi) > 8 else 1, title="false class",
                       title_fontsize="x-small")
    if title:
        fig.suptitle(title)
    return done(fig, owned)


def agi_class_maps(per_class, classes=None, *, total=None, reduce: str = "sum", class_names=None,
                   max_maps: int = 12, ncols: int = 4, percentile: float = 100.0, figsize=None) -> Figure:
    """The individual maps AGI_ij, one per false class j, on one shared signed scale (so they compare), after
    the total AGI = Σ_j AGI_ij (Algorithm 2) on its own scale. ``per_class`` (k, ...); ``classes`` (k,) with
    −1 marking an unused slot (as in ``res.classes``); up to ``max_maps`` maps."""
    maps = [channel_map(p, reduce) for p in as_array(per_class)]
    ids = list(range(len(maps))) if classes is None else [int(c) for c in as_array(classes).ravel()]
    if len(ids) != len(maps):
        raise ValueError(f"{len(maps)} maps but {len(ids)} classes")
    keep = [(j, m) for j, m in zip(ids, maps) if j >= 0][:max_maps]
    panels = len(keep) + (total is not None)
    ncols = max(1, min(ncols, panels))
    nrows = max(1, -(-panels // ncols))
    fig, axes, _ = new_axes(None, nrows, ncols, figsize=figsize or (2.6 * ncols + 1.2, 2.4 * nrows))
    axes = np.atleast_1d(axes).ravel()
    k = 0
    if total is not None:
        draw_map(axes[0], channel_map(total, reduce), True, percentile)
        axes[0].set_title("AGI = Σ_j AGI_ij", fontsize="small")
        k = 1
    if keep:
        v = symmetric_limit(np.stack([m for _, m in keep]), percentile)
        for (j, m), ax in zip(keep, axes[k:]):
            im = draw_map(ax, m, True, colorbar=False, limit=v)
            ax.set_title(f"j = {class_name(j, class_names)}", fontsize="small")
        fig.colorbar(im, ax=list(axes[k:k + len(keep)]), shrink=0.85).set_label(
            "AGI_ij, shared scale: red +, blue −, white 0", fontsize="small")
    for ax in axes[panels:]:
        ax.set_axis_off()
    return done(fig, True)
