"""The scorecard: every axiom check on every method, one table (methods × axioms)."""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from .. import methods as M
from ...common.html import INK, themed
from ...common.saving import SaveLoad
from .checks import (check_completeness, check_dummy, check_implementation_invariance, check_linearity,
                     check_sensitivity_a, check_symmetry)
from .verdicts import COLOURS, TITLES, AxiomResult

AXIOMS = {
    "sensitivity_a": check_sensitivity_a,
    "dummy": check_dummy,
    "implementation_invariance": check_implementation_invariance,
    "completeness": check_completeness,
    "linearity": check_linearity,
    "symmetry": check_symmetry,
}
@dataclass(repr=False)
class Scorecard(SaveLoad):
    """Methods × axioms, every cell computed by a check. ``verdict(method, axiom)``, ``result(method, axiom)``."""
    methods: list
    axioms: list
    results: list = field(default_factory=list)   # row-major: results[m * len(axioms) + a]

    def result(self, method: str, axiom: str) -> AxiomResult:
        if method not in self.methods:
            raise KeyError(f"no method {method!r} in this scorecard; it has {self.methods}")
        if axiom not in self.axioms:
            raise KeyError(f"no axiom {axiom!r} in this scorecard; it has {self.axioms}")
        return self.results[self.methods.index(method) * len(self.axioms) + self.axioms.index(axiom)]

    def verdict(self, method: str, axiom: str) -> str:
        return self.result(method, axiom).verdict

    def __repr__(self):
        head = ["method"] + [TITLES.get(a, a) for a in self.axioms]
        rows = [[M.TITLES.get(m, m)] + [self.verdict(m, a) for a in self.axioms] for m in self.methods]
        widths = [max(len(r[k]) for r in [head] + rows) for k in range(len(head))]
        line = lambda r: " | ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
        return "\n".join([line(head), "-+-".join("-" * w for w in widths)] + [line(r) for r in rows])

    def _repr_html_(self):
        e = html.escape
        head = "".join(f"<th>{e(TITLES.get(a, a))}</th>" for a in self.axioms)
        body, notes = "", []
        for m in self.methods:
            cells = ""
            for a in self.axioms:
                r = self.result(m, a)
                mark = ""
                if r.verdict != "holds":
                    notes.append(r)
                    mark = f"<sup>{len(notes)}</sup>"
                cells += (f"<td title='{e(r.explanation)}' style='background:{COLOURS[r.verdict]};color:{INK};text-align:left'>"
                          f"<b>{e(r.verdict)}</b>{mark}<br/><span style='font-size:smaller'>{e(r.key)}</span></td>")
            body += f"<tr><th style='text-align:left'>{e(M.TITLES.get(m, m))}</th>{cells}</tr>"
        foot = "".join(f"<li value='{k}'>{e(M.TITLES.get(r.method, r.method))} · {e(TITLES.get(r.axiom, r.axiom))}: "
                       f"{e(r.explanation)}</li>" for k, r in enumerate(notes, 1))
        return themed(f"<b>Axioms scorecard</b> (computed; hover a cell for its explanation)"
                      f"<table><tr><th>method</th>{head}</tr>{body}</table>"
                      f"<ol style='font-size:small'>{foot}</ol>", "padding:2px 4px")


def scorecard(methods=None, axioms=None, options=None) -> Scorecard:
    """Run every axiom check on every method (default: all of ``attrkit.lab.methods.METHODS`` × all AXIOMS).
    ``options``: {method name: {keyword: value}} passed to that method."""
    methods = list(M.METHODS) if methods is None else list(methods)
    axioms = list(AXIOMS) if axioms is None else list(axioms)
    unknown = [a for a in axioms if a not in AXIOMS]
    if unknown:
        raise ValueError(f"unknown axiom(s) {unknown}; choose from {', '.join(AXIOMS)}")
    if options is not None and not isinstance(options, dict):
        raise TypeError("options must be a dict {method name: {keyword: value}}")
    names, results = [], []
    for method in methods:
        name, _ = M.get(method)
        names.append(name)
        for a in axioms:
            results.append(AXIOMS[a](method, options=(options or {}).get(name)))
    return Scorecard(names, axioms, results)
