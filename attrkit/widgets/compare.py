"""Method comparison: IG, AGI, the gradient and gradient × input side by side on one input.

All four come from :mod:`attrkit.lab.methods` (one call shape). Each map is drawn with the kit's colours and its sum
is printed: IG's adds up to F(x) − F(x′) (completeness, IG paper Prop. 1), the gradient's does not (it is not
an attribution of a change), and AGI's explains the drop of the softmax probability along its walks.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch

from ..lab import methods as M
from ..viz.images import channel_map, cmap
from .ig import class_options
from .panels import (PANEL_PX, Display, Explorer, caption, class_label, image_png, limit_of, map_png, one_input,
                     panel, png)

DEFAULT_METHODS = ("ig", "agi", "gradient", "gradient_x_input")
NOTES = {"ig": "Σ = F(x) − F(x′) up to the delta", "agi": "explains the probability; no baseline",
         "gradient": "a slope, not a share of a change", "gradient_x_input": "Σ ≠ F(x) − F(x′) in general",
         "smoothgrad": "averaged gradient; ignores the baseline"}


class MethodComparison(Explorer):
    """Attribution maps of several methods for one input, side by side.

    ``model``, ``x``, ``target``, ``show``, ``class_names`` as in :class:`IGExplorer`; ``baseline``: x′ for the
    methods that use one (None: zeros); ``methods``: names from :data:`attrkit.lab.methods.METHODS` (or functions
    with the same call shape); ``options``: {name: keyword arguments} for a method.

    Controls (attributes): ``target`` (recomputes every method), ``scale`` (own or shared colour scale),
    ``percentile`` (clip each scale at this percentile of |map|), ``view`` (map, or map over the input).
    ``maps`` holds the attributions by method name.
    """

    css = "attrkit-compare"

    def __init__(self, model, x, target=None, baseline=None, methods=DEFAULT_METHODS, options: dict | None = None,
                 show=None, class_names=None):
        super().__init__()
        self.model, self.class_names, self.baseline = model, class_names, baseline
        self.x = one_input(model, x)
        self.methods = [M.get(m) for m in methods]
        self.options = options or {}
        choices, predicted = class_options(model, self.x, class_names)
        self.display_input = Display.spanning(show, self.x)
        row = dict(style={"description_width": "70px"})
        self.target = widgets.Dropdown(options=choices, value=predicted if target is None else int(target),
                                       description="target", layout=widgets.Layout(width="230px"), **row)
        self.scale = widgets.ToggleButtons(options=["own scale", "shared scale"], value="own scale",
                                           style={"button_width": "100px"})
        self.percentile = widgets.FloatSlider(value=99.5, min=90.0, max=100.0, step=0.5, description="clip at",
                                              readout_format=".1f", layout=widgets.Layout(width="300px"), **row)
        self.percentile.add_class("attrkit-percentile")
        self.view = widgets.ToggleButtons(options=["map", "over the input"], value="map",
                                          style={"button_width": "110px"})
        input_box, input_image, _ = panel("input x")
        input_image.value = image_png(self.display_input(self.x[0]))
        self.panels = {name: panel(M.TITLES.get(name, name)) for name, _ in self.methods}
        self.children = [
            widgets.HTML("<b>Methods side by side</b> (attrkit.methods: one call shape)"),
            widgets.HBox([self.target, self.scale, self.view]), self.percentile,
            self.readout, self.progress, self.error,
            widgets.HBox([input_box] + [box for box, _, _ in self.panels.values()]),
        ]
        self.target.observe(lambda change: self.recompute(), "value")
        for control in (self.scale, self.percentile, self.view):
            control.observe(lambda change: self.update(), "value")
        self.maps = {}
        self.recompute()

    def recompute(self):
        """Run every method for the current target."""
        with self.busy(len(self.methods) + 1):
            for name, fn in self.methods:
                self.maps[name] = fn(self.model, self.x, self.target.value, self.baseline,
                                     **self.options.get(name, {})).detach()
                self.advance()
            with torch.no_grad():
                base = M.resolve_baseline(self.baseline, self.x)
                self.f_x = float(self.model(self.x)[0, self.target.value])
                self.f_base = float(self.model(base)[0, self.target.value])
            self.update()

    def update(self):
        """Redraw the maps with the current scale, clipping and view (no model call)."""
        if not self.maps:
            return
        maps = {name: channel_map(a[0]) for name, a in self.maps.items()}
        q = float(self.percentile.value)
        shared = limit_of(np.stack(list(maps.values())), q)
        grey = self.display_input(self.x[0])
        grey = grey.mean(-1) if grey.ndim == 3 else grey
        for name, m in maps.items():
            _, image, text = self.panels[name]
            limit = shared if self.scale.value == "shared scale" else limit_of(m, q)
            if self.view.value == "map" or grey.shape != m.shape:
                image.value = map_png(m, limit)
            else:
                image.value = png(over(m, grey, limit), PANEL_PX)
            total = float(self.maps[name].sum())
            text.value = caption(M.TITLES.get(name, name), limit, f"Σ = {total:.4g}; {NOTES.get(name, '')}")
        self.readout.value = (f"explaining the logit of class {class_label(self.target.value, self.class_names)}: "
                              f"F(x) = {self.f_x:.4g}, F(x′) = {self.f_base:.4g}, F(x) − F(x′) = "
                              f"{self.f_x - self.f_base:.4g} · colour scales clipped at the {q:g}th percentile "
                              f"of |map| ({self.scale.value})")


def over(m: np.ndarray, grey: np.ndarray, limit: float, alpha: float = 0.85) -> np.ndarray:
    """The map over its input in grey: opacity grows with |attribution| (as :func:`attrkit.viz.overlay`)."""
    rgb = cmap(True)((np.clip(m / limit, -1, 1) + 1) / 2)[..., :3]
    a = alpha * np.clip(np.abs(m) / limit, 0, 1)[..., None]
    return (1 - a) * 0.6 * grey[..., None] + a * rgb  # the input dimmed, so that red and blue stand out
