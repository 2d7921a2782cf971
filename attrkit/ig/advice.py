"""The step advisor: the completeness gap of every rule against the number of steps, and the fewest steps that
bring it within ``tol`` (IG Prop. 1; the paper suggests 5 %, we default to 1 %)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..common.html import html_summary
from ..common.saving import SaveLoad
from . import baselines
from .path import integrated_gradients
from .quadrature import METHODS, MIN_STEPS

LADDER = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512,
          640, 768, 1024)


@dataclass(repr=False)
class StepAdvice(SaveLoad):
    """Completeness gap against steps, per rule. ``steps[rule]`` (S,) the step counts tried; ``gaps[rule]`` (N, S) signed Σ attributions − (F(x) − F(x′));
    ``change`` (N,) F(x) − F(x′); ``needed[rule]`` the fewest steps tried with every |gap| ≤ tol·|change|;
    ``stable[rule]`` the fewest from which every larger count tried stays within (None: not within max_steps).
    The adaptive rule gives each input its own nodes, so for it ``steps`` are the mean nodes per input after
    each round, ``needed`` = ``stable`` that mean at the end (None if some input missed ``tol``), and
    ``nodes`` (N,) what each input used."""

    methods: list
    steps: dict
    gaps: dict
    needed: dict
    stable: dict
    change: torch.Tensor
    tol: float
    output: str
    max_steps: int
    nodes: torch.Tensor | None = None

    def table(self) -> list[tuple[str, str]]:
        rows = []
        for rule in self.methods:
            rel = (self.gaps[rule].abs() / self.change.abs().view(-1, 1)).amax(0)
            if rule == "adaptive" and self.nodes is not None and len(self.nodes) > 1:
                used = f"{int(self.nodes.min())}–{int(self.nodes.max())}"
                head = f"needs {_n(self.needed[rule])} per input on average ({used})" if self.needed[rule] else \
                    f"some inputs still miss at {self.max_steps} nodes ({used} used)"
                rows.append((rule, f"{head}; worst gap at the end: {float(rel[-1]):.2%}"))
                continue
            rows.append((rule, f"needs {_n(self.needed[rule])} (stable from {_n(self.stable[rule])}); "
                               f"gap at {_n(float(self.steps[rule][-1]))} steps: {float(rel[-1]):.2%}"))
        return rows

    def __repr__(self):
        lines = "".join(f"\n  {rule:<18} {text}" for rule, text in self.table())
        return f"StepAdvice(tol={self.tol * 100:g}% of |F(x) − F(x′)|, output={self.output!r}){lines}"

    def _repr_html_(self):
        return html_summary(f"Steps needed for a completeness gap within {self.tol * 100:g}% ({self.output})",
                            self.table())


def _n(v):
    if v is None:
        return "—"
    return str(int(v)) if float(v).is_integer() else f"{float(v):.1f}"


def _first_within(ok: torch.Tensor, steps: torch.Tensor):
    idx = torch.nonzero(ok).flatten()
    needed = int(steps[idx[0]]) if len(idx) else None
    bad = torch.nonzero(~ok).flatten()
    if not ok[-1]:
        return needed, None
    return needed, int(steps[bad[-1] + 1]) if len(bad) else int(steps[0])


def steps_needed(model, inputs, target=None, baseline=None, methods=METHODS + ("adaptive",), tol=0.01,
                 max_steps=256, steps=None, output="logit", layer=None, batch_size=None, forward_args=None,
                 reduce=None, baseline_in="input", layer_input=False) -> StepAdvice:
    """Run every rule in ``methods`` at the step counts ``steps`` (default: a ladder 1, 2, 3, 4, 5, 6, 8, … up to
    ``max_steps``) and report the completeness gap and the steps needed for ``tol`` (relative, default 1 %).
    "adaptive" runs once with ``max_steps`` as its budget. Cost: the sum of all step counts tried, per rule.
    The model, inputs and the remaining arguments are those of :func:`attrkit.integrated_gradients` (tuples of
    inputs, ``forward_args``, position outputs with ``reduce``, ``layer=`` with ``baseline_in``/``layer_input``)."""
    if not 0 < tol < 1:
        raise ValueError(f"tol must be a fraction in (0, 1), e.g. 0.01 for 1 %, got {tol!r}")
    unknown = [m for m in methods if m not in METHODS + ("adaptive",)]
    if unknown:
        raise ValueError(f"methods must be among {METHODS + ('adaptive',)}, got {unknown}")
    ladder = torch.tensor([s for s in (steps or LADDER) if s <= max_steps])
    if baseline is not None and isinstance(baseline, baselines.Baseline):
        baseline = baselines.Once(baseline)  # every rule must see the same random baselines
    common = dict(baseline=baseline, output=output, layer=layer, batch_size=batch_size, record="none",
                  progress=False, forward_args=forward_args, reduce=reduce, baseline_in=baseline_in,
                  layer_input=layer_input)
    out = {k: {} for k in ("steps", "gaps", "needed", "stable")}
    change = nodes = None
    for rule in methods:
        if rule == "adaptive":
            res = integrated_gradients(model, inputs, target=target, method="adaptive", steps=max_steps, tol=tol,
                                       **common)
            info, target = res.refinement, res.target
            per_input = info.evaluations.view(len(info.evaluations), res.samples, -1).sum(1)  # (R, N)
            nodes = per_input[-1]
            counts = per_input.double().mean(1)
            gaps = info.gaps.T.reshape(res.samples, len(res.delta), -1).mean(0).to(res.delta.dtype)
        else:
            counts = ladder[ladder >= MIN_STEPS[rule]]
            rows = []
            for n in counts.tolist():
                res = integrated_gradients(model, inputs, target=target, method=rule, steps=n, **common)
                target = res.target
                rows.append(res.delta)
            gaps = torch.stack(rows, 1)
        change = res.score - res.baseline_score
        ok = (gaps.abs() <= tol * change.abs().view(-1, 1)).all(0)
        out["steps"][rule], out["gaps"][rule] = counts, gaps
        out["needed"][rule], out["stable"][rule] = _first_within(ok, counts)
        if rule == "adaptive":
            out["needed"][rule] = out["stable"][rule] = float(counts[-1]) if bool(ok[-1]) else None
    return StepAdvice(methods=list(methods), change=change, tol=float(tol), output=output, max_steps=int(max_steps),
                      nodes=nodes, **out)
