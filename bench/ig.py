"""How fast, how many evaluations, how much memory: IG side by side in one process, repeats interleaved.

    python -m bench.ig                    # MNIST CNN (zoo) and a random-init resnet18 at 224², CPU (CUDA if there)
    python -m bench.ig --quick            # a smoke run: fewer inputs, steps and repeats
    python -m bench.ig --json out.json --device cpu --threads 1 --repeats 5

Measured (goals from the issue in brackets):
- time: ``attrkit`` (record="none", and "full") against ``bare`` (a batched forward + backward over exactly the
  same chunks of path points, weighted sum, nothing else; the caller's weights keep requires_grad) and against
  captum's IntegratedGradients at equal steps, rule (Gauss–Legendre) and batch size [ig/bare ≤ 1.05,
  ig/captum ≤ 1.0]. attrkit also computes F(x) and F(x′) (one forward pass of the 2N rows [x; x′], which also
  checks the model before the path starts) for the delta every result carries; bare does not, captum only
  when asked (``return_convergence_delta=True``: the captum_delta column, the like-for-like comparison).
  Ratios: of medians, of minima, and paired (the median of each round's own ratio) with a 90 % bootstrap
  interval over the rounds.
- evaluations: path points with a gradient that the adaptive rule needs to bring the completeness gap within 1 %,
  per input (MNIST test images, logit and probability), against Gauss–Legendre: ``first`` = the smallest n whose
  gap is within 1 % (an oracle: it needs the whole scan), ``stable`` = the n from which every larger n (≤ the
  scan's end) stays within, ``doubling`` = what "double the steps until it passes" costs (2 + 4 + 8 + …), and
  captum's default 50 [adaptive/GL ≤ 0.5]. The attribution error against a 256-node reference is reported too,
  and how erratic GL's 1 % test is in n (pass/fail changes per input; share of n between first and stable that
  fail). Then the same question for the whole batch, as one call: a fixed rule needs one n for all inputs (the
  smallest n at which every input is within 1 %, first and stable), the adaptive rule in one batched call gives
  each input its own grid; evaluations (path points with a gradient) and process CPU time of both.
- memory: peak RSS increase (CPU; CUDA: peak allocated) of one IG call in a fresh subprocess, record="none"
  with batch_size fixed, at few and many steps [flat], with unchunked and record="full" runs for contrast.
- progress: whether a tqdm bar appears for a run over ~1 s and stays away for a short one.
- ``--issue16``: (1) the float64 Riemann sum (B2) against the old float32 ``tensordot``, paired and interleaved
  (process CPU time; MNIST CNN 16 inputs × 50 steps and a small MLP at 5000 steps, where the sum is the largest
  share) [no measurable cost]; (2) peak RSS increase, fresh process each, of captum's IntegratedGradients and
  attrkit's default record policy on a 16 × 3 × 224² batch at 50 steps, internal_batch_size = batch_size = 16,
  a small conv net [attrkit default ≤ 1.25 × captum], with record="full" for contrast.
The JSON (default bench/out/ig.json) keeps every repeat.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import torch
from torch import nn

from attrkit.ig import integrated_gradients
from attrkit.ig.quadrature import quadrature
from bench._util import interleaved, paired_ratio, table, write_json


# ---- models ----------------------------------------------------------------------------------------------

def mnist_model():
    try:
        from attrkit import zoo

        entry = zoo.load("mnist")
        return entry.model, entry.x_test, "zoo mnist"
    except Exception:  # the zoo's weights missing: same architecture, random init
        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10)).eval()
        return model, torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)), "random-init mnist arch"


def resnet18():
    import torchvision

    torch.manual_seed(0)
    return torchvision.models.resnet18().eval()


# ---- the contenders ---------------------------------------------------------------------------------------

def bare_ig(model, x, x0, target, alphas, weights, batch_size):
    """The least code that computes the same numbers: chunks of path points, forward, backward, weighted sum."""
    diff, total = x - x0, torch.zeros_like(x)
    chunk = len(alphas) if batch_size is None else max(1, batch_size // len(x))
    for k0 in range(0, len(alphas), chunk):
        a = alphas[k0:k0 + chunk].to(x.dtype).view(-1, *[1] * x.dim())
        points = (x0 + a * diff).reshape(-1, *x.shape[1:]).requires_grad_()
        score = model(points).gather(1, target.repeat(len(a)).view(-1, 1)).sum()
        (g,) = torch.autograd.grad(score, points)
        total += torch.tensordot(weights[k0:k0 + chunk].to(x.dtype), g.view(len(a), *x.shape), dims=1)
    return diff * total


def time_row(name, model, x, steps, batch_size, repeats, warmup, sync, clock):
    from captum.attr import IntegratedGradients

    x0 = torch.zeros_like(x)
    with torch.no_grad():
        target = model(x).argmax(1)
    alphas, weights = quadrature("gausslegendre", steps)
    captum = IntegratedGradients(model)
    common = dict(target=target, steps=steps, method="gausslegendre", batch_size=batch_size, progress=False)
    fns = {
        "attrkit": lambda: integrated_gradients(model, x, record="none", **common),
        "bare": lambda: bare_ig(model, x, x0, target, alphas, weights, batch_size),
        "captum": lambda: captum.attribute(x, baselines=x0, target=target, n_steps=steps, method="gausslegendre",
                                           internal_batch_size=batch_size),
        "captum_delta": lambda: captum.attribute(x, baselines=x0, target=target, n_steps=steps,
                                                 method="gausslegendre", internal_batch_size=batch_size,
                                                 return_convergence_delta=True),
        "attrkit_full": lambda: integrated_gradients(model, x, record="full", **common),
    }
    t = interleaved(fns, repeats=repeats, warmup=warmup, sync=sync, clock=clock)
    med = {k: v["median"] for k, v in t.items()}
    low = {k: min(v["times"]) for k, v in t.items()}  # the least disturbed repeat, on a shared machine
    # each round ran every contender back to back: the median of the rounds' own ratios shrugs off slow phases;
    # the bootstrap interval says how far this machine lets one trust it
    pairs = {f"{a}/{b}": paired_ratio(t[a]["times"], t[b]["times"]) for a, b in
             (("attrkit", "bare"), ("attrkit", "captum"), ("attrkit", "captum_delta"), ("captum_delta", "captum"))}
    paired = lambda a, b: pairs[f"{a}/{b}"][0]
    interval = lambda a, b: "{:.3f}–{:.3f}".format(*pairs[f"{a}/{b}"][1:])
    return {"model": name, "N": len(x), "steps": steps, "batch_size": batch_size,
            **{f"{k}_s": v for k, v in med.items()},
            "ig/bare": med["attrkit"] / med["bare"], "ig/captum": med["attrkit"] / med["captum"],
            "ig/captum+delta": med["attrkit"] / med["captum_delta"], "full/bare": med["attrkit_full"] / med["bare"],
            "ig/bare (min)": low["attrkit"] / low["bare"], "ig/captum (min)": low["attrkit"] / low["captum"],
            "ig/bare (paired)": paired("attrkit", "bare"), "ig/captum (paired)": paired("attrkit", "captum"),
            "ig/captum+delta (paired)": paired("attrkit", "captum_delta"),
            "ig/bare 90%": interval("attrkit", "bare"), "ig/captum 90%": interval("attrkit", "captum"),
            "ig/captum+delta 90%": interval("attrkit", "captum_delta"),
            "captum+delta/captum (paired)": paired("captum_delta", "captum"),
            "times": {k: v["times"] for k, v in t.items()}}


# ---- evaluations to 1 % -------------------------------------------------------------------------------------

def evaluation_rows(model, xs, tol, gl_max, budget):
    rows, detail = [], []
    for output in ("logit", "probability"):
        common = dict(baseline=None, output=output, record="none", progress=False)
        target = None
        gaps = []  # GL gap per n, all inputs at once
        for n in range(1, gl_max + 1):
            r = integrated_gradients(model, xs, target=target, steps=n, method="gausslegendre", **common)
            target = r.target
            gaps.append((r.delta.abs() <= tol * (r.score - r.baseline_score).abs()))
        ok = torch.stack(gaps, 1)  # (N, gl_max)
        ref = integrated_gradients(model, xs, target=target, steps=256, method="gausslegendre", **common)
        per = []
        for i in range(len(xs)):
            row = ok[i].tolist()
            first = row.index(True) + 1 if any(row) else None
            stable = next((n + 1 for n in range(gl_max) if all(row[n:])), None) if row[-1] else None
            doubling, n = 0, 2
            while n <= gl_max:
                doubling += n
                if row[n - 1]:
                    break
                n *= 2
            else:
                doubling = None
            with warnings_off():
                ad = integrated_gradients(model, xs[i:i + 1], target=target[i:i + 1], steps=budget, tol=tol,
                                          method="adaptive", **common)
            err = lambda a: float((a - ref.attributions[i]).abs().sum() / ref.attributions[i].abs().sum())
            gl_first = integrated_gradients(model, xs[i:i + 1], target=target[i:i + 1], steps=first or gl_max,
                                            method="gausslegendre", **common)
            per.append({"output": output, "input": i, "adaptive": ad.steps, "converged": ad.refinement.converged,
                        "gl_first": first, "gl_stable": stable, "gl_doubling": doubling,
                        "err_adaptive": err(ad.attributions[0]), "err_gl_first": err(gl_first.attributions[0])})
        detail += per
        summary = {"output": output, "inputs": len(xs)}
        for ref_name in ("gl_first", "gl_stable", "gl_doubling", "captum_default_50"):
            ratios = [p["adaptive"] / (50 if ref_name == "captum_default_50" else p[ref_name]) for p in per
                      if ref_name == "captum_default_50" or p[ref_name]]
            summary[f"vs {ref_name} median"] = statistics.median(ratios)
            summary[f"vs {ref_name} mean"] = statistics.fmean(ratios)
        for k in ("adaptive", "gl_first", "gl_stable", "gl_doubling"):
            vals = [p[k] for p in per if p[k]]
            summary[f"{k} median evals"] = float(statistics.median(vals)) if vals else float("nan")
        # how erratic GL's 1 % test is in n: pass/fail changes per input, and the share of n between "first"
        # and "stable" that fail (why "first" is an oracle's luck rather than a count a user could pick)
        rows_ok = ok.tolist()
        flips = [sum(a != b for a, b in zip(r, r[1:])) for r in rows_ok]
        between = [r[p["gl_first"] - 1:p["gl_stable"] - 1] for r, p in zip(rows_ok, per)
                   if p["gl_first"] and p["gl_stable"]]
        summary["gl pass/fail flips median"] = float(statistics.median(flips))
        summary["gl pass/fail flips max"] = float(max(flips))
        summary["gl share failing between first and stable"] = statistics.median(
            [r.count(False) / len(r) for r in between if r] or [0.0])
        summary["median attr err adaptive"] = statistics.median(p["err_adaptive"] for p in per)
        summary["median attr err gl_first"] = statistics.median(p["err_gl_first"] for p in per)
        summary.update(batch_row(model, xs, target, ok, tol, budget, common, sum(p["adaptive"] for p in per)))
        rows.append(summary)
    return rows, detail


def batch_row(model, xs, target, ok, tol, budget, common, per_input_total):
    """The batch as one call: GL's one n for every input (first / stable over the scan) against one adaptive
    call, whose rows refine their own grids (its evaluations must equal the per-input runs' sum)."""
    every = ok.all(0).tolist()
    first = every.index(True) + 1 if any(every) else None
    stable = next((n + 1 for n in range(len(every)) if all(every[n:])), None) if every[-1] else None
    n = len(xs)
    with warnings_off():
        t = time.process_time()
        ad = integrated_gradients(model, xs, target=target, steps=budget, tol=tol, method="adaptive", **common)
        t_ad = time.process_time() - t
    out = {"batch adaptive evals": ad.refinement.total_evaluations, "batch adaptive converged": ad.refinement.converged,
           "batch adaptive = sum of per-input runs": ad.refinement.total_evaluations == per_input_total,
           "batch gl first n": first, "batch gl stable n": stable}
    if first:
        t = time.process_time()
        integrated_gradients(model, xs, target=target, steps=first, method="gausslegendre", **common)
        t_gl = time.process_time() - t
        out["batch adaptive / gl first (evals)"] = ad.refinement.total_evaluations / (n * first)
        out["batch adaptive / gl first (cpu time)"] = t_ad / t_gl
    if stable:
        out["batch adaptive / gl stable (evals)"] = ad.refinement.total_evaluations / (n * stable)
    return out


@contextlib.contextmanager
def warnings_off():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ---- memory, in a fresh process per measurement -------------------------------------------------------------

def memory_probe(spec: dict) -> dict:
    torch.set_num_threads(spec["threads"])
    device = spec["device"]
    model = resnet18().to(device)
    x = torch.rand(1, 3, spec["size"], spec["size"], device=device)
    with torch.no_grad():
        target = model(x).argmax(1)
    # warm up with one chunk of the size measured, so the allocator's first use of that size is not the peak
    integrated_gradients(model, x, target=target, steps=min(spec["steps"], spec["batch_size"] or 2),
                         method="gausslegendre", batch_size=spec["batch_size"], record="none", progress=False)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        with open("/proc/self/clear_refs", "w") as f:  # Linux: "5" resets the peak RSS (VmHWM) to the current RSS
            f.write("5")
        before = _status_kb("VmRSS") * 1024
    integrated_gradients(model, x, target=target, steps=spec["steps"], method="gausslegendre",
                         batch_size=spec["batch_size"], record=spec["record"], progress=False)
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else _status_kb("VmHWM") * 1024
    return {**spec, "before_mb": before / 2**20, "peak_increase_mb": (peak - before) / 2**20}


def _status_kb(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))


