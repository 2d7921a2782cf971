"""Attribution maps as pictures: signed heatmaps, overlays, the path as a strip of images, and the two clipping
rules of the reference code (IG authors: by attribution mass; AGI authors: 80th–99th percentile).

Colour convention (the kit's, as in ``results.heatmap_png``): **red = positive, blue = negative, white = zero**,
on a symmetric scale [−v, v], so zero is always the colormap's centre. Absolute maps: white = 0, black = max.

Other tools use other colours (issue 18, item 7): this course draws positive **red**, negative **blue**, zero
white. The IG authors' ``Visualize`` (ankurtaly/Integrated-Gradients, used by their howto) paints positive
**green** and negative **red**, and by default shows only the positive part (``polarity='positive'``, clipped at
the 99.9th percentile); captum's ``visualize_image_attr`` draws ``sign="all"`` on a red–white–green map (red
negative, green positive), and by default (``sign="absolute_value"``) only the size, in blues. So red means
"against" there and "for" here. Before reading any map, find (1) which colour is positive (the colour bar, or the
call's arguments), (2) whether the sign was dropped (then no colour means "against"), (3) whether one sign was
hidden, and (4) how it was clipped (percentile clipping saturates the strongest pixels).

Every function returns its Figure, already closed in pyplot, so Jupyter shows it once (as a cell's value or with
``display(fig)``) and open figures don't pile up. Pass ``ax=`` (and ``cax=`` for the colorbar) to draw into
existing axes instead, e.g. from a widget; then the caller's figure is returned and nothing is closed.
"""
from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

SIGNED_CMAP = "bwr"  # blue (−) · white (0) · red (+)
ABS_CMAP = "Greys"  # white (0) · black (max)
SIGNED_LABEL = "attribution: red +, blue −, white 0"
ABS_LABEL = "|attribution| (sign dropped): white 0"
BAD_COLOUR = "lime"  # NaN / inf pixels, so a broken map is visible rather than silently white
REDUCTIONS = ("sum", "mean", "abs_sum", "abs_mean")


# ---- plumbing shared by every viz module ---------------------------------------------------------------------

def as_array(x) -> np.ndarray:
    """Tensor or array-like → float64 numpy array (detached, on the CPU)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def new_axes(ax=None, nrows: int = 1, ncols: int = 1, figsize=None):
    """(figure, axes, owned): the caller's axes, or a new constrained-layout figure that we own and will close."""
    if ax is not None:
        fig = ax.figure
        while not isinstance(fig, Figure):  # an Axes inside a SubFigure: show the whole figure
            fig = fig.figure
        return fig, ax, False
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=True)
    return fig, axes, True


def done(fig: Figure, owned: bool) -> Figure:
    """Close a figure we opened (pyplot forgets it; the Figure still displays), then return it."""
    if owned:
        plt.close(fig)
    return fig


def cmap(signed: bool):
    return matplotlib.colormaps[SIGNED_CMAP if signed else ABS_CMAP].with_extremes(bad=BAD_COLOUR)


# ---- maps ----------------------------------------------------------------------------------------------------

def channel_map(attr, reduce: str = "sum") -> np.ndarray:
    """One value per pixel: (C, H, W) → (H, W) by ``reduce``; (H, W) as is; (d,) → (1, d); leading 1s dropped.

    ``sum`` keeps completeness (the map still adds up to Σ attributions; ``results.heatmap_png``, PAIR's
    VisualizeImageDiverging); ``mean`` is IG-repo's ConvertToGrayscale and AGI_main.py's ``np.mean(ex, 0)``;
    ``abs_sum`` is PAIR's VisualizeImageGrayscale (Σ_c |a|); ``abs_mean`` its mean version.
    """
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
    a = as_array(attr)
    while a.ndim > 3 and a.shape[0] == 1:
        a = a[0]
    if reduce.startswith("abs_"):
        a = np.abs(a)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    if a.ndim == 1:
        return a[None, :]
    if a.ndim == 2:
        return a
    if a.ndim == 3:
        return a.sum(0) if reduce.endswith("sum") else a.mean(0)
    raise ValueError(f"expected one map of shape (H, W) or (C, H, W), got shape {a.shape}; pick one input, "
                     "e.g. res.attributions[0]")


