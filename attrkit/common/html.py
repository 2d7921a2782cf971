"""How results show themselves in Jupyter: a compact HTML table, a small signed heatmap, short number text.

No matplotlib here: the core stays free of plotting.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import torch


def heatmap_png(attr: torch.Tensor, size: int = 96) -> str:
    """A signed attribution map as a small base64 PNG: red positive, blue negative, white zero.

    Channels are summed (the usual reduction for images); the colour scale is symmetric so zero stays white.
    """
    from PIL import Image

    a = attr.detach().float().cpu()
    if a.dim() == 3:
        a = a.sum(0)
    if a.dim() == 1:
        a = a.unsqueeze(0)
    if a.dim() != 2:
        return ""
    scale = a.abs().max().clamp_min(1e-12)
    v = (a / scale).clamp(-1, 1).numpy()
    pos, neg = np.clip(v, 0, 1), np.clip(-v, 0, 1)
    rgb = np.stack([1 - neg, 1 - np.maximum(pos, neg), 1 - pos], -1)  # the kit's convention: red +, blue −
    img = Image.fromarray((rgb * 255).astype(np.uint8))
    h, w = v.shape
    k = max(1, size // max(h, w))
    img = img.resize((w * k, h * k), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


# Colours that read in JupyterLab Light and Dark and on a projector: text and background both come from
# JupyterLab's theme variables (fallbacks for other front ends set both, so the pair always contrasts). Text on
# a colour of the kit's own (verdict cells, heatmap cells) is INK, whatever the theme.
FG = "var(--jp-content-font-color1, #1a1a1a)"
BG = "var(--jp-layout-color0, #ffffff)"
MUTED = "var(--jp-content-font-color2, #4d4d4d)"   # captions: ≥ 4.5 : 1 on BG in both themes
# warnings and errors: the theme's text colour, marked by a coloured bar (orange or red text fails in one theme)
WARN = "color:var(--jp-content-font-color1, #1a1a1a);border-left:4px solid var(--jp-warn-color1, #ff9800);padding-left:6px"
ERROR = "color:var(--jp-content-font-color1, #1a1a1a);border-left:4px solid var(--jp-error-color1, #f44336);padding-left:6px"
INK = "#1a1a1a"


def themed(inner: str, style: str = "") -> str:
    """``inner`` in a block that sets its own text and background colours (from the theme when there is one)."""
    return f"<div style='color:{FG};background:{BG};{style}'>{inner}</div>"


def html_summary(title: str, rows: list[tuple[str, str]], images: list[tuple[str, str]] = ()) -> str:
    """A compact table of (name, value) rows and optional captioned base64 PNGs, for ``_repr_html_``."""
    import html

    body = "".join(f"<tr><td style='text-align:left'><b>{html.escape(k)}</b></td>"
                   f"<td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in rows)
    figs = "".join(f"<figure style='display:inline-block;margin:4px'><img src='data:image/png;base64,{png}'/>"
                   f"<figcaption style='font-size:small;color:{MUTED}'>{html.escape(cap)}</figcaption></figure>"
                   for cap, png in images if png)
    return themed(f"<b>{html.escape(title)}</b><table>{body}</table>{figs}")


def fmt(t, digits: int = 4) -> str:
    """Short text for a tensor of a few numbers (shape for big ones)."""
    if isinstance(t, torch.Tensor):
        if t.numel() <= 6:
            return np.array2string(t.detach().cpu().numpy(), precision=digits, separator=", ")
        return f"tensor{tuple(t.shape)}"
    return str(t)
