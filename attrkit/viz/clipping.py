"""The clipping rules of the reference code: how the IG and AGI authors turn a map into a picture."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .images import as_array, channel_map, done, draw_map, new_axes, to_image

def mass_threshold(values, percentage: float) -> float:
    """IG-repo ``ComputeThresholdByTopPercentage``: sort |values| in decreasing order and return the value at
    which their cumulative sum first reaches ``percentage`` % of the total mass (not a pixel-count percentile).

    Example: [4, 3, 2, 1] has mass 10; 4 + 3 = 7 reaches 70 %, so the 70 % threshold is 3. ``percentage=100``
    returns the smallest value (as IG-repo does, sidestepping cumsum round-off); an all-zero map gives 0.
    IG-repo divides by the plain sum; it only ever passes values ≥ 0, where that is the same as Σ|values|.
    """
    if not 0 <= percentage <= 100:
        raise ValueError(f"percentage must be in [0, 100], got {percentage}")
    a = np.sort(np.abs(as_array(values)).ravel())[::-1]
    if a.size == 0:
        raise ValueError("mass_threshold of an empty array")
    if percentage == 100:
        return float(a[-1])
    total = a.sum()
    if not total > 0:
        return 0.0
    reached = 100.0 * np.cumsum(a) / total >= percentage
    return float(a[np.argmax(reached)] if reached.any() else a[-1])


def linear_transform(a, clip_above_percentile: float = 99.9, clip_below_percentile: float = 0.0,
                     low: float = 0.0) -> np.ndarray:
    """IG-repo ``LinearTransform`` of a map of values ≥ 0: f(a) = (1 − low)(a − e)/(m − e) + low, where
    m = mass_threshold(a, 100 − clip_above) and e = mass_threshold(a, 100 − clip_below); values below ``low``
    become 0, the rest is clipped to [0, 1]. If m = e (e.g. a constant map) every value ≥ m maps to 1.
    """
    if not 0 <= clip_below_percentile <= clip_above_percentile <= 100:
        raise ValueError("need 0 ≤ clip_below_percentile ≤ clip_above_percentile ≤ 100, got "
                         f"{clip_below_percentile}, {clip_above_percentile}")
    if not 0 <= low <= 1:
        raise ValueError(f"low must be in [0, 1], got {low}")
    a = as_array(a)
    m = mass_threshold(a, 100 - clip_above_percentile)
    e = mass_threshold(a, 100 - clip_below_percentile)
    t = (1 - low) * (np.abs(a) - e) / (m - e) + low if m > e else np.where(np.abs(a) >= m, 1.0, 0.0)
    t = t * np.sign(a)  # as IG-repo: restores the sign, so exact zeros stay 0
    t = t * (t >= low)
    return np.clip(t, 0.0, 1.0)


def ig_clip(attr, clip_above_percentile: float = 99.9, clip_below_percentile: float = 0.0,
            polarity: str = "both", low: float = 0.0) -> np.ndarray:
    """IG-repo ``Visualize`` without the colouring: Polarity → mean over channels → :func:`linear_transform`.

    ``positive``/``negative``: the positive part or |negative part|, in [0, 1]. ``both`` (the kit's default):
    both parts transformed separately, returned signed as positive − negative in [−1, 1] (IG-repo draws them
    green and red; the kit red and blue). Defaults 99.9 / 0 are Visualize's; ig_inception.ipynb also uses 99 / 0
    and 95 / 58. Unlike IG-repo's ``Polarity`` (np.clip(a, 0, 1)), values above 1 are not capped before scaling.
    """
    a = as_array(attr)
    parts = {"positive": np.clip(a, 0, None), "negative": np.clip(-a, 0, None)}
    args = (clip_above_percentile, clip_below_percentile, low)
    if polarity in parts:
        return linear_transform(channel_map(parts[polarity], "mean"), *args)
    if polarity == "both":
        return (linear_transform(channel_map(parts["positive"], "mean"), *args)
                - linear_transform(channel_map(parts["negative"], "mean"), *args))
    raise ValueError(f"polarity must be 'positive', 'negative' or 'both', got {polarity!r}")


def agi_clip(attr, lower: float = 80.0, upper: float = 99.0) -> np.ndarray:
    """AGI_main.py ``plot_hm`` (L168–207 at 4b28c8b): ex = mean over channels (signed), q and u its ``lower``
    and ``upper`` percentiles, result (clip(ex, q, u) − q)/(u − q) in [0, 1].

    Only the top 20 % of *signed* values survive; negative attributions all land at 0. If u = q the result is
    1 where ex > q and 0 elsewhere (the reference would divide by zero).
    """
    if not 0 <= lower <= upper <= 100:
        raise ValueError(f"need 0 ≤ lower ≤ upper ≤ 100, got {lower}, {upper}")
    ex = channel_map(attr, "mean")
    q, u = np.percentile(ex, [lower, upper])
    if u > q:
        return (np.clip(ex, q, u) - q) / (u - q)
    return (ex > q).astype(np.float64)


def clipping_panels(attr, image=None, *, clip_above_percentile: float = 99.9, clip_below_percentile: float = 0.0,
                    lower: float = 80.0, upper: float = 99.0, figsize=None) -> Figure:
    """One map under three display rules side by side: raw signed (channel sum), IG-repo mass clipping
    (:func:`ig_clip`, both polarities), AGI_main.py percentile clipping (:func:`agi_clip`), and, given the
    input, AGI_main.py's "Input * heatmap" (image × AGI-clipped map)."""
    n = 4 if image is not None else 3
    fig, axes, _ = new_axes(None, 1, n, figsize=figsize or (3.3 * n, 3.0))
    draw_map(axes[0], channel_map(attr, "sum"), True)
    axes[0].set_title("raw (sum over channels)", fontsize="medium")
    draw_map(axes[1], ig_clip(attr, clip_above_percentile, clip_below_percentile), True, limit=1.0,
             label="IG clip: red +, blue −, white 0")
    axes[1].set_title(f"IG-repo mass clip ({clip_above_percentile:g}/{clip_below_percentile:g})",
                      fontsize="medium")
    agi = agi_clip(attr, lower, upper)
    draw_map(axes[2], agi, False, limit=1.0, label="AGI clip: 0 (white) to 1 (black)")
    axes[2].set_title(f"AGI_main percentile clip ({lower:g}–{upper:g})", fontsize="medium")
    if image is not None:
        img = to_image(image)
        if img.shape[:2] != agi.shape:
            raise ValueError(f"map {agi.shape} and image {img.shape[:2]} differ in size")
        axes[3].imshow(img * (agi[..., None] if img.ndim == 3 else agi), cmap="gray", vmin=0, vmax=1,
                       interpolation="nearest")
        axes[3].set_xticks([])
        axes[3].set_yticks([])
        axes[3].set_title("input × AGI-clipped map", fontsize="medium")
    return done(fig, True)
