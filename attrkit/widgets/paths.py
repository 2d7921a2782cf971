"""The 2-D path explorer: both methods' paths drawn on a function of two features.

IG integrates the gradient of the explained score F_i along the straight line from a baseline x′ to the input x
(IG paper, Eq. 1); AGI integrates it along steepest-ascent walks from x towards each false class j (AGI paper,
Algorithm 1). With two features both are pictures: contours of F_i, the IG line, the AGI walks (each step
ε·sign(∇f_j) moves diagonally: an L∞ step), and ∇F_i as arrows along them, next to the attributions they give.

The default model, :class:`Bumps`, is a three-class toy; any model of two features returning (N, C) works.
Every change reruns IG and AGI, which on a toy takes milliseconds.
"""
from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.lines import Line2D
from torch import nn

from ..agi.walk import agi
from ..ig.path import integrated_gradients
from ..viz.images import as_array
from .panels import Explorer, Plot, class_label, labelled

COLOURS = ("tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:red")


class Bumps(nn.Module):
    """Three classes on two features: logit_c(x) = h·exp(−‖x − μ_c‖² / (2w²)), float64.

    Far from every bump all logits are ~0, so the softmax says 1/3 each (a natural "no information" baseline);
    near a bump its class's probability saturates, and its gradient fades: the 2-D picture of IG's motivation.
    """

    def __init__(self, centres=((-1.5, -1.0), (1.5, -1.0), (0.0, 1.5)), height: float = 4.0, width: float = 1.0):
        super().__init__()
        self.register_buffer("centres", torch.tensor(centres, dtype=torch.float64))
        self.height, self.width = float(height), float(width)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d2 = ((x.to(torch.float64)[:, None, :] - self.centres[None]) ** 2).sum(-1)
        return self.height * torch.exp(-d2 / (2 * self.width ** 2))


