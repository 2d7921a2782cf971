"""The baseline playground: one input, many baselines x′, side by side (after the Distill article "Visualizing
the Impact of Feature Attribution Baselines", Sturmfels, Lundberg & Lee 2020).

One row per baseline: x′ itself, what the model makes of it (its prediction and the entropy of its softmax: the
IG authors' howto asks for a baseline the model is unsure about), the IG map it leads to, and its *blind spot*:
the features where x ≈ x′. IG multiplies by (x − x′), so a feature equal to its baseline value gets no
attribution whatever the model does with it (a black baseline can never credit black pixels).
"""
from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch

from ..ig import baselines as B
from ..ig.path import integrated_gradients
from ..common.renames import renamed
from ..viz.images import as_array, channel_map
from .ig import class_options, default_baselines
from .panels import (PANEL_PX, Display, Explorer, caption, class_label, image_png, labelled, limit_of, map_png,
                     one_input, png)

BLIND = np.array([1.0, 0.75, 0.0])  # amber: the blind-spot features in the mask panels


class BaselinePlayground(Explorer):
    """Baselines side by side: x′, its prediction and entropy, the IG map, the blind-spot mask.

    ``model``, ``x``, ``target``, ``show``, ``class_names`` as in :class:`IGExplorer`; ``baseline``: your own menu
    {name: baseline} (default: :func:`default_baselines`, plus a constant whose value the ``constant`` slider
    sets, and a blur whose σ the ``sigma`` slider sets, for images in [0, 1]). IG runs with ``steps`` nodes of
    ``method`` (the quadrature rule).

    Every IG map has its colour key underneath (:func:`widgets_panels.caption`: −v, blue–white–red, +v).

    Controls (attributes): ``tolerance`` (|x − x′| ≤ tolerance counts as blind), ``scale`` (each map on its own
    colour scale, or one shared), ``output`` (logit/probability), ``constant``, ``sigma``. ``rows`` holds, per
    baseline name, the IGResult, the prediction and entropy at x′ and the blind-spot numbers.
    """

    css = "attrkit-baselines"

    def __init__(self, model, x, target=None, baseline: dict | None = None, steps: int = 32,
                 method: str = "gausslegendre", output: str = "logit", tolerance: float = 0.05, show=None,
                 class_names=None, **old):
        super().__init__()
        old = renamed(old, "BaselinePlayground", rule="method", baselines="baseline")
        method, baselines = old.get("method", method), old.get("baseline", baseline)
        if baselines is not None and not isinstance(baselines, dict):
            raise TypeError(f"baseline must be a menu {{name: baseline}} of the baselines to compare, got "
                            f"{type(baselines).__name__}")
        self.model, self.class_names, self.steps, self.method = model, class_names, steps, method
        self.x = one_input(model, x)
        options, predicted = class_options(model, self.x, class_names)
        self.target = predicted if target is None else int(target)
        unit = bool(self.x.min() >= 0 and self.x.max() <= 1)
        image = self.x.dim() >= 3
        self.menu = dict(baselines) if baselines is not None else default_baselines(self.x)
        self.live = baselines is None and unit  # the two rows the sliders drive
        style = dict(style={"description_width": "80px"}, layout=widgets.Layout(width="300px"))
        self.tolerance = widgets.FloatSlider(value=tolerance, min=0.0, max=0.5, step=0.01, description="tolerance",
                                             readout_format=".2f", **style)
        self.tolerance.add_class("attrkit-tolerance")
        self.scale = widgets.ToggleButtons(options=["own scale", "shared scale"], value="own scale",
                                           style={"button_width": "100px"})
        self.output = widgets.ToggleButtons(options=["logit", "probability"], value=output,
                                            style={"button_width": "90px"})
        self.constant = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="constant c",
                                            continuous_update=False, **style)
        self.sigma = widgets.FloatSlider(value=3.0, min=0.5, max=8.0, step=0.5, description="blur σ",
                                         continuous_update=False, **style)
        if self.live:
            self.menu = {k: v for k, v in self.menu.items() if not k.startswith("blur")}
            self.menu["constant c"] = B.Constant(self.constant.value)
            if image:
                self.menu["blur σ"] = B.Blur(self.sigma.value)
        self.display_input = Display.spanning(show, self.x)
        self.cells = {name: self._row_widgets() for name in self.menu}
        head = ["baseline x′", "the model at x′", "IG attributions", "blind spot: x ≈ x′ (amber)"]
        header = widgets.HBox([widgets.HTML(f"<b>{h}</b>", layout=widgets.Layout(width=w))
                               for h, w in zip(head, ("190px", "300px", "190px", "190px"))])
        x_label = widgets.HTML(f"<b>input x</b>: class {options[predicted][0]}; explaining "
                               f"{class_label(self.target, class_names)}")
        controls = [self.tolerance, self.scale] + ([self.constant, self.sigma] if self.live else [])
        self.children = [
            widgets.HTML("<b>Baseline playground</b> (IG paper §3; Distill, Sturmfels, Lundberg & Lee 2020)"),
            widgets.HBox([widgets.Image(value=image_png(self.display_input(self.x[0])),
                                        layout=widgets.Layout(width="84px")), x_label]),
            widgets.HBox(controls[:2] + [labelled("output", self.output)]), widgets.HBox(controls[2:]),
            self.readout, self.progress, self.error, header,
            *[widgets.HBox([c["baseline"], c["text"], widgets.VBox([c["attribution"], c["key"]]), c["blind"]],
                           layout=widgets.Layout(align_items="flex-start"))  # pictures keep their aspect
              for c in self.cells.values()],
        ]
        self.tolerance.observe(lambda change: self.update(("blind",)), "value")
        self.scale.observe(lambda change: self.update(("attribution",)), "value")
        self.output.observe(lambda change: self.recompute(), "value")
        self.constant.observe(lambda change: self._retune("constant c", B.Constant(change["new"])), "value")
        self.sigma.observe(lambda change: self._retune("blur σ", B.Blur(change["new"])), "value")
        self.rows = {}
        self.recompute()

    @staticmethod
    def _row_widgets():
        box = dict(layout=widgets.Layout(width="190px"))
        framed = dict(layout=widgets.Layout(width="190px", border="1px solid #bbb"))  # a white baseline stays visible
        return dict(baseline=widgets.Image(format="png", **framed),
                    text=widgets.HTML(layout=widgets.Layout(width="300px")),
                    attribution=widgets.Image(format="png", **box), key=widgets.HTML(**box),
                    blind=widgets.Image(format="png", **box))

    # ---- recomputation: IG once per baseline ------------------------------------------------------------------

    def recompute(self, names=None):
        """Run IG for every baseline (or only ``names``), then redraw."""
        names = list(self.menu) if names is None else names
        with self.busy(len(names) + 1):
            for name in names:
                self.rows[name] = self._run(name)
                self.advance()
            self.update()

    def _retune(self, name, baseline):
        if name in self.menu:
            self.menu[name] = baseline
            self.recompute([name])

    def _run(self, name) -> dict:
        res = integrated_gradients(self.model, self.x, target=self.target, baseline=self.menu[name],
                                   steps=self.steps, method=self.method, output=self.output.value, record="none",
                                   progress=False)
        base = res.baseline if res.samples == 1 else res.baseline[0]
        with torch.no_grad():
            p = torch.softmax(self.model(base), 1)[0]
        entropy = float(-(p * torch.log(p.clamp_min(1e-30))).sum())
        return dict(result=res, baseline=base[0], prediction=int(p.argmax()), p=float(p.max()),
                    entropy=entropy, max_entropy=math.log(len(p)), map=channel_map(res.attributions[0]),
                    gap=as_array(torch.abs(self.x[0] - base[0])), attr=as_array(res.attributions[0]))

    # ---- redraw (tolerance and scale need no model call) ------------------------------------------------------

    def blind(self, name) -> tuple[np.ndarray, float, float]:
        """(mask of blind features, their share of all features, their share of Σ|IG|) for one baseline."""
        row = self.rows[name]
        mask = row["gap"] <= self.tolerance.value
        mass = np.abs(row["attr"]).sum()
        share = float(np.abs(row["attr"])[mask].sum() / mass) if mass > 0 else 0.0
        return mask, float(mask.mean()), share

    def update(self, parts=("baseline", "attribution", "blind")):
        """Redraw the rows from the stored IG results: all of them, or only some columns (the tolerance slider
        redraws the blind spots, the scale buttons the maps; no model call either way)."""
        if not self.rows:
            return
        shared = limit_of(np.stack([r["map"] for r in self.rows.values()]), 99.9)
        grey = self.display_input(self.x[0])
        grey = grey.mean(-1) if grey.ndim == 3 else grey
        blind_shares = []
        for name, row in self.rows.items():
            cells = self.cells[name]
            limit = shared if self.scale.value == "shared scale" else limit_of(row["map"], 99.9)
            mask, share, mass = self.blind(name)
            blind_shares.append(share)
            if "baseline" in parts:
                cells["baseline"].value = image_png(self.display_input(row["baseline"]), PANEL_PX)
            if "attribution" in parts:
                cells["attribution"].value = map_png(row["map"], limit)
                cells["key"].value = caption("IG map", limit, f"red +, blue −, white 0 ({self.scale.value})")
            if "blind" in parts:
                pixel_mask = mask.all(0) if mask.ndim == 3 else mask.reshape(grey.shape)
                picture = np.repeat(grey[..., None], 3, -1) * 0.8
                picture[pixel_mask] = BLIND
                cells["blind"].value = png(picture, PANEL_PX)
            res = row["result"]
            cells["text"].value = (
                f"<div style='font-size:12px;line-height:1.45'><b>{name}</b><br>"
                f"predicts {class_label(row['prediction'], self.class_names)} (p = {row['p']:.2f}); entropy "
                f"{row['entropy']:.2f} of at most {row['max_entropy']:.2f} nats<br>"
                f"F(x) − F(x′) = {float(res.score[0] - res.baseline_score[0]):.4g}; Σ IG = "
                f"{float(res.attributions.sum()):.4g}<br>"
                f"map scale ±{limit:.3g}<br>"
                f"blind: {share:.0%} of features, holding {mass:.1%} of Σ|IG|</div>")
        self.readout.value = (f"{self.output.value} of class {class_label(self.target, self.class_names)} · "
                              f"blind-spot tolerance |x − x′| ≤ {self.tolerance.value:.2f} · "
                              f"blind share from {min(blind_shares):.0%} to {max(blind_shares):.0%} of features")
