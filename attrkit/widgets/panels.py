"""The parts every explorer is built from: panels that are PNG bytes in a ``widgets.Image``, and a base class.

Why PNG panels: a slider move must redraw in well under 100 ms, in JupyterLab, Voilà and a headless browser
alike, with stock ipywidgets only. So

- maps (inputs, gradients, attributions) are coloured with the kit's colormap and encoded by PIL directly
  (about a millisecond for a 28×28 map): :func:`map_png`, :func:`image_png`;
- curves are a matplotlib figure drawn once per recomputation; a slider move only redraws its *moving* artists
  (a marker, a line) over a saved copy of the rest (blitting): :class:`Plot`.

Colours are the kit's (:mod:`attrkit.viz.images`): red = positive, blue = negative, white = zero, on a symmetric
scale; each map's caption states its scale.
"""
from __future__ import annotations

import contextlib
import html
import io

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from PIL import Image

from ..common.html import ERROR
from ..viz.images import as_array, channel_map, cmap, to_image

PANEL_PX = 168  # maps are upscaled (nearest neighbour) to about this many pixels on their longer side


# ---- PNG encoding --------------------------------------------------------------------------------------------

def png(rgb: np.ndarray, size: int | None = PANEL_PX) -> bytes:
    """(H, W, 3|4) floats in [0, 1] or uint8 → PNG bytes, upscaled by an integer factor to about ``size`` px."""
    a = rgb if rgb.dtype == np.uint8 else (np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)
    img = Image.fromarray(np.ascontiguousarray(a))
    h, w = a.shape[:2]
    k = max(1, (size or 0) // max(h, w))
    if k > 1:
        img = img.resize((w * k, h * k), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def map_png(m: np.ndarray, limit: float, signed: bool = True, size: int | None = PANEL_PX) -> bytes:
    """A 2-D map on the kit's colour scale ([−limit, limit] signed, [0, limit] absolute) as PNG bytes."""
    limit = limit if limit > 0 else 1.0
    norm = Normalize(-limit, limit) if signed else Normalize(0.0, limit)
    return png(cmap(signed)(norm(np.ma.masked_invalid(m)))[..., :3], size)


def image_png(img: np.ndarray, size: int | None = PANEL_PX) -> bytes:
    """An input as :func:`attrkit.viz.to_image` gives it ((H, W) grey or (H, W, 3), in [0, 1]) as PNG bytes."""
    return png(np.repeat(img[..., None], 3, -1) if img.ndim == 2 else img, size)


def limit_of(maps, percentile: float = 100.0) -> float:
    """One symmetric colour limit for a stack of maps: the ``percentile`` of |value| (never 0)."""
    a = np.abs(as_array(maps))
    a = a[np.isfinite(a)]
    v = float(np.percentile(a, percentile)) if a.size else 0.0
    if not v > 0 and a.size:
        v = float(a.max())
    return v if v > 0 else 1.0


def maps_of(stack, reduce: str = "sum") -> np.ndarray:
    """(m, ...) attributions or gradients → (m, H, W) maps (channels summed, as in :func:`viz.channel_map`)."""
    a = as_array(stack)
    return np.stack([channel_map(row, reduce) for row in a]) if len(a) else np.zeros((0, 1, 1))


class Display:
    """How inputs are drawn: ``show(x)`` (one input without batch dim → (H, W) or (H, W, 3) in [0, 1]), or by
    default :func:`attrkit.viz.to_image` on one fixed value range for every point of a path, so a point halfway
    to a black baseline looks half as bright (not rescaled to full contrast)."""

    def __init__(self, show=None, lo: float = 0.0, hi: float = 1.0):
        self.show, self.lo, self.hi = show, lo, hi

    @classmethod
    def spanning(cls, show, *tensors):
        values = torch.cat([t.detach().reshape(-1).float().cpu() for t in tensors])
        lo, hi = float(values.min()), float(values.max())
        return cls(show, 0.0, 1.0) if lo >= 0 and hi <= 1 else cls(show, lo, hi)

    def __call__(self, x) -> np.ndarray:
        if self.show is not None:
            return np.asarray(self.show(x), dtype=np.float64)
        return to_image(x, self.lo, self.hi)


# ---- captions ------------------------------------------------------------------------------------------------

_SWATCH = ("<span style='display:inline-block;width:44px;height:8px;vertical-align:middle;"
           "background:linear-gradient(to right,#0000ff,#ffffff,#ff0000)'></span>")


def caption(title: str, limit: float | None = None, note: str = "") -> str:
    """A panel's title, and for signed maps its scale: "−v [blue–white–red] +v"."""
    scale = "" if limit is None else f"<br>{-limit:.3g} {_SWATCH} {limit:+.3g}"
    extra = f"<br><span style='color:var(--jp-content-font-color2, #4d4d4d)'>{html.escape(note)}</span>" if note else ""
    return f"<div style='font-size:12px;line-height:1.3'><b>{html.escape(title)}</b>{scale}{extra}</div>"


def panel(title: str, width: int = PANEL_PX + 16):
    """(container, image widget, caption widget): one picture with its caption underneath."""
    # a thin frame, so that a white image (the white baseline, a saturated map) is still seen as a picture
    image = widgets.Image(format="png", layout=widgets.Layout(width=f"{PANEL_PX}px", height="auto",
                                                               border="1px solid #bbb"))
    text = widgets.HTML(caption(title), layout=widgets.Layout(width=f"{width}px"))
    return widgets.VBox([image, text], layout=widgets.Layout(width=f"{width}px", margin="2px")), image, text


# ---- curves, with blitting -------------------------------------------------------------------------------------

class Plot:
    """A small matplotlib figure shown as PNG. ``full()`` draws everything (after the static artists changed)
    and keeps the picture without the *moving* artists; ``frame()`` pastes that back and draws only the moving
    ones (artists created with ``animated=True``), which is what makes a slider move cheap."""

    def __init__(self, figsize=(4.4, 2.9), dpi: int = 80):
        self.figure = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.moving: list = []
        self._background = None
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{round(figsize[0] * dpi)}px",
                                                                       height="auto"))

    def animated(self, artist):
        """Register an artist that moves with the slider (drawn by ``frame()`` only)."""
        artist.set_animated(True)
        self.moving.append(artist)
        return artist

    def full(self) -> bytes:
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        return self.frame()

    def frame(self) -> bytes:
        if self._background is None:
            return self.full()
        self.canvas.restore_region(self._background)
        for artist in self.moving:
            if artist.get_visible():
                artist.axes.draw_artist(artist)
        w, h = self.canvas.get_width_height()
        img = Image.frombuffer("RGBA", (w, h), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=1)
        data = buf.getvalue()
        self.image.value = data
        return data


