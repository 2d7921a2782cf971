"""What IG returns: :class:`IGResult` (attributions, delta, both scores) and :class:`IGTrace` (every node)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..common.html import fmt, heatmap_png, html_summary
from ..common.saving import SaveLoad
from .adaptive import AdaptiveInfo

@dataclass(repr=False)
class IGTrace(SaveLoad):
    """Everything along the path. Rows B = k·N (baseline sample j, example n: row j·N + n); m nodes in α order.

    ``alphas``/``weights``: the rule, (m,) for the fixed rules; the adaptive rule gives each row its own grid,
    (B, m), padded after a row's last node (α = 1) with zero-weight copies of it (:meth:`nodes` gives one
    row's). With record="scores" or "full": ``scores`` (B, m) F(γ(α_k)); ``contributions`` (B, m) =
    w_k ∇F(γ(α_k))·(x − x′), what node k adds to Σ attributions; ``gaps`` (B, m)
    the completeness gap after node k (the last column is ``delta``). With record="full" also ``gradients``
    (B, m, ...) ∇F(γ(α_k)) and ``running`` (B, m, ...) the attributions after node k.
    """

    alphas: torch.Tensor
    weights: torch.Tensor
    scores: torch.Tensor | None = None
    contributions: torch.Tensor | None = None
    gaps: torch.Tensor | None = None
    gradients: torch.Tensor | None = None
    running: torch.Tensor | None = None

    def nodes(self, row: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """(α (m_row,), w (m_row,)) of one row without padding: the first m_row columns of the row's per-node
        arrays (``scores``, ``gradients``, ...) belong to them. The same for every row under a fixed rule."""
        if self.alphas.dim() == 1:
            return self.alphas, self.weights
        a = self.alphas[row]
        m = len(a) - int((a == a[-1]).sum()) + 1
        return a[:m], self.weights[row, :m]

    def __repr__(self):
        kept = [f for f in ("scores", "contributions", "gaps", "gradients", "running") if getattr(self, f) is not None]
        grid = "" if self.alphas.dim() == 1 else f", one grid per row: {self.alphas.shape[0]}"
        return f"IGTrace(m={self.alphas.shape[-1]}{grid}, kept={kept})"

    def _repr_html_(self):
        alphas, weights = self.nodes(0)
        pick = torch.linspace(0, len(alphas) - 1, min(len(alphas), 12)).round().long().unique()
        rows = []
        for k in pick.tolist():
            cells = [f"w = {float(weights[k]):.4g}"]
            if self.scores is not None:
                cells += [f"F = {float(self.scores[0, k]):.4g}", f"gap after = {float(self.gaps[0, k]):+.4g}"]
            rows.append((f"α = {float(alphas[k]):.4f}", ", ".join(cells)))
        return html_summary(f"IG trace: {len(alphas)} nodes (input 0)", rows)


@dataclass(repr=False)
class IGResult(SaveLoad):
    """IG for N inputs. ``attributions`` has the shape of ``inputs`` (the path's end: the layer output for
    ``layer=``); ``delta`` (N,) = Σ attributions − (``score`` − ``baseline_score``), with ``score`` = F(x) and
    ``baseline_score`` = F(x′) (mean over the k baseline samples). ``baseline`` is (N, ...), or (k, N, ...) when
    k > 1. ``steps`` is the number of nodes used (adaptive rule: the most any row used; each row's are in
    ``refinement.evaluations[-1]``); ``refinement`` holds the adaptive rule's history. For tuple inputs,
    ``attributions``, ``inputs``, ``baseline`` (and the trace's ``gradients``/``running``) are tuples of the
    parts. For a position target ``target`` holds the flat index of (class, position) in the output's (C, ...)."""

    attributions: torch.Tensor
    delta: torch.Tensor
    score: torch.Tensor
    baseline_score: torch.Tensor
    inputs: torch.Tensor
    baseline: torch.Tensor
    target: torch.Tensor
    method: str
    steps: int
    output: str
    layer: str | None
    baseline_name: str
    samples: int
    trace: IGTrace
    model_inputs: torch.Tensor | None = None
    refinement: AdaptiveInfo | None = None

    @property
    def relative_delta(self) -> torch.Tensor:
        """|delta| / |F(x) − F(x′)| per input: the paper's "within 5 %" check."""
        return self.delta.abs() / (self.score - self.baseline_score).abs().clamp_min(torch.finfo(self.delta.dtype).tiny)

    def points(self, k: int):
        """γ(α_k) for every row (B, ...), recomputed from the endpoints (each row's own node k); for tuple inputs
        a tuple of parts (γ runs through all parts at the same α)."""
        def point(start, end):
            a = self.trace.alphas[..., k].to(start).reshape(-1, *[1] * (start.dim() - 1))
            return start + a * (end - start)
        return self._each_part(point)

    def path_points(self):
        """All path points (B, m, ...); for tuple inputs a tuple of parts."""
        def along(start, end):
            a = self.trace.alphas.to(start).expand(start.shape[0], -1)
            return start.unsqueeze(1) + a.view(*a.shape, *[1] * (start.dim() - 1)) * (end - start).unsqueeze(1)
        return self._each_part(along)

    def baseline_score_of(self, row: int) -> float:
        """F(x′) of trace row ``row`` (= j·N + n). With k > 1 baseline samples ``baseline_score`` is their mean;
        each trace row closes on its own sample: its last gap is Σ contributions − (F(x) − F(x′_j))."""
        if self.samples == 1:
            return float(self.baseline_score[row])
        tr = self.trace
        return float(self.score[row % len(self.score)]) - float(tr.contributions[row].sum() - tr.gaps[row, -1])

    def per_token(self) -> torch.Tensor:
        """Attributions summed over the last dim, e.g. (N, L, D) embedding attributions → (N, L) per token."""
        return self.attributions.sum(-1)

    def _each_part(self, fn):
        """``fn(start, end)`` on the (B, ...) path ends of each input part: the result, or a tuple of them."""
        single = not isinstance(self.inputs, tuple)
        inputs, baseline = ((self.inputs,), (self.baseline,)) if single else (self.inputs, self.baseline)
        out = []
        for x, b in zip(inputs, baseline):
            start = b.reshape(-1, *x.shape[1:])
            out.append(fn(start, x.repeat(self.samples, *[1] * (x.dim() - 1))))
        return out[0] if single else tuple(out)

    def __repr__(self):
        a = self.attributions
        shape = tuple(tuple(p.shape) for p in a) if isinstance(a, tuple) else tuple(a.shape)
        return (f"IGResult(method={self.method!r}, steps={self.steps}, output={self.output!r}, "
                f"attributions={shape}, delta={fmt(self.delta)})")

    def _repr_html_(self):
        change = self.score - self.baseline_score
        rows = [("rule", f"{self.method}, {self.steps} nodes"), ("explains", f"{self.output} of class {fmt(self.target)}"),
                ("baseline", f"{self.baseline_name}" + (f" × {self.samples} samples" if self.samples > 1 else "")),
                ("F(x) / F(x′)", f"{fmt(self.score)} / {fmt(self.baseline_score)}"),
                ("Σ attributions", fmt(sum(p.flatten(1).sum(1) for p in self.attributions)
                                       if isinstance(self.attributions, tuple) else self.attributions.flatten(1).sum(1))), ("F(x) − F(x′)", fmt(change)),
                ("delta (relative)", f"{fmt(self.delta)} ({fmt(self.relative_delta)})")]
        if self.layer is not None:
            rows.append(("path space", f"output of {self.layer}"))
        if self.trace.scores is not None:
            pick = torch.linspace(0, self.steps - 1, min(self.steps, 5)).round().long()
            alphas = self.trace.nodes(0)[0]
            rows.append(("F along the path, input 0", ", ".join(f"α={alphas[i]:.2f}: "
                                                                f"{self.trace.scores[0, i]:.4g}" for i in pick)))
        a = self.attributions[0] if isinstance(self.attributions, tuple) else self.attributions  # first part
        first = a.sum(-1)[0] if self.layer is not None and a.dim() == 3 else a[0]
        return html_summary("Integrated Gradients", rows, [("attributions, input 0 (red +, blue −)", heatmap_png(first))])
