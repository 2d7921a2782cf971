"""The IG explorer: the Distill baselines article's α-slider figure (Sturmfels, Lundberg & Lee 2020, Fig. 4),
live on any model.

Four linked panels for one input x, one baseline x′ and one node α_k of the quadrature rule (IG paper,
Sundararajan, Taly & Yan 2017, Eq. 3):

    the path point γ(α_k) = x′ + α_k (x − x′),      the gradient ∇F(γ(α_k)),
    the running attribution (x − x′) ⊙ Σ_{l≤k} w_l ∇F(γ(α_l)),
    and the sum so far Σ_{l≤k} w_l ∇F(γ(α_l))·(x − x′) against α, beside F(γ(α)) − F(x′) and F(x) − F(x′).

Everything a slider move shows is read from one trace (``integrated_gradients(..., record="full")``): the
trace is recomputed only when steps, method, output, target or baseline change.
"""
from __future__ import annotations

import html
import warnings

import ipywidgets as widgets
import numpy as np
import torch

from ..ig import baselines as B
from ..ig.path import integrated_gradients
from ..ig.quadrature import METHODS
from ..common.html import WARN
from ..common.renames import renamed
from ..viz.images import as_array
from .panels import (Display, Explorer, Plot, caption, class_label, image_png, limit_of, map_png, maps_of, labelled,
                     one_input, panel)

STEPS = (8, 16, 32, 50, 64, 128, 256)
RULES = METHODS + ("adaptive",)


def default_baselines(x: torch.Tensor) -> dict:
    """The baseline menu for an input (1, ...): the Distill article's set for images in [0, 1], zeros (and the
    input's blur, for any image) otherwise. Random baselines are seeded, one sample each."""
    image = x.dim() >= 3 and x.shape[-1] > 1 and x.shape[-2] > 1
    unit = bool(x.min() >= 0 and x.max() <= 1)
    menu = {"black (0)": B.black()} if unit else {"zeros": None}
    if unit:
        menu.update({"white (1)": B.white(), "uniform noise": B.UniformNoise(seed=0),
                     "gaussian noise (σ = 0.25)": B.GaussianNoise(0.25, seed=0), "max distance": B.MaxDistance()})
    if image:
        menu["blur (σ = 3)"] = B.Blur(3.0)
    return menu


def class_options(model, x, class_names=None) -> tuple[list, int]:
    """Dropdown options (label, class id) for every class, with the model's probability for x, and the
    predicted class."""
    with torch.no_grad():
        p = torch.softmax(model(x), 1)[0]
    return [(f"{class_label(j, class_names)}  (p = {float(p[j]):.2f})", j) for j in range(len(p))], int(p.argmax())


def baseline_menu(baseline, old_menu, default) -> tuple[dict, str]:
    """The explorers' baseline menu and the name shown first, from ``baseline=`` (a menu name, a menu
    {name: baseline}, or one baseline of any kind ``integrated_gradients`` takes) and the old ``baselines=`` menu."""
    if old_menu is not None:
        menu = dict(old_menu)
    elif isinstance(baseline, dict):
        menu, baseline = dict(baseline), None
    elif baseline is None or isinstance(baseline, str):
        menu = default()
    else:
        menu, baseline = {"yours": baseline}, None
    if not menu:
        raise ValueError("baseline must name at least one baseline: a menu {name: baseline} with entries")
    baseline = next(iter(menu)) if baseline is None else baseline
    if baseline not in menu:
        raise ValueError(f"baseline must be one of the menu's names {list(menu)}, a menu {{name: baseline}}, or a "
                         f"baseline itself; got {baseline!r}")
    return menu, baseline


