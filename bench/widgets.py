"""How fast the explorers answer: slider moves (served from stored traces) and recomputations.

    python -m bench.widgets                 # the shipped MNIST model, CPU, one thread (as the notebooks)
    python -m bench.widgets --quick         # fewer moves and repeats
    python -m bench.widgets --json out.json --threads 2

A *move* sets a control the way the browser does (``explorer.alpha.index = k``): the widget's observer runs the
explorer's ``update()``, which redraws every panel and the readout. Goal: p95 < 100 ms. Measured twice:
``cold``, with the explorer's picture cache emptied before every move (every PNG encoded again: the worst
case, a first visit), and ``warm`` (positions revisited, as when a student scrubs back and forth). The 2-D path
explorer recomputes IG and AGI on its toy at every move, by design (milliseconds).

A *recomputation* changes a parameter that needs the model again (steps, rule, output, baseline, target; AGI's
mode, ε, max steps, k): goal under ~1 s. Each is timed ``--repeats`` times (median and max). The JSON (default
bench/out/widgets.json) keeps every timing and the machine's load average.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench._util import table, write_json  # noqa: E402


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def summary(times: list) -> dict:
    ms = np.array(times) * 1e3
    return {"n": len(ms), "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "max_ms": float(ms.max())}


def moves(explorer, control, attribute, positions, clear=None) -> list:
    """Time setting ``control.attribute`` to each position (each move redraws through the observer)."""
    times = []
    for p in positions:
        if clear is not None:
            clear()
        if getattr(control, attribute) == p:  # no change, no redraw: step away first (untimed)
            setattr(control, attribute, positions[0] if p != positions[0] else positions[-1])
        times.append(timed(lambda: setattr(control, attribute, p)))
    return times


def recompute_times(control, values, repeats) -> list:
    """Alternate a control between values; time each change (a recomputation)."""
    times = []
    for _ in range(repeats):
        for v in values:
            times.append(timed(lambda: setattr(control, "value", v)))
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default="bench/out/widgets.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    os.environ.setdefault("ATTRKIT_PROGRESS", "0")
    from attrkit import zoo
    from attrkit.widgets import AGIExplorer, BaselinePlayground, IGExplorer, MethodComparison, PathExplorer2D

    rng = random.Random(0)
    repeats = 2 if args.quick else args.repeats
    laps = 1 if args.quick else 3
    mnist = zoo.load("mnist")
    x = mnist.x_test[7]
    out = {"machine": platform.platform(), "threads": args.threads, "load_before": os.getloadavg(),
           "moves": {}, "recompute": {}, "construct_s": {}}

    t = time.perf_counter()
    ig = IGExplorer(mnist.model, x, steps=50)
    out["construct_s"]["ig"] = time.perf_counter() - t
    nodes = list(range(50))
    scrub = [k for _ in range(laps) for k in rng.sample(nodes, len(nodes))]
    out["moves"]["ig α (cold)"] = moves(ig, ig.alpha, "index", scrub, clear=ig._cache.clear)
    out["moves"]["ig α (warm)"] = moves(ig, ig.alpha, "index", scrub)

    t = time.perf_counter()
    agi = AGIExplorer(mnist.model, x, max_steps=20)
    out["construct_s"]["agi"] = time.perf_counter() - t
    cold, warm = [], []
    for j in [v for _, v in agi.false_class.options]:
        agi.false_class.value = j
        steps = list(range(agi.step.max + 1)) * laps
        rng.shuffle(steps)
        cold += moves(agi, agi.step, "value", steps, clear=agi._cache.clear)
        warm += moves(agi, agi.step, "value", steps)
    out["moves"]["agi step (cold)"], out["moves"]["agi step (warm)"] = cold, warm
    classes = [v for _, v in agi.false_class.options]
    out["moves"]["agi class switch"] = moves(agi, agi.false_class, "value",
                                             [rng.choice(classes) for _ in range(10 * laps)])

    t = time.perf_counter()
    bp = BaselinePlayground(mnist.model, x)
    out["construct_s"]["baselines"] = time.perf_counter() - t
    out["moves"]["baselines tolerance"] = moves(bp, bp.tolerance, "value",
                                                [round(rng.uniform(0, 0.5), 2) for _ in range(30 * laps)])
    out["moves"]["baselines scale"] = moves(bp, bp.scale, "value", ["shared scale", "own scale"] * 5 * laps)

    t = time.perf_counter()
    mc = MethodComparison(mnist.model, x)
    out["construct_s"]["compare"] = time.perf_counter() - t
    out["moves"]["compare clip percentile"] = moves(mc, mc.percentile, "value",
                                                    [90 + 0.5 * rng.randrange(21) for _ in range(30 * laps)])

    t = time.perf_counter()
    paths = PathExplorer2D()
    out["construct_s"]["paths (toy)"] = time.perf_counter() - t
    out["moves"]["paths x₁ (reruns IG+AGI on the toy)"] = moves(
        paths, paths.x1, "value", [round(rng.uniform(-2.5, 2.5), 2) for _ in range(20 * laps)])

    rec = out["recompute"]
    rec["ig steps 50 ↔ 128"] = recompute_times(ig.steps, [128, 50], repeats)
    rec["ig method"] = recompute_times(ig.method, ["gausslegendre", "riemann_trapezoid"], repeats)
    rec["ig output"] = recompute_times(ig.output, ["probability", "logit"], repeats)
    rec["ig baseline"] = recompute_times(ig.baseline, ["uniform noise", "black (0)"], repeats)
    rec["ig baseline blur"] = recompute_times(ig.baseline,
                                                                           ["blur (σ = 3)", "black (0)"], repeats)
    rec["ig target"] = recompute_times(ig.target, [3, 6], repeats)
    rec["agi mode"] = recompute_times(agi.mode, ["reference", "paper"], repeats)
    rec["agi ε 0.05 ↔ 0.02"] = recompute_times(agi.epsilon, [0.02, 0.05], repeats)
    rec["agi max steps 20 ↔ 50"] = recompute_times(agi.max_steps, [50, 20], repeats)
    rec["agi k 9 ↔ 3"] = recompute_times(agi.classes, [3, 9], repeats)
    rec["baselines output (7 IG runs)"] = recompute_times(bp.output, ["probability", "logit"], repeats)
    rec["baselines constant (1 IG run)"] = recompute_times(bp.constant, [0.2, 0.5], repeats)
    rec["compare target (4 methods)"] = recompute_times(mc.target, [3, 6], repeats)
    out["load_after"] = os.getloadavg()

    rows = [{"explorer / control": k, **summary(v)} for k, v in out["moves"].items()]
    print(f"slider moves ({args.threads} thread(s); load average before {out['load_before'][0]:.2f}, "
          f"after {out['load_after'][0]:.2f}; goal p95 < 100 ms)")
    print(table(rows, ["explorer / control", "n", "p50_ms", "p95_ms", "max_ms"]))
    rows = [{"parameter change": k, "n": len(v), "median_s": statistics.median(v), "max_s": max(v)}
            for k, v in rec.items()]
    print("\nrecomputations (goal under ~1 s)")
    print(table(rows, ["parameter change", "n", "median_s", "max_s"]))
    print("\nconstruction: " + ", ".join(f"{k} {v:.2f} s" for k, v in out["construct_s"].items()))
    out["summary"] = {"moves": {k: summary(v) for k, v in out["moves"].items()},
                      "recompute": {k: {"median_s": statistics.median(v), "max_s": max(v)} for k, v in rec.items()}}
    print(f"\nwrote {write_json(out, args.json)}")


if __name__ == "__main__":
    main()
