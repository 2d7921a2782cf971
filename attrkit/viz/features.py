"""Attributions over named features: text tokens as coloured HTML, table columns as signed bars.

Same sign convention as the image maps: red = positive (raises F relative to the baseline), blue = negative,
white = zero; intensity = |score| / max |score|.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .images import SIGNED_CMAP, as_array, done, new_axes

_RED, _BLUE = matplotlib.colormaps[SIGNED_CMAP](0.95), matplotlib.colormaps[SIGNED_CMAP](0.05)


def _scores(scores, n: int) -> np.ndarray:
    s = as_array(scores).ravel()
    if s.size != n:
        raise ValueError(f"{n} tokens/features but {s.size} scores")
    if not np.isfinite(s).all():
        raise ValueError("scores contain NaN or inf; fix the attribution first (e.g. check the completeness gap)")
    return s


def token_colour(s: float) -> str:
    """s in [−1, 1] → CSS rgb: white → red for s > 0, white → blue for s < 0 (as ``results.heatmap_png``)."""
    pos, neg = max(s, 0.0), max(-s, 0.0)
    r, g, b = (round(255 * c) for c in (1 - neg, 1 - max(pos, neg), 1 - pos))
    return f"rgb({r},{g},{b})"


def text_html(tokens, scores, *, max_abs: float | None = None, title: str | None = None, legend: bool = True,
              digits: int = 3) -> str:
    """Tokens as HTML spans coloured by their attribution, with a legend; every token is HTML-escaped (Captum's
    ``visualize_text`` was not: captum#1226). Hover a token for its score. ``max_abs`` fixes the colour scale
    (default: the largest |score|, so the strongest token is full red or blue)."""
    tokens = [str(t) for t in tokens]
    s = _scores(scores, len(tokens))
    v = float(max_abs) if max_abs is not None else float(np.abs(s).max(initial=0.0))
    v = v if v > 0 else 1.0
    spans = []
    for tok, x in zip(tokens, s):
        t = float(np.clip(x / v, -1.0, 1.0))
        fg = "#fff" if abs(t) > 0.6 else "#000"
        spans.append(f'<span title="{x:+.{digits}g}" style="background-color:{token_colour(t)};color:{fg};'
                     f'padding:1px 3px;margin:1px;border-radius:3px;white-space:pre-wrap">{html.escape(tok)}</span>')
    head = f"<div style='font-weight:bold'>{html.escape(title)}</div>" if title else ""
    key = ""
    if legend:
        key = ("<div style='font-size:small;margin-top:4px'>"
               f"<span>−{v:.{digits}g}</span> <span style='display:inline-block;width:140px;height:10px;"
               f"vertical-align:middle;background:linear-gradient(to right,{token_colour(-1)},{token_colour(0)},"
               f"{token_colour(1)})'></span> <span>+{v:.{digits}g}</span> &nbsp;red: raises F, blue: lowers F "
               "(relative to the baseline), white: 0</div>")
    return f"<div class='attrkit-text' style='line-height:2'>{head}<div>{' '.join(spans)}</div>{key}</div>"


@dataclass
class TokenView:
    """Coloured tokens that Jupyter renders (``_repr_html_``); ``.html`` is the markup, ``.save(path)`` writes a
    standalone page."""
    tokens: list
    scores: np.ndarray
    max_abs: float | None = None
    title: str | None = None

    @property
    def html(self) -> str:
        return text_html(self.tokens, self.scores, max_abs=self.max_abs, title=self.title)

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"TokenView({len(self.tokens)} tokens, max |score| {float(np.abs(self.scores).max(initial=0)):.3g})"

    def save(self, path) -> None:
        Path(path).write_text(f"<!doctype html><meta charset='utf-8'><body>{self.html}</body>", encoding="utf-8")


def text_tokens(tokens, scores, *, max_abs: float | None = None, title: str | None = None) -> TokenView:
    """Tokens coloured by attribution, as an object Jupyter displays (see :func:`text_html`)."""
    tokens = [str(t) for t in tokens]
    return TokenView(tokens, _scores(scores, len(tokens)), max_abs, title)


def tabular_bars(values, feature_names=None, *, top: int | None = None, ax=None, title: str | None = None,
                 xlabel: str = "attribution") -> Figure:
    """Signed horizontal bars, one per feature, largest |value| on top; red raises F, blue lowers it.
    ``top`` keeps the ``top`` largest and reports what the rest add up to."""
    v = as_array(values).ravel()
    names = [str(n) for n in feature_names] if feature_names is not None else [f"x{i}" for i in range(v.size)]
    v = _scores(v, len(names))
    order = np.argsort(-np.abs(v), kind="stable")
    shown = order[:top] if top is not None else order
    fig, ax, owned = new_axes(ax, figsize=(5, 0.9 + 0.28 * len(shown)))
    y = np.arange(len(shown))
    ax.barh(y, v[shown], color=[_RED if x > 0 else _BLUE for x in v[shown]], edgecolor="0.3", linewidth=0.5)
    ax.set_yticks(y, [names[i] for i in shown], fontsize="small")
    ax.invert_yaxis()
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.legend(handles=[Patch(color=_RED, label="positive: raises F"), Patch(color=_BLUE, label="negative: lowers F")],
              fontsize="small")
    rest = v[order[len(shown):]]
    note = f" (top {len(shown)} of {v.size}; the rest sum to {rest.sum():+.3g})" if rest.size else ""
    ax.set_title((title if title is not None else "feature attributions") + note, fontsize="medium")
    return done(fig, owned)
