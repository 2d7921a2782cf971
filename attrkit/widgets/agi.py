"""The AGI explorer: walk along one adversarial trajectory of AGI (Pan, Li & Zhu, IJCAI 2021), step by step.

For the explained class i and a chosen false class j, the panels show at step t of the walk x_0 → x_T:

    the point x_t    how far it moved, x_t − x_0    AGI_ij so far = Σ_{s<t} −∇f_i(x_s) ⊙ (x_{s+1} − base)
    f_i and f_j along the walk (Algorithm 1)         and AGI(x) = Σ_{j∈S} AGI_ij (Algorithm 2)

``mode`` switches between the paper's path (each step starts at x_t) and the authors' code (each step restarts
from x_0, so points stay within ε of the input; see :mod:`attrkit.agi`). Slider moves and class switches read
the stored trajectories (``agi(..., record="full")``); mode, ε, max steps and k run AGI again.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.collections import LineCollection

from ..agi.walk import agi
from ..common.renames import renamed
from ..viz.images import as_array, channel_map
from .ig import class_options
from .panels import (Display, Explorer, Plot, caption, class_label, image_png, labelled, limit_of, map_png, one_input,
                     panel)


class AGIExplorer(Explorer):
    """Pick a false class, scrub the steps of its walk, change mode, ε, max steps and the number of false classes.

    ``model``: a classifier (eval mode) returning (N, C) scores; ``x``: one input (with or without its batch
    dimension of 1); ``target``: the explained class i (None: the predicted one); ``classes``: how many false
    classes (Algorithm 2's |S| = k; default all of them up to 20), drawn with ``seed`` as :func:`attrkit.agi.agi` does;
    ``bounds``: the valid input range (default (0, 1) for inputs in [0, 1], else none); ``show``: how to draw an
    input.

    Controls (attributes): ``false_class`` (Dropdown of S), ``step`` (IntSlider t), ``mode``, ``epsilon``,
    ``max_steps``, ``classes``. ``result`` is the current AGIResult; ``update()`` redraws, ``recompute()`` reruns.
    """

    css = "attrkit-agi"

    def __init__(self, model, x, target=None, classes: int | None = None, epsilon: float = 0.05, max_steps: int = 20,
                 mode: str = "paper", output: str = "probability", bounds="auto", seed: int = 0, show=None,
                 class_names=None, **old):
        super().__init__()
        k = renamed(old, "AGIExplorer", k="classes").get("classes", classes)
        if k is not None and (isinstance(k, bool) or not isinstance(k, int)):
            raise TypeError(f"classes must be how many false classes to walk to (an int), got {k!r}")
        self.model, self.class_names, self.show, self.seed, self.output = model, class_names, show, seed, output
        self.x = one_input(model, x)
        if isinstance(bounds, str) and bounds == "auto":
            bounds = (0.0, 1.0) if bool(self.x.min() >= 0 and self.x.max() <= 1) else None
        self.bounds = bounds
        options, predicted = class_options(model, self.x, class_names)
        self.i = predicted if target is None else int(target)
        classes = len(options)
        k = min(classes - 1, 20) if k is None else k

        row = dict(style={"description_width": "80px"}, layout=widgets.Layout(width="300px"))
        self.false_class = widgets.Dropdown(options=[("…", -1)], description="false class", **row)
        self.step = widgets.IntSlider(value=0, min=0, max=1, description="step t", continuous_update=True,
                                      style={"description_width": "80px"}, layout=widgets.Layout(width="560px"))
        self.step.add_class("attrkit-step")
        self.mode = widgets.ToggleButtons(options=["paper", "reference"], value=mode, style={"button_width": "90px"})
        self.epsilon = widgets.FloatSlider(value=epsilon, min=0.005, max=0.2, step=0.005, readout_format=".3f",
                                           description="ε", continuous_update=False, **row)
        self.max_steps = widgets.IntSlider(value=max_steps, min=1, max=100, description="max steps",
                                           continuous_update=False, **row)
        self.classes = widgets.IntSlider(value=k, min=1, max=classes - 1, description="classes (k)",
                                         continuous_update=False, **row)

        self.point_box, self.point_image, self.point_caption = panel("point x_t")
        self.move_box, self.move_image, self.move_caption = panel("x_t − x_0")
        self.so_far_box, self.so_far_image, self.so_far_caption = panel("AGI_ij so far")
        self.total_box, self.total_image, self.total_caption = panel("AGI = Σ_j AGI_ij")
        self.plot = Plot(figsize=(4.6, 2.9))
        self.ax = self.plot.figure.add_axes((0.13, 0.17, 0.83, 0.72))
        self.children = [
            widgets.HTML(f"<b>AGI, one adversarial walk at a time</b> (Algorithms 1 and 2 of the AGI paper); "
                         f"explaining class i = {class_label(self.i, class_names)}"),
            widgets.HBox([labelled("mode", self.mode, "84px"), self.false_class]),
            widgets.HBox([self.epsilon, self.max_steps, self.classes]),
            self.step, self.readout, self.progress, self.error,
            widgets.HBox([self.point_box, self.move_box, self.so_far_box, self.total_box]), self.plot.image,
        ]
        self._quiet = False
        self.step.observe(lambda change: self._quiet or self.update(), "value")
        self.false_class.observe(lambda change: self._quiet or self.select(), "value")
        for control in (self.mode, self.epsilon, self.max_steps, self.classes):
            control.observe(lambda change: self.recompute(), "value")
        self.recompute()

    # ---- recomputation -------------------------------------------------------------------------------------------

    def recompute(self):
        """Run AGI (record="full") for the current mode, ε, max steps and k; keep the chosen false class if it
        is still in S."""
        keep = self.false_class.value
        with self.busy(3):
            res = agi(self.model, self.x, target=self.i, classes=self.classes.value, seed=self.seed,
                      epsilon=float(self.epsilon.value), max_steps=self.max_steps.value, mode=self.mode.value,
                      output=self.output, bounds=self.bounds, record="full", progress=False)
            self.advance()
            self.result = res
            self.walks = {w.false_class: w for w in res.trajectories[0]}
            self.display_input = Display.spanning(self.show, self.x)
            total = channel_map(res.attributions[0])
            limit = limit_of(total, 99.9)
            self.total_image.value = map_png(total, limit)
            self.total_caption.value = caption(f"AGI = Σ_j AGI_ij, {len(self.walks)} classes", limit,
                                               f"{res.mode} mode, ε = {res.epsilon:g}")
            self.advance()
            labels = [(f"j = {class_label(j, self.class_names)} · " +
                       (f"reached in {w.steps_taken} steps" if w.reached else f"not reached ({w.steps_taken} steps)"),
                       j) for j, w in self.walks.items()]
            self._quiet = True
            try:
                self.false_class.options = labels
                self.false_class.value = keep if keep in self.walks else labels[0][1]
            finally:
                self._quiet = False
            self.select()

    def select(self):
        """Switch to the walk towards ``false_class.value`` (stored: no model call)."""
        j = self.false_class.value
        if j not in getattr(self, "walks", {}):
            return
        w = self.walks[j]
        self.walk = w
        x0 = w.points[0]
        self.moves = np.stack([channel_map(p - x0) for p in w.points])
        zero = torch.zeros_like(w.points[:1])
        self.running = np.stack([channel_map(r) for r in torch.cat([zero, w.running])])  # t = 0: nothing yet
        self.sums = np.concatenate([[0.0], as_array(w.contributions.flatten(1).sum(1)).cumsum()])
        self.f_i, self.f_j = as_array(w.scores), as_array(w.false_scores)
        self.move_limit = max(limit_of(self.moves), 1e-12)
        self.run_limit = limit_of(self.running, 99.9)
        self._cache = {}
        self.move_caption.value = caption("x_t − x_0 (channels summed)", self.move_limit)
        self.so_far_caption.value = caption("AGI_ij so far", self.run_limit, f"walk towards j = {j}")
        self.point_caption.value = caption("point x_t", note=("x_t + ε·sign(∇f_j) each step" if w.mode == "paper"
                                                             else "x_0 + ε·sign(∇f_j(x_t)) each step"))
        self._quiet = True
        try:
            self.step.max = w.steps_taken if w.steps_taken > 0 else 1
            self.step.value = min(self.step.value, w.steps_taken)
        finally:
            self._quiet = False
        self._draw_curves()
        self.update()

    def _draw_curves(self):
        """The curves of the chosen walk. Artists are made once and then only get new data: clearing the axes
        would rebuild every tick, which costs more than the drawing itself."""
        w, ax = self.walk, self.ax
        t = np.arange(len(self.f_i))
        if not hasattr(self, "_lines"):
            self._others = ax.add_collection(LineCollection([], colors="0.85", linewidths=0.8))
            self._lines = [ax.plot([], [], ".-", color=c, ms=3, lw=1.2)[0] for c in ("k", "tab:orange")]
            self._lines.append(ax.plot([], [], ls="--", color="tab:purple", lw=1)[0])
            self._cursor = self.plot.animated(ax.axvline(0, color="k", lw=0.8))
            self._dots, = ax.plot([0, 0], [0, 0], "o", color="tab:red", ms=6, mec="k")
            self.plot.animated(self._dots)
            ax.set_xlabel("step t", fontsize=9, labelpad=1)
            ax.tick_params(labelsize=8)
        self._others.set_segments([np.column_stack([np.arange(len(o.scores)), as_array(o.scores)])
                                   for o in self.walks.values() if o is not w])
        labels = (f"f_i, i = {class_label(self.i, self.class_names)}",
                  f"f_j, j = {class_label(w.false_class, self.class_names)}", "f_i(x_0) − Σ AGI_ij so far")
        for line, y, label in zip(self._lines, (self.f_i, self.f_j, self.f_i[0] - self.sums), labels):
            line.set_data(t, y)
            line.set_label(label)
        ax.relim()
        ax.autoscale_view()
        ax.set_xlim(-0.3, max(len(t) - 1, 1) + 0.3)
        ax.legend(handles=self._lines, fontsize=7, loc="upper right")
        ax.set_title(f"the walk towards j ({self.result.output}; grey: the other walks' f_i)", fontsize=9)
        self.plot.full()

    # ---- slider moves --------------------------------------------------------------------------------------------

    def update(self):
        """Redraw the panels and the readout for step ``step.value`` of the chosen walk (no model call)."""
        if not hasattr(self, "walk"):
            return
        w, t = self.walk, min(self.step.value, self.walk.steps_taken)
        if t not in self._cache:
            self._cache[t] = (image_png(self.display_input(w.points[t])), map_png(self.moves[t], self.move_limit),
                              map_png(self.running[t], self.run_limit))
        self.point_image.value, self.move_image.value, self.so_far_image.value = self._cache[t]
        self._cursor.set_xdata([t, t])
        self._dots.set_data([t, t], [self.f_i[t], self.f_j[t]])
        self.plot.frame()
        drop = self.f_i[0] - self.f_i[t]
        note = ("paper mode: the two agree as ε → 0" if w.mode == "paper"
                else "reference mode: no such identity (each step restarts from x_0)")
        pred = class_label(int(w.predicted[t]), self.class_names)
        self.readout.value = (
            f"walk towards j = {class_label(w.false_class, self.class_names)} · step t = {t} of {w.steps_taken} "
            f"({'reached j' if w.reached else 'j not reached'}) · f_i = {self.f_i[t]:.4g}, f_j = {self.f_j[t]:.4g},"
            f" argmax = {pred}<br><b>Σ AGI_ij so far = {self.sums[t]:.4g}</b> vs f_i(x_0) − f_i(x_t) = {drop:.4g}"
            f" ({note})")