# ---- the base class --------------------------------------------------------------------------------------------

class Explorer(widgets.VBox):
    """A VBox with a readout line, a progress bar for recomputations and an error line.

    Subclasses store what they computed, then ``update()`` redraws from it (what slider moves call) and
    ``recompute()`` runs the method again (what parameter changes call, showing progress).
    """

    css = "attrkit-explorer"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_class("attrkit-explorer")
        self.add_class(self.css)
        self.readout = widgets.HTML(layout=widgets.Layout(min_height="2.6em"))
        self.readout.add_class("attrkit-readout")
        self.progress = widgets.IntProgress(value=0, min=0, max=3, description="computing",
                                            bar_style="info", layout=widgets.Layout(visibility="hidden"))
        self.error = widgets.HTML()
        self.recomputations = 0

    @contextlib.contextmanager
    def busy(self, stages: int = 3):
        """Show the progress bar while a recomputation runs; a ValueError/TypeError from the method (e.g. an
        impossible combination of settings) is shown in the error line instead of escaping into a callback."""
        self.progress.max, self.progress.value = stages, 0
        self.progress.layout.visibility = "visible"
        self.error.value = ""
        try:
            yield self.progress
            self.recomputations += 1
        except (ValueError, TypeError) as e:
            self.error.value = f"<div style='{ERROR}'>{html.escape(str(e))}</div>"
        finally:
            self.progress.value = self.progress.max
            self.progress.layout.visibility = "hidden"

    def advance(self):
        """Advance the progress bar by one stage."""
        self.progress.value = min(self.progress.value + 1, self.progress.max)


def labelled(text: str, control, width: str = "64px"):
    """A control with its name on the left (ToggleButtons put their description above the buttons)."""
    return widgets.HBox([widgets.Label(text, layout=widgets.Layout(width=width)), control],
                        layout=widgets.Layout(align_items="center"))


def one_input(model, x: torch.Tensor) -> torch.Tensor:
    """``x`` of one input, with or without its batch dimension of 1 → a batch (1, ...) the model accepts.

    An MNIST image (1, 28, 28) is ambiguous (channel or batch?), so the model decides: ``x[None]`` is tried
    first and kept if the model returns one row of class scores, else ``x`` itself if it is a batch of one.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor (one input), got {type(x).__name__}")
    candidates = [x.unsqueeze(0)] + ([x] if x.dim() >= 1 and x.shape[0] == 1 else [])
    for c in candidates:
        try:
            with torch.no_grad():
                out = model(c)
        except Exception:  # noqa: BLE001 - any failure means "not this shape"
            continue
        if isinstance(out, torch.Tensor) and out.dim() == 2 and out.shape[0] == 1:
            return c.detach()
    raise ValueError(f"the model accepts neither x{tuple(x.shape)} nor x[None] as a batch of one input "
                     "returning (1, classes) scores; pass one input of the shape the model expects")


def class_label(j: int, class_names=None) -> str:
    """``class_names[j]`` if given (list or dict), else the id."""
    try:
        return str(class_names[j]) if class_names is not None else str(j)
    except (IndexError, KeyError):
        return str(j)