class IGExplorer(Explorer):
    """α-scrubber with four linked panels, and controls for steps, method, output, target and baseline.

    ``model``: any classifier (eval mode) returning (N, C) scores; ``x``: one input, with or without its batch
    dimension of 1; ``target``: the class explained (None: the predicted one); ``baseline``: a name of the
    default menu (:func:`default_baselines`), anything ``integrated_gradients`` takes as baseline, or your own
    menu {name: baseline} (its first entry shown first); ``method``: the quadrature rule; ``show``: how to draw
    an input (one input → (H, W) or (H, W, 3) in [0, 1]).

    Controls (attributes): ``alpha`` (SelectionSlider over the rule's nodes: ``alpha.index`` = node k),
    ``steps``, ``method`` (the quadrature rule), ``output``, ``baseline``, ``target``. ``result`` is the current
    IGResult; ``update()`` redraws from it, ``recompute()`` runs IG again.
    """

    css = "attrkit-ig"
    title = ("<b>Integrated Gradients, one node at a time</b> (IG paper Eq. 3; after Distill's baselines article, "
             "Fig. 4)")

    def __init__(self, model, x, target=None, baseline=None, steps: int = 50, method: str = "riemann_trapezoid",
                 output: str = "logit", show=None, class_names=None, **old):
        super().__init__()
        old = renamed(old, type(self).__name__, rule="method", baselines="baseline")
        method = old.get("method", method)
        self.model, self.class_names, self.show = model, class_names, show
        self.x = self._one_input(model, x)
        self.menu, baseline = baseline_menu(baseline, old.get("baseline"), self._default_menu)
        if method not in RULES:
            raise ValueError(f"method must be one of {RULES}, got {method!r}")
        options, predicted = class_options(model, self.x, class_names)

        row = dict(style={"description_width": "60px"}, layout=widgets.Layout(width="230px"))
        self.alpha = widgets.SelectionSlider(options=[("0", 0.0)], description="α", continuous_update=True,
                                             style={"description_width": "60px"},
                                             layout=widgets.Layout(width="560px"))
        self.alpha.add_class("attrkit-alpha")
        self.steps = widgets.Dropdown(options=sorted(set(STEPS) | {steps}), value=steps, description="steps", **row)
        self.method = widgets.Dropdown(options=RULES, value=method, description="method", **row)
        self.output = widgets.ToggleButtons(options=["logit", "probability"], value=output,
                                            style={"button_width": "90px"})
        self.baseline = widgets.Dropdown(options=list(self.menu), value=baseline, description="baseline", **row)
        self.target = widgets.Dropdown(options=options, value=predicted if target is None else int(target),
                                       description="target", **row)

        self.curves = SumCurves()
        self.plot, self.ax = self.curves.plot, self.curves.ax
        self._sum, self._dot = self.curves.sum, self.curves.dot
        self.children = [
            widgets.HTML(self.title),
            widgets.HBox([self.steps, self.method, self.baseline]),
            widgets.HBox([self.target, labelled("output", self.output)]),
            self.alpha, self.readout, self.progress, self.error,
            *self._panels(),
        ]
        self._quiet = False
        self.alpha.observe(lambda change: self._quiet or self.update(), "index")
        for control in (self.steps, self.method, self.output, self.baseline, self.target):
            control.observe(lambda change: self.recompute(), "value")
        self.recompute()

    # ---- what a subclass changes (TextIGExplorer: token ids, embedding space, text panels) ---------------------

    def _one_input(self, model, x):
        return one_input(model, x)

    def _default_menu(self) -> dict:
        return default_baselines(self.x)

    def _panels(self) -> list:
        self.point_box, self.point_image, self.point_caption = panel("path point γ(α)")
        self.grad_box, self.grad_image, self.grad_caption = panel("gradient ∇F(γ(α))")
        self.run_box, self.run_image, self.run_caption = panel("running attribution")
        return [widgets.HBox([self.point_box, self.grad_box, self.run_box, self.plot.image])]

    def _run(self, **extra):
        return integrated_gradients(self.model, self.x, target=self.target.value,
                                    baseline=self.menu[self.baseline.value], steps=self.steps.value,
                                    method=self.method.value, output=self.output.value, record="full", progress=False,
                                    **extra)

    # ---- recomputation: one IG run with the full trace ----------------------------------------------------------

    def recompute(self):
        """Run IG for the current settings (record="full"), then redraw at the same α (as near as the new
        rule's nodes allow)."""
        old = self.alpha.value if self.alpha.options else 0.0
        with self.busy(3), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = self._run()
            self.advance()
            self._store(res)
            self.advance()
            self._quiet = True
            try:
                self.alpha.options = [(f"{a:.4f}", a) for a in self.alphas.tolist()]
                self.alpha.index = int(np.abs(self.alphas - old).argmin())
            finally:
                self._quiet = False
            self.curves.draw(self.alphas, self.scores - self.f_base, self.so_far, self.change, self.output.value)
            self.update()
        if caught:
            self.error.value += "".join(f"<div style='{WARN}'>⚠ {html.escape(str(w.message))}</div>"
                                        for w in caught)

    def _store(self, res):
        """Everything the panels need, as numpy, once per recomputation."""
        tr = res.trace
        self.result = res
        self.alphas, self.weights = (as_array(v) for v in tr.nodes(0))
        m = len(self.alphas)  # the adaptive rule's other rows (baseline samples) may have used more nodes
        self.scores = as_array(tr.scores[0, :m])
        self.so_far = as_array(tr.contributions[0, :m]).cumsum()
        self.f_x = float(res.score[0])
        self.f_base = res.baseline_score_of(0)  # the panels follow trace row 0: baseline sample 0
        self.gap = float(res.delta[0]) if res.samples == 1 else float(tr.gaps[0, -1])
        self.change = self.f_x - self.f_base
        self._store_panels(res)

    def _store_panels(self, res):
        tr = res.trace
        self.grad_maps, self.run_maps = maps_of(tr.gradients[0]), maps_of(tr.running[0])
        self.grad_limit, self.run_limit = limit_of(self.grad_maps, 99.9), limit_of(self.run_maps, 99.9)
        self.display_input = Display.spanning(self.show, self.x, res.baseline)
        self._ends = (res.baseline[0], res.inputs[0])
        self._cache = {}
        self.grad_caption.value = caption("gradient ∇F(γ(α))", self.grad_limit,
                                          "one scale along the whole path: white = flat (saturated)")
        self.run_caption.value = caption("running attribution", self.run_limit,
                                         "(x − x′) ⊙ Σ w ∇F up to α; at α = 1: IG")
        self.point_caption.value = caption("path point γ(α) = x′ + α(x − x′)",
                                           note=f"baseline: {self.baseline.value}")

    # ---- slider moves: read the stored trace ---------------------------------------------------------------------

    def _draw_panels(self, k: int, alpha: float):
        self.point_image.value, self.grad_image.value, self.run_image.value = self._pictures(k)

    def _pictures(self, k: int):
        if k not in self._cache:
            start, end = self._ends
            point = start + float(self.alphas[k]) * (end - start)
            self._cache[k] = (image_png(self.display_input(point)),
                              map_png(self.grad_maps[k], self.grad_limit),
                              map_png(self.run_maps[k], self.run_limit))
        return self._cache[k]

    def update(self):
        """Redraw every panel and the readout for node ``alpha.index`` (no model call)."""
        k = self.alpha.index
        if k is None or not hasattr(self, "alphas") or k >= len(self.alphas):
            return
        a, s = float(self.alphas[k]), float(self.so_far[k])
        self._draw_panels(k, a)
        self.curves.move(a, s)
        share = f" ({s / self.change:.0%})" if self.change != 0 else ""
        self.readout.value = (
            f"α = {a:.3f} · node {k + 1} of {len(self.alphas)} (weight {self.weights[k]:.3g}) · "
            f"F(γ(α)) = {self.scores[k]:.4g}<br>"
            f"<b>Σ so far = {s:.4g}</b> of F(x) − F(x′) = {self.change:.4g}{share} · "
            f"gap at the end (delta) = {self.gap:+.3g}"
            + (" (baseline sample 0)" if self.result.samples > 1 else ""))