def memory_rows(configs, base):
    rows = []
    for steps, batch_size, record in configs:
        spec = {**base, "steps": steps, "batch_size": batch_size, "record": record}
        out = subprocess.run([sys.executable, "-m", "bench.ig", "--memory-probe", json.dumps(spec)],
                             capture_output=True, text=True, check=True, env={**os.environ, "ATTRKIT_PROGRESS": "0"})
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


# ---- issue 16: the float64 sum (B2) and the default record policy --------------------------------------------

def float64_sum_rows(mnist, mnist_x, repeats):
    import attrkit.ig.path as path

    new = path.riemann_sum
    # the float32 sum before the fix (its result now lands in the loop's float64 total)
    old = lambda g, w, out=None: out.add_(torch.tensordot(w.to(g), g, dims=1))  # noqa: E731
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(20, 32), nn.Tanh(), nn.Linear(32, 5)).eval()
    rows = []
    for name, model, x, steps in (("mnist", mnist, mnist_x[:16], 50), ("mlp", mlp, torch.rand(16, 20), 5000)):
        def run(fn):
            def go():
                path.riemann_sum = fn
                try:
                    # riemann_middle: numpy's leggauss at 5000 nodes alone takes minutes
                    integrated_gradients(model, x, steps=steps, method="riemann_middle", record="none",
                                         progress=False)
                finally:
                    path.riemann_sum = new
            return go
        t = interleaved({"float32": run(old), "float64": run(new)}, repeats=repeats, clock=time.process_time)
        ratio, lo, hi = paired_ratio(t["float64"]["times"], t["float32"]["times"])
        rows.append({"model": name, "steps": steps, "float32_s": t["float32"]["median"],
                     "float64_s": t["float64"]["median"], "f64/f32 (paired)": ratio, "90%": f"{lo:.3f}–{hi:.3f}"})
    return rows


