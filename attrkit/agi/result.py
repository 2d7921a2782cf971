"""What AGI returns: :class:`AGIResult` (the map, the individual AGIs) and every :class:`Trajectory`."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..common.html import fmt, heatmap_png, html_summary
from ..common.saving import SaveLoad

@dataclass(repr=False)
class Trajectory(SaveLoad):
    """One adversarial walk x_0 → x_T from input ``input_index`` (explained class i) towards false class j.

    Same vocabulary as IG's trace: ``points`` (T+1, ...) x_0..x_T, ``scores`` (T+1,) f_i at each point,
    ``false_scores`` (T+1,) f_j, ``predicted`` (T+1,) argmax, ``contributions`` (T, ...) each step's
    −∇f_i(x_t) ⊙ (x_{t+1} − base) (base x_t in paper mode, x_0 in reference mode); their sum is AGI_ij.
    ``points``/``contributions`` are None unless record="full". ``accounted`` = Σ features of AGI_ij and
    ``score_drop`` = f_i(x_0) − f_i(x_T): equal in the limit ε → 0 in paper mode only.
    """
    input_index: int
    true_class: int
    false_class: int
    steps_taken: int
    reached: bool
    scores: torch.Tensor
    false_scores: torch.Tensor
    predicted: torch.Tensor
    points: torch.Tensor | None
    contributions: torch.Tensor | None
    accounted: float
    score_drop: float
    mode: str = "paper"

    @property
    def running(self) -> torch.Tensor | None:
        """Running attribution after each step (T, ...): the cumulative sum of ``contributions``."""
        return None if self.contributions is None else self.contributions.cumsum(0)

    def __repr__(self):
        end = "reached" if self.reached else "not reached"
        return (f"Trajectory(input {self.input_index}: i={self.true_class} → j={self.false_class}, "
                f"{self.steps_taken} step{'' if self.steps_taken == 1 else 's'}, {end}, "
                f"f_i {self.scores[0]:.4g}→{self.scores[-1]:.4g}, "
                f"f_j {self.false_scores[0]:.4g}→{self.false_scores[-1]:.4g})")

    def _repr_html_(self):
        rows = [("walk", f"input {self.input_index}: class {self.true_class} → {self.false_class} "
                         f"({self.mode} mode)"),
                ("steps taken", f"{self.steps_taken} ({'reached' if self.reached else 'not reached'} j)"),
                ("f_i (explained)", fmt(self.scores)), ("f_j (false)", fmt(self.false_scores)),
                ("argmax", fmt(self.predicted)),
                ("Σ AGI_ij vs f_i(x_0) − f_i(x_T)", f"{self.accounted:.4g} vs {self.score_drop:.4g}"
                 + ("" if self.mode == "paper" else " (no identity in reference mode)"))]
        c = self.contributions[0] if isinstance(self.contributions, tuple) else self.contributions  # first part
        images = [] if c is None else [("AGI_ij", heatmap_png(c.sum(0)))]
        return html_summary("AGI trajectory", rows, images)


@dataclass(repr=False)
class AGIResult(SaveLoad):
    """AGI for N inputs with K false-class slots each (−1 in ``classes`` marks an unused slot, e.g. the target
    skipped from a stride or explicit list; such slots hold zeros, NaN, −1 or False below).

    ``attributions`` (N, ...) = Σ_j AGI_ij; ``per_class`` (N, K, ...) each AGI_ij; ``classes`` (N, K) the j used;
    ``target`` (N,) the explained class i; ``steps_taken``/``reached`` (N, K); ``accounted`` (N, K) = Σ features
    of AGI_ij and ``score_drop`` (N, K) = f_i(x_0) − f_i(x_T) (a completeness check in paper mode only);
    ``trajectories[n][k]`` the walk of input n towards ``classes[n, k]`` (None when record="none"). For tuple
    inputs ``attributions``, ``per_class`` and each trajectory's ``points``/``contributions`` are tuples of parts.
    """
    attributions: torch.Tensor
    per_class: torch.Tensor
    classes: torch.Tensor
    target: torch.Tensor
    steps_taken: torch.Tensor
    reached: torch.Tensor
    accounted: torch.Tensor
    score_drop: torch.Tensor
    trajectories: list | None
    mode: str
    epsilon: float
    max_steps: int
    output: str
    selection: str
    seed: int
    bounds: tuple | None
    record: str

    def trajectory(self, n: int, j: int) -> Trajectory:
        """The walk of input ``n`` towards false class ``j``."""
        if self.trajectories is None:
            raise ValueError("no trajectories were recorded: run agi(..., record='scores' or 'full')")
        for tr in self.trajectories[n]:
            if tr.false_class == j:
                return tr
        used = self.classes[n][self.classes[n] >= 0].tolist()
        raise ValueError(f"class {j} is not among input {n}'s false classes {used}")

    def __repr__(self):
        used = self.classes >= 0
        return (f"AGIResult(mode={self.mode!r}, N={len(self.classes)}, false classes per input="
                f"{self.classes.shape[1]}, epsilon={self.epsilon}, max_steps={self.max_steps}, "
                f"output={self.output!r}, reached {int(self.reached.sum())}/{int(used.sum())}, "
                f"attributions {_shape(self.attributions)})")

    def _repr_html_(self):
        import html
        used = self.classes[0] >= 0
        rows = [("mode", self.mode + (" (path: Algorithm 1)" if self.mode == "paper"
                                      else " (authors' code: x_0 base, stays in the ε-ball)")),
                ("inputs", f"{len(self.classes)}; attributions {_shape(self.attributions)}"),
                ("settings", f"epsilon={self.epsilon}, max_steps={self.max_steps}, output={self.output}, "
                             f"selection={self.selection}, seed={self.seed}, bounds={_bounds_text(self.bounds)}"),
                ("reached", f"{int(self.reached.sum())} of {int((self.classes >= 0).sum())} trajectories")]
        head = ["false class j", "steps taken", "reached", "Σ AGI_ij", "f_i(x_0) − f_i(x_T)"
                + (" (completeness: paper mode only)" if self.mode != "paper" else "")]
        cells = zip(self.classes[0][used].tolist(), self.steps_taken[0][used].tolist(),
                    self.reached[0][used].tolist(), self.accounted[0][used].tolist(), self.score_drop[0][used].tolist())
        table = "".join(f"<tr><td>{j}</td><td>{s}</td><td>{'yes' if r else 'no'}</td><td>{a:.4g}</td>"
                        f"<td>{d:.4g}</td></tr>" for j, s, r, a, d in cells)
        table = (f"<table><tr>{''.join(f'<th>{html.escape(h)}</th>' for h in head)}</tr>{table}</table>")
        title = f"AGI, input 0 explained as class {int(self.target[0])}"
        a = self.attributions[0] if isinstance(self.attributions, tuple) else self.attributions  # first part
        return html_summary(title, rows, [("AGI (input 0)", heatmap_png(a[0]))]) + table


def _shape(a) -> tuple:
    return tuple(tuple(p.shape) for p in a) if isinstance(a, tuple) else tuple(a.shape)


def _bounds_text(bounds) -> str:
    if bounds is None:
        return "None (no clamp)"
    return "(" + ", ".join(f"tensor{tuple(b.shape)}" if isinstance(b, torch.Tensor) else f"{b:g}" for b in bounds) + ")"
