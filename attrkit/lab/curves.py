"""What deletion and insertion return: one image's curve (:class:`CausalCurve`) or a batch's (:class:`CausalCurves`).

The two list similar fields on purpose: one describes an image (``target`` an int, ``auc`` a number), the other a
batch (``targets`` (N,), ``auc`` (N,)); a shared base class would add a hierarchy for six lines.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..common.html import html_summary
from ..common.saving import SaveLoad


@dataclass(repr=False)
class CausalCurve(SaveLoad):
    """One deletion or insertion curve. ``scores`` (n+1,) the class score after 0..n steps; ``fractions`` (n+1,)
    the share of pixel locations actually changed; ``pixels_changed`` (n,) locations newly changed per step;
    ``auc`` the image's score (``auc_rule``: trapezoid area for ours, mean of the points for agi-repo)."""
    kind: str
    protocol: str
    target: int
    scores: torch.Tensor
    fractions: torch.Tensor
    pixels_changed: torch.Tensor
    auc: float
    auc_rule: str
    substrate: str
    pixels_per_step: int
    reduce: str | None
    output: str

    @property
    def better(self) -> str:
        return "lower" if self.kind == "deletion" else "higher"

    def __repr__(self):
        return (f"CausalCurve({self.kind}, protocol={self.protocol!r}, target={self.target}, "
                f"{len(self.pixels_changed)} steps, score {self.scores[0]:.4f} → {self.scores[-1]:.4f}, "
                f"auc={self.auc:.4f} ({self.auc_rule}; {self.better} is better))")

    def _repr_html_(self):
        rows = [("metric", f"{self.kind} ({self.better} is better), protocol {self.protocol}"),
                ("class", str(self.target)), ("score", f"{self.scores[0]:.4f} → {self.scores[-1]:.4f} ({self.output})"),
                ("steps", f"{len(self.pixels_changed)} × {self.pixels_per_step} pixels; most in one step: "
                          f"{int(self.pixels_changed.max())}"),
                ("substrate / reduce", f"{self.substrate} / {self.reduce}"),
                ("area", f"{self.auc:.4f} ({self.auc_rule})")]
        return html_summary(f"{self.kind.capitalize()} curve", rows)


@dataclass(repr=False)
class CausalCurves(SaveLoad):
    """The curves of N images: the fields of :class:`CausalCurve` with a leading N (``targets`` (N,),
    ``auc`` (N,)). ``curves[i]`` is image i's :class:`CausalCurve`; ``mean_auc`` the table number."""
    kind: str
    protocol: str
    targets: torch.Tensor
    scores: torch.Tensor
    fractions: torch.Tensor
    pixels_changed: torch.Tensor
    auc: torch.Tensor
    auc_rule: str
    substrate: str
    pixels_per_step: int
    reduce: str | None
    output: str

    @property
    def mean_auc(self) -> float:
        return float(self.auc.mean())

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i: int) -> CausalCurve:
        return CausalCurve(self.kind, self.protocol, int(self.targets[i]), self.scores[i], self.fractions[i],
                           self.pixels_changed[i], float(self.auc[i]), self.auc_rule, self.substrate,
                           self.pixels_per_step, self.reduce, self.output)

    def __repr__(self):
        better = "lower" if self.kind == "deletion" else "higher"
        return (f"CausalCurves({self.kind}, protocol={self.protocol!r}, N={len(self)}, "
                f"mean auc={self.mean_auc:.4f} ({self.auc_rule}; {better} is better))")

    def _repr_html_(self):
        return self[0]._repr_html_().replace("curve</b>", f"curves</b> (image 0 of {len(self)}; mean area "
                                                           f"{self.mean_auc:.4f})", 1)