class PathExplorer2D(Explorer):
    """Contours of F_i over two features, IG's straight path from x′ to x, AGI's walks from x towards every
    false class, ∇F_i arrows along both, and the attributions.

    ``model``: a model of two features, (N, 2) → (N, C) (default :class:`Bumps`); ``x``, ``baseline``: two
    numbers each; ``box``: (x1_min, x1_max, x2_min, x2_max), the plotted region, also AGI's bounds.

    Controls (attributes): ``x1``, ``x2``, ``b1``, ``b2`` (input and baseline), ``target``, ``output``,
    ``steps`` (IG nodes), ``epsilon``, ``max_steps``, ``mode`` (AGI). ``ig`` and ``agi`` hold the results.
    """

    css = "attrkit-paths"

    def __init__(self, model=None, x=(-1.2, -0.6), baseline=(1.6, 2.6), target=None, steps: int = 12,
                 epsilon: float = 0.15, max_steps: int = 30, mode: str = "paper", output: str = "probability",
                 box=(-3.0, 3.0, -3.0, 3.0), class_names=None, grid: int = 121):
        super().__init__()
        self.model = Bumps() if model is None else model
        self.box, self.class_names = tuple(float(b) for b in box), class_names
        lo1, hi1, lo2, hi2 = self.box
        with torch.no_grad():
            classes = self.model(torch.tensor([list(x)], dtype=torch.float64)).shape[1]
        slider = lambda v, lo, hi, name: widgets.FloatSlider(value=v, min=lo, max=hi, step=0.05, description=name,
                                                             style={"description_width": "70px"},
                                                             layout=widgets.Layout(width="280px"))
        self.x1, self.x2 = slider(x[0], lo1, hi1, "input x₁"), slider(x[1], lo2, hi2, "input x₂")
        self.b1 = slider(baseline[0], lo1, hi1, "baseline x′₁")
        self.b2 = slider(baseline[1], lo2, hi2, "baseline x′₂")
        self.x1.add_class("attrkit-x1")
        row = dict(style={"description_width": "70px"}, layout=widgets.Layout(width="280px"))
        with torch.no_grad():
            start = int(self.model(torch.tensor([list(x)], dtype=torch.float64)).argmax())
        self.target = widgets.Dropdown(options=[(class_label(j, class_names), j) for j in range(classes)],
                                       value=start if target is None else int(target), description="explain i", **row)
        self.output = widgets.ToggleButtons(options=["logit", "probability"], value=output,
                                            style={"button_width": "90px"})
        self.mode = widgets.ToggleButtons(options=["paper", "reference"], value=mode, style={"button_width": "90px"})
        self.steps = widgets.IntSlider(value=steps, min=2, max=64, description="IG steps", **row)
        self.epsilon = widgets.FloatSlider(value=epsilon, min=0.02, max=0.5, step=0.01, description="AGI ε", **row)
        self.max_steps = widgets.IntSlider(value=max_steps, min=1, max=100, description="AGI steps", **row)
        self.table = widgets.HTML()
        self.plot = Plot(figsize=(5.2, 4.6), dpi=80)
        self.ax = self.plot.figure.add_axes((0.1, 0.09, 0.86, 0.84))
        g1, g2 = np.linspace(lo1, hi1, grid), np.linspace(lo2, hi2, grid)
        self.grid = np.meshgrid(g1, g2)
        self._points = torch.tensor(np.column_stack([self.grid[0].ravel(), self.grid[1].ravel()]))
        self.children = [
            widgets.HTML("<b>Paths in two dimensions</b>: IG's straight line (IG paper Eq. 1) and AGI's ascent "
                         "walks (AGI paper Algorithm 1) on the contours of the explained score"),
            widgets.HBox([self.x1, self.x2, self.target]),
            widgets.HBox([self.b1, self.b2, labelled("F_i is the", self.output, "70px")]),
            widgets.HBox([self.steps, self.epsilon, self.max_steps]), labelled("AGI mode", self.mode, "70px"),
            self.readout, self.progress, self.error, widgets.HBox([self.plot.image, self.table]),
        ]
        self._contours_for = None
        for control in (self.x1, self.x2, self.b1, self.b2, self.steps, self.epsilon, self.max_steps, self.mode,
                        self.target, self.output):
            control.observe(lambda change: self.recompute(), "value")
        self.recompute()

    # ---- the field and its contours (redrawn only when the explained score changes) ---------------------------

    def _score(self, logits):
        f = logits if self.output.value == "logit" else torch.softmax(logits, 1)
        return f[:, self.target.value]

    def _draw_contours(self):
        key = (self.target.value, self.output.value)
        if key == self._contours_for:
            return
        with torch.no_grad():
            z = as_array(self._score(self.model(self._points))).reshape(self.grid[0].shape)
        ax = self.ax
        ax.clear()
        filled = ax.contourf(*self.grid, z, levels=14, cmap="Greys", alpha=0.55)
        ax.contour(*self.grid, z, levels=filled.levels, colors="0.45", linewidths=0.5)
        ax.set_xlim(self.box[:2])
        ax.set_ylim(self.box[2:])
        ax.set_aspect("equal")
        ax.set_xlabel("x₁", fontsize=9, labelpad=1)
        ax.set_ylabel("x₂", fontsize=9, labelpad=1)
        ax.tick_params(labelsize=8)
        i = class_label(self.target.value, self.class_names)
        ax.set_title(f"contours of F_i = {self.output.value} of class {i}; arrows ∇F_i", fontsize=9)
        # the legend is part of the background: built once, with stand-in artists (a legend costs more to draw
        # than everything else that moves)
        proxies = [Line2D([], [], color="tab:blue", marker="o", ms=3, label="IG path (nodes)"),
                   Line2D([], [], color="tab:blue", marker="s", ls="", mec="k", label="baseline x′"),
                   Line2D([], [], color="tab:red", marker="D", ls="", mec="k", label="input x")]
        others = [j for j in range(len(self.target.options)) if j != self.target.value]
        proxies += [Line2D([], [], color=COLOURS[n % len(COLOURS)], marker=".",
                           label=f"AGI walk → j = {class_label(j, self.class_names)}") for n, j in enumerate(others)]
        proxies.append(Line2D([], [], color="k", marker="*", ls="", ms=9, label="walk reached j"))
        ax.legend(handles=proxies, fontsize=7, loc="lower left")
        self.plot.moving = []
        self.plot.full()  # the background: contours and legend
        self._contours_for = key

    # ---- recomputation: IG and AGI on the toy (milliseconds) ---------------------------------------------------

    def recompute(self):
        """Rerun IG and AGI for the current controls and redraw the paths (the contours are kept)."""
        x = torch.tensor([[self.x1.value, self.x2.value]], dtype=torch.float64)
        base = torch.tensor([[self.b1.value, self.b2.value]], dtype=torch.float64)
        lo1, hi1, lo2, hi2 = self.box
        bounds = (torch.tensor([lo1, lo2], dtype=torch.float64), torch.tensor([hi1, hi2], dtype=torch.float64))
        with self.busy(3):
            self.ig = integrated_gradients(self.model, x, target=self.target.value, baseline=base,
                                           steps=self.steps.value, method="riemann_middle", output=self.output.value,
                                           record="full", progress=False)
            self.advance()
            self.agi = agi(self.model, x, target=self.target.value, classes="all", epsilon=float(self.epsilon.value),
                           max_steps=self.max_steps.value, mode=self.mode.value,
                           output="logit" if self.output.value == "logit" else "probability", bounds=bounds,
                           record="full", progress=False)
            self.advance()
            self.update()

    def _gradients(self, points: torch.Tensor) -> np.ndarray:
        p = points.detach().to(torch.float64).requires_grad_()
        (g,) = torch.autograd.grad(self._score(self.model(p)).sum(), p)
        return as_array(g)

    def update(self):
        """Draw the paths and arrows over the stored contours, and the attribution table."""
        self._draw_contours()
        ax = self.ax
        for artist in self.plot.moving:
            artist.remove()
        self.plot.moving = []
        add = self.plot.animated
        ig, res = self.ig, self.agi
        start, end = as_array(ig.baseline[0]), as_array(ig.inputs[0])
        nodes = as_array(ig.path_points()[0])
        add(ax.plot(*np.column_stack([start, end]), "-", color="tab:blue", lw=1.5)[0])
        add(ax.plot(nodes[:, 0], nodes[:, 1], "o", color="tab:blue", ms=3)[0])
        add(ax.plot(*start, "s", color="tab:blue", ms=7, mec="k")[0])
        add(ax.plot(*end, "D", color="tab:red", ms=7, mec="k")[0])
        arrows_at = [nodes]
        for n, w in enumerate(res.trajectories[0]):
            pts = as_array(w.points)
            c = COLOURS[n % len(COLOURS)]
            add(ax.plot(pts[:, 0], pts[:, 1], ".-", color=c, ms=3, lw=1.2)[0])
            if w.reached:
                add(ax.plot(*pts[-1], "*", color=c, ms=12, mec="k")[0])
            arrows_at.append(pts[::max(1, len(pts) // 8)])
        at = np.concatenate(arrows_at)
        g = self._gradients(torch.from_numpy(at))
        scale = np.abs(g).max() or 1.0
        add(ax.quiver(at[:, 0], at[:, 1], g[:, 0] / scale, g[:, 1] / scale, color="k", width=0.004,
                      scale=9, alpha=0.75, zorder=5))
        self.plot.frame()
        self._table()

    def _table(self):
        ig, res = self.ig, self.agi
        a_ig, a_agi = as_array(ig.attributions[0]), as_array(res.attributions[0])
        change = float(ig.score[0] - ig.baseline_score[0])
        drop = float(np.nansum(as_array(res.score_drop[0])))

        def cell(v, m):
            strength = min(abs(v) / m, 1.0) if m > 0 else 0.0
            rgb = (255, int(255 * (1 - strength)), int(255 * (1 - strength))) if v > 0 else \
                (int(255 * (1 - strength)), int(255 * (1 - strength)), 255)
            return f"<td style='background:rgb{rgb};color:#1a1a1a;padding:2px 6px'>{v:+.3f}</td>"

        m = max(np.abs(a_ig).max(), np.abs(a_agi).max(), 1e-12)
        rows = "".join(f"<tr><td>{html.escape(name)}</td>{cell(a[0], m)}{cell(a[1], m)}<td>{a.sum():+.3f}</td>"
                       f"<td>{html.escape(ref)}</td></tr>" for name, a, ref in (
                           ("IG", a_ig, f"F(x) − F(x′) = {change:+.3f}"),
                           ("AGI", a_agi, f"Σ_j f_i(x) − f_i(x_T) = {drop:+.3f}")))
        self.table.value = (
            "<div style='font-size:12px'><b>attributions</b> (red +, blue −)<table>"
            "<tr><th></th><th>x₁</th><th>x₂</th><th>sum</th><th>compare with</th></tr>" + rows + "</table>"
            f"<p>IG: {ig.steps} nodes (midpoint rule), delta {float(ig.delta[0]):+.2g}.<br>AGI: {res.mode} mode, "
            f"ε = {res.epsilon:g}, walks reached {int(res.reached.sum())} of {res.reached.shape[1]} classes."
            "</p></div>")
        self.readout.value = (f"x = ({self.x1.value:.2f}, {self.x2.value:.2f}), x′ = ({self.b1.value:.2f}, "
                              f"{self.b2.value:.2f}) · F_i(x) = {float(ig.score[0]):.4g}, "
                              f"F_i(x′) = {float(ig.baseline_score[0]):.4g}")