def small_conv():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 7, stride=4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(8, 10)).eval()


def record_memory_probe(spec: dict) -> dict:
    torch.set_num_threads(spec["threads"])
    model, x = small_conv(), torch.rand(16, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    if spec["lib"] == "captum":
        from captum.attr import IntegratedGradients

        run = lambda: IntegratedGradients(model).attribute(x, target=0, n_steps=50, internal_batch_size=16)  # noqa
    else:
        kw = {} if spec["record"] == "default" else {"record": spec["record"]}
        run = lambda: integrated_gradients(model, x, target=0, steps=50, method="gausslegendre",  # noqa: E731
                                           batch_size=16, progress=False, **kw)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_kb("VmRSS") * 1024
    run()
    return {**spec, "peak_increase_mb": (_status_kb("VmHWM") * 1024 - before) / 2**20}


def issue16(a, mnist, mnist_x, out):
    repeats = a.repeats or (3 if a.quick else 15)
    rows = float64_sum_rows(mnist, mnist_x, repeats)
    out["float64_sum"] = rows
    print("\n## B2: the Riemann sum in float64 against the old float32 tensordot (process CPU s, paired)")
    print(table(rows, ["model", "steps", "float32_s", "float64_s", "f64/f32 (paired)", "90%"]))
    mem = []
    for lib, record in (("captum", "-"), ("attrkit", "default"), ("attrkit", "full")):
        spec = {"lib": lib, "record": record, "threads": a.threads}
        res = subprocess.run([sys.executable, "-m", "bench.ig", "--record-probe", json.dumps(spec)],
                             capture_output=True, text=True, check=True, env={**os.environ, "ATTRKIT_PROGRESS": "0"})
        mem.append(json.loads(res.stdout.strip().splitlines()[-1]))
    cap = mem[0]["peak_increase_mb"]
    for r in mem:
        r["/captum"] = r["peak_increase_mb"] / cap
    out["record_memory"] = mem
    print("\n## peak RSS increase, 16 × 3 × 224² at 50 steps, batch 16 (fresh process each, MiB) [default ≤ 1.25×]")
    print(table(mem, ["lib", "record", "peak_increase_mb", "/captum"]))


# ---- the progress bar ----------------------------------------------------------------------------------------

def progress_rows(slow, fast):
    rows = []
    for name, (model, x, steps, bs) in {"long run": slow, "short run": fast}.items():
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            integrated_gradients(model, x, steps=steps, batch_size=bs, method="gausslegendre", record="none",
                                 progress=None)
        rows.append({"run": name, "bar shown": "IG" in err.getvalue(), "stderr chars": len(err.getvalue())})
    return rows


# ---- main ----------------------------------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", default="bench/out/ig.json")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: on a shared 2-core machine two threads make every figure noisy)")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--memory-probe", default=None, help=argparse.SUPPRESS)
    p.add_argument("--record-probe", default=None, help=argparse.SUPPRESS)
    p.add_argument("--issue16", action="store_true", help="only the float64-sum and record-memory benches")
    a = p.parse_args(argv)
    if a.memory_probe:
        print(json.dumps(memory_probe(json.loads(a.memory_probe))))
        return
    if a.record_probe:
        print(json.dumps(record_memory_probe(json.loads(a.record_probe))))
        return
    torch.set_num_threads(a.threads)
    dev = a.device
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    repeats = a.repeats or (2 if a.quick else 10)
    mnist, mnist_x, mnist_name = mnist_model()
    mnist, mnist_x = mnist.to(dev), mnist_x.to(dev)
    res = resnet18().to(dev)
    size = 224
    rx = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(1)).to(dev)
    out = {"device": dev, "threads": a.threads, "quick": a.quick, "torch": torch.__version__,
           "machine": platform.platform(), "mnist": mnist_name}
    if a.issue16:
        issue16(a, mnist, mnist_x, out)
        print(f"\nwrote {write_json(out, a.json.replace('.json', '_issue16.json'))}")
        return

    print(f"# IG bench on {dev} ({a.threads} threads), {mnist_name}, resnet18 random-init at {size}²")
    cfg = [("mnist", mnist, mnist_x[:16], 50, None), ("mnist", mnist, mnist_x[:16], 50, 200),
           ("resnet18", res, rx, 4 if a.quick else 32, 4 if a.quick else 16)]
    # CPU: this process's CPU time (one thread: the work done, whatever the neighbours do); CUDA: synchronised wall
    clock = time.perf_counter if dev == "cuda" else time.process_time
    rows = [time_row(name, m, x, steps, bs, repeats, 1, sync, clock) for name, m, x, steps, bs in cfg]
    out["time"], out["clock"] = rows, "wall (synchronised)" if dev == "cuda" else "process CPU time"
    print(f"\n## time ({'wall' if dev == 'cuda' else 'process CPU'} seconds, median of interleaved repeats; "
          "Gauss–Legendre; ratios of medians, of minima, and the median of each round's own ratio)")
    print(table(rows, ["model", "N", "steps", "batch_size", "attrkit_s", "bare_s", "captum_s", "captum_delta_s",
                       "attrkit_full_s"]))
    print(table(rows, ["model", "steps", "batch_size", "ig/bare", "ig/captum", "ig/captum+delta", "full/bare",
                       "ig/bare (min)", "ig/captum (min)"]))
    print(table(rows, ["model", "ig/bare (paired)", "ig/bare 90%", "ig/captum (paired)", "ig/captum 90%",
                       "ig/captum+delta (paired)", "ig/captum+delta 90%", "captum+delta/captum (paired)"]))

    n_inputs, gl_max = (4, 32) if a.quick else (30, 96)
    ev, detail = evaluation_rows(mnist, mnist_x[:n_inputs], 0.01, gl_max, 256)
    out["evaluations"], out["evaluations_per_input"] = ev, detail
    print(f"\n## evaluations to a 1 % completeness gap, adaptive vs Gauss–Legendre ({n_inputs} MNIST inputs, "
          f"GL scanned to {gl_max})")
    for r in ev:
        print(f"- {r['output']}: " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                               for k, v in r.items() if k != "output"))

    base = {"device": dev, "threads": a.threads, "size": 64 if a.quick else 112}
    few, many = (32, 128) if a.quick else (32, 256)
    configs = [(few, 8, "none"), (many // 2, 8, "none"), (many, 8, "none")]
    if not a.quick:
        configs += [(few, None, "none"), (many, None, "none"), (few, 8, "full"), (many, 8, "full")]
    mem = memory_rows(configs, base)
    out["memory"] = mem
    print(f"\n## peak memory increase of one resnet18 IG call at {base['size']}² (fresh process each, MiB)")
    print(table(mem, ["steps", "batch_size", "record", "before_mb", "peak_increase_mb"]))

    prog = progress_rows((res, rx, 8 if a.quick else 16, 4), (mnist, mnist_x[:2], 8, None))
    out["progress"] = prog
    print("\n## progress bar (tqdm.auto, shown after 1 s)")
    print(table(prog, ["run", "bar shown", "stderr chars"]))
    print(f"\nwrote {write_json(out, a.json)}")


if __name__ == "__main__":
    main()