def symmetric_limit(m: np.ndarray, percentile: float = 100.0) -> float:
    """v for the colour scale [−v, v]: the ``percentile`` of |m| over finite values (PAIR uses 99); never 0."""
    finite = np.abs(m[np.isfinite(m)])
    if finite.size == 0:
        return 1.0
    v = float(np.percentile(finite, percentile))
    if not v > 0:  # a sparse map whose percentile is 0: fall back to the largest value
        v = float(finite.max())
    return v if v > 0 else 1.0  # an all-zero map: any scale shows it white


def draw_map(ax, m: np.ndarray, signed: bool = True, percentile: float = 100.0, cax=None, colorbar: bool = True,
             label: str | None = None, limit: float | None = None):
    """imshow a 2-D map on the kit's scale (symmetric [−v, v] if signed, [0, v] if not), colorbar included."""
    v = limit if limit is not None else symmetric_limit(m, percentile)
    norm = Normalize(-v, v) if signed else Normalize(0.0, v)
    im = ax.imshow(m, cmap=cmap(signed), norm=norm, interpolation="nearest",
                   aspect="auto" if min(m.shape) == 1 else "equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if colorbar:
        add_colorbar(ax, im, signed, cax=cax, label=label, clipped=bool(np.nanmax(np.abs(m), initial=0) > v))
    return im


def add_colorbar(ax, mappable, signed: bool, cax=None, label: str | None = None, clipped: bool = False):
    """The legend of every map: a colorbar whose label states the sign convention."""
    fig = ax.figure
    if cax is not None:
        cax.clear()
        cb = fig.colorbar(mappable, cax=cax, extend="both" if clipped and signed else "max" if clipped else "neither")
    else:
        cb = fig.colorbar(mappable, ax=ax, shrink=0.85,
                          extend="both" if clipped and signed else "max" if clipped else "neither")
    cb.set_label(label or (SIGNED_LABEL if signed else ABS_LABEL), fontsize="small")
    return cb


def heatmap(attr, *, signed: bool = True, reduce: str = "sum", percentile: float = 100.0, ax=None, cax=None,
            colorbar: bool = True, title: str | None = None) -> Figure:
    """An attribution map: signed (red/white/blue, zero at the centre) or absolute (``signed=False``: |map|).

    ``percentile`` < 100 clips the colour scale at that percentile of |map| (PAIR: 99); the colorbar then shows
    arrows. NaN/inf pixels are drawn in lime. When redrawing into the same ``ax`` repeatedly, pass ``cax=`` (or
    ``colorbar=False``) so colorbars do not accumulate.
    """
    m = channel_map(attr, reduce)
    if not signed:
        m = np.abs(m)
    fig, ax, owned = new_axes(ax, figsize=(4.2, 3.4))
    draw_map(ax, m, signed, percentile, cax=cax, colorbar=colorbar)
    ax.set_title(title if title is not None else f"{'signed' if signed else 'absolute'} map ({reduce} over channels)",
                 fontsize="medium")
    return done(fig, owned)


def to_image(x, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """An input as imshow draws it: (C, H, W) → (H, W, 3) in [0, 1]; 1 or ≠ 3 channels → grey (H, W).

    Values outside [0, 1] (a normalised input) are rescaled from [lo, hi], by default their min and max, so
    nothing is silently clipped.
    """
    a = np.nan_to_num(as_array(x))
    while a.ndim > 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 3:
        a = np.moveaxis(a, 0, -1) if a.shape[0] == 3 else a.mean(0)
    elif a.ndim == 1:
        a = a[None, :]
    elif a.ndim == 0:
        a = a.reshape(1, 1)
    if a.ndim not in (2, 3):
        raise ValueError(f"expected an image (C, H, W) or (H, W), got shape {a.shape}")
    if lo is None and hi is None and a.size and a.min() >= 0 and a.max() <= 1:
        return a
    lo = float(a.min()) if lo is None else lo
    hi = float(a.max()) if hi is None else hi
    if not hi > lo:
        return np.full_like(a, 0.5)
    return np.clip((a - lo) / (hi - lo), 0.0, 1.0)


def overlay(attr, image, *, signed: bool = True, reduce: str = "sum", percentile: float = 100.0,
            alpha: float = 0.85, gray: bool = True, ax=None, cax=None, colorbar: bool = True,
            title: str | None = None) -> Figure:
    """The map over its input: opacity grows with |attribution|, so zero-attribution pixels show the bare input.

    The input is drawn in grey (``gray=True``, as Captum's blended_heat_map) so red and blue stand out.
    """
    m = channel_map(attr, reduce)
    if not signed:
        m = np.abs(m)
    img = to_image(image)
    if img.ndim == 3 and gray:
        img = img.mean(-1)
    if img.shape[:2] != m.shape:
        raise ValueError(f"map {m.shape} and image {img.shape[:2]} differ in size")
    fig, ax, owned = new_axes(ax, figsize=(4.2, 3.4))
    v = symmetric_limit(m, percentile)
    norm = Normalize(-v, v) if signed else Normalize(0.0, v)
    rgba = cmap(signed)(norm(m))
    strength = np.clip(np.abs(m) / v, 0.0, 1.0)
    rgba[..., 3] = alpha * np.where(np.isfinite(m), np.nan_to_num(strength), 1.0)
    ax.imshow(img, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.imshow(rgba, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if colorbar:
        add_colorbar(ax, ScalarMappable(norm, cmap(signed)), signed, cax=cax,
                     clipped=bool(np.nanmax(np.abs(m), initial=0) > v))
    ax.set_title(title if title is not None else "attribution over the input", fontsize="medium")
    return done(fig, owned)


# ---- the path, as pictures -------------------------------------------------------------------------------------

def line_points(x, baseline, alphas) -> np.ndarray:
    """The straight-line path of IG (Eq. 1): x′ + α(x − x′) for each α, stacked → (m, *x.shape)."""
    x, b, a = as_array(x), as_array(baseline), as_array(alphas).ravel()
    return b[None] + a.reshape(-1, *([1] * x.ndim)) * (x - b)[None]


def path_strip(points, labels=None, *, label_name: str | None = None, max_images: int = 8, figsize=None,
               title: str | None = None) -> Figure:
    """The inputs along a path, left to right: IG's interpolated inputs at their α (TF tutorial's
    ``interpolate_images``; pass ``labels=alphas``), or AGI's points x^t (``labels=None``: t = 0, 1, ...).

    ``points`` (m, C, H, W) or (m, H, W): up to ``max_images`` evenly chosen images, on one shared colour range
    (a normalised input is rescaled the same way in every panel). (m, d) vectors: one image, a row per point.
    """
    p = as_array(points)
    m = p.shape[0]
    if labels is None:
        labels, label_name = np.arange(m), label_name or "t"
    labels = as_array(labels).ravel()
    label_name = label_name or "α"
    if labels.shape[0] != m:
        raise ValueError(f"{m} points but {labels.shape[0]} labels")

    def fmt(v):
        return f"{label_name} = {v:.0f}" if label_name == "t" else f"{label_name} = {v:.3g}"

    if p.ndim <= 2:  # vectors: a (points × features) picture
        rows = p.reshape(m, -1)
        fig, ax, _ = new_axes(None, figsize=figsize or (6, 0.6 + 0.25 * min(m, 40)))
        im = ax.imshow(rows, aspect="auto", interpolation="nearest", cmap="viridis")
        ax.set_yticks(np.arange(m)[:: max(1, m // 12)], [fmt(v) for v in labels[:: max(1, m // 12)]],
                      fontsize="small")
        ax.set_xlabel("feature")
        fig.colorbar(im, ax=ax).set_label("input value", fontsize="small")
        ax.set_title(title or "points along the path", fontsize="medium")
        return done(fig, True)
    idx = np.unique(np.round(np.linspace(0, m - 1, min(m, max_images))).astype(int))
    finite = p[np.isfinite(p)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    lo, hi = (None, None) if lo >= 0 and hi <= 1 else (lo, hi)
    fig, axes, _ = new_axes(None, 1, len(idx), figsize=figsize or (1.9 * len(idx), 2.3))
    axes = np.atleast_1d(axes)
    for ax, i in zip(axes, idx):
        img = to_image(p[i], lo, hi)
        ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(fmt(labels[i]), fontsize="small")
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize="medium")
    return done(fig, True)
