"""Tiny timing helpers shared by the benches: interleaved repeats with medians, a table, a JSON file."""
from __future__ import annotations

import json
import random
import statistics
import time
from pathlib import Path


def interleaved(fns: dict, repeats: int = 5, warmup: int = 1, sync=lambda: None, clock=time.perf_counter) -> dict:
    """Time each callable ``repeats`` times in turn (A, B, A, B, ...) after ``warmup`` untimed rounds, so slow
    phases of a shared machine hit every contender alike. ``clock``: wall time by default; ``time.process_time``
    measures this process's CPU time, which neighbours on a shared CPU barely disturb.
    Returns {name: {"median": s, "times": [s, ...]}}."""
    times = {name: [] for name in fns}
    for r in range(warmup + repeats):
        for name, fn in fns.items():
            sync()
            t = clock()
            fn()
            sync()
            if r >= warmup:
                times[name].append(clock() - t)
    return {name: {"median": statistics.median(ts), "times": ts} for name, ts in times.items()}


def paired_ratio(a: list, b: list, level: float = 0.9, draws: int = 2000) -> tuple[float, float, float]:
    """The median of the per-round ratios a_r / b_r (rounds ran back to back, so slow phases of a shared machine
    cancel) and a bootstrap interval for it at ``level`` (rounds resampled, fixed seed)."""
    ratios = [p / q for p, q in zip(a, b)]
    rng = random.Random(0)
    meds = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(draws))
    tail = int((1 - level) / 2 * draws)
    return statistics.median(ratios), meds[tail], meds[-1 - tail]


def table(rows: list[dict], columns: list[str]) -> str:
    """A plain-text table of dicts (floats to 4 significant digits)."""
    cell = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)
    widths = [max(len(c), *(len(cell(r.get(c, ""))) for r in rows)) for c in columns]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths))
    return "\n".join([line(columns), line(["-" * w for w in widths])] +
                     [line([cell(r.get(c, "")) for c in columns]) for r in rows])


def write_json(obj, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, default=str))
    return path