class SumCurves:
    """The α plot of the IG explorers: F(γ(α)) − F(x′) (exact), Σ attributions so far, and F(x) − F(x′), with a
    cursor and a dot at the current node. Artists are made once and then only get new data (clearing the axes
    would rebuild them on every tick); ``move`` redraws only the cursor and the dot."""

    def __init__(self, figsize=(4.6, 2.9)):
        self.plot = Plot(figsize=figsize)
        self.ax = ax = self.plot.figure.add_axes((0.14, 0.17, 0.82, 0.72))
        self.exact, = ax.plot([], [], color="0.55", ls=":", lw=1.5, label="F(γ(α)) − F(x′), exact")
        self.sum, = ax.plot([], [], ".-", color="tab:red", ms=3, lw=1, label="Σ attributions so far")
        self.total = ax.axhline(0.0, color="tab:blue", ls="--", lw=1, label="F(x) − F(x′)")
        self.cursor = self.plot.animated(ax.axvline(0.0, color="k", lw=0.8))
        self.dot, = ax.plot([0.0], [0.0], "o", color="tab:red", ms=7, mec="k")
        self.plot.animated(self.dot)
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel("α", fontsize=9, labelpad=1)
        ax.tick_params(labelsize=8)
        ax.legend(handles=[self.exact, self.sum, self.total], fontsize=7, loc="lower right")

    def draw(self, alphas, exact, so_far, change: float, output: str):
        """New curves (after a recomputation): ``exact`` = F(γ(α_k)) − F(x′), ``so_far`` = Σ_{l≤k} contributions."""
        self.exact.set_data(alphas, exact)
        self.sum.set_data(alphas, so_far)
        self.total.set_ydata([change, change])
        self.ax.relim()
        self.ax.autoscale_view(scalex=False)
        self.ax.set_title(f"sum so far vs F(x) − F(x′)  ({output})", fontsize=9)
        self.plot.full()

    def move(self, alpha: float, so_far: float):
        self.cursor.set_xdata([alpha, alpha])
        self.dot.set_data([alpha], [so_far])
        self.plot.frame()
