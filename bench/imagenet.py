"""Speed on the real ImageNet model (EfficientNet-Lite0 at 224², zoo.load("imagenet")), side by side in one process.

    python -m bench.imagenet                 # IG vs captum, AGI 20 x 20 both modes, IG time/memory vs steps
    python -m bench.imagenet --quick         # a smoke run: 2 repeats, AGI 4 classes x 4 steps, fewer memory rows
    python -m bench.imagenet --device cuda   # the same on a GPU (wall clock with synchronisation)
    python -m bench.imagenet --repeats 2     # fewer timed rounds (AGI reference mode is ~2 min per round)

- IG: ``bench.ig.time_row`` reused (attrkit vs captum vs captum with delta vs a bare loop, Gauss–Legendre, equal
  steps and internal batch size, paired per-round ratios with bootstrap intervals).
- AGI (k = 20 random classes, m = 20, ε = 0.05, per image): ``attrkit.agi`` (default and ``batch_size=10``) vs the
  authors' loop (``bench.agi.authors_loop``) and vs bare forward + 2 backward over exactly AGI's batches
  (``bench.agi.bare_loop``), both modes.
- IG time and peak memory (RSS high-water mark, each in a fresh process) vs steps 16…128 and batch_size.
CPU: one thread, process CPU time (``time.process_time``), which neighbours on a shared machine barely disturb.
The paper's figure to beat: 15 s per image (Inception V3, AGI, GTX 1080).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import torch

from attrkit import agi, integrated_gradients, zoo
from bench._util import interleaved, paired_ratio, table, write_json
from bench.agi import authors_loop, bare_batches, bare_loop
from bench.ig import _status_kb, time_row


def load(device):
    e = zoo.load("imagenet")
    return e.model.to(device), e.x_test[e.photo_names.index("chelsea")][None].to(device)


def agi_rows(model, x, k, steps, repeats, sync, clock):
    rows = []
    with torch.no_grad():
        i = int(model(x).argmax(1))
    for mode in ("paper", "reference"):
        common = dict(classes=k, max_steps=steps, epsilon=0.05, mode=mode, progress=False)
        ref = agi(model, x, record="full", **common)  # the classes and the batches AGI really evaluates
        classes, batches = ref.classes[0].tolist(), bare_batches(ref)
        authors_model = model  # the authors' models require grad: their loop also fills the parameters' .grad
        fns = {"agi": lambda: agi(model, x, record="none", **common),
               "agi_bs10": lambda: agi(model, x, record="none", batch_size=10, **common),
               "authors": lambda: authors_loop(authors_model, x, i, classes, 0.05, steps, mode),
               "bare": lambda: bare_loop(model, batches)}
        for p in model.parameters():
            p.requires_grad_(True)
        t = interleaved(fns, repeats=repeats, warmup=1, sync=sync, clock=clock)
        row = {"mode": mode, "k": k, "m": steps, "mean_steps": float(ref.steps_taken.float().mean()),
               **{f"{n}_s": v["median"] for n, v in t.items()}}
        for a, b in (("agi", "authors"), ("agi_bs10", "authors"), ("agi", "bare"), ("agi", "agi_bs10")):
            r, lo, hi = paired_ratio(t[a]["times"], t[b]["times"])
            row[f"{a}/{b}"], row[f"{a}/{b} 90%"] = r, f"{lo:.2f}–{hi:.2f}"
        rows.append(row)
        print(table([row], list(row)), flush=True)
    return rows


def memory_probe(spec):
    torch.set_num_threads(1)
    model, x = load("cpu")
    with torch.no_grad():
        target = model(x).argmax(1)
    run = lambda steps: integrated_gradients(model, x, target=target, steps=steps, method="gausslegendre",
                                             batch_size=spec["batch_size"], record="none", progress=False)
    run(min(spec["steps"], spec["batch_size"] or 2))  # warm-up: the allocator's first use is not the peak
    with open("/proc/self/clear_refs", "w") as f:  # Linux: resets VmHWM to the current RSS
        f.write("5")
    before = _status_kb("VmRSS")
    t = time.process_time()
    run(spec["steps"])
    return {**spec, "cpu_s": time.process_time() - t, "peak_increase_mb": (_status_kb("VmHWM") - before) / 1024}


def memory_rows(configs):
    rows = []
    for steps, batch_size in configs:
        out = subprocess.run([sys.executable, "-m", "bench.imagenet", "--memory-probe",
                              json.dumps({"steps": steps, "batch_size": batch_size})], capture_output=True,
                             text=True, check=True, env={**os.environ, "ATTRKIT_PROGRESS": "0"})
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--device", default="cpu")
    p.add_argument("--parts", nargs="*", default=["ig", "agi", "memory"])
    p.add_argument("--repeats", type=int, help="timed rounds per case (default 5, --quick 2)")
    p.add_argument("--json", default="bench/out/imagenet.json")
    p.add_argument("--memory-probe", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.memory_probe:
        print(json.dumps(memory_probe(json.loads(a.memory_probe))))
        return
    torch.set_num_threads(1)
    cuda = a.device == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    clock = time.perf_counter if cuda else time.process_time
    model, x = load(a.device)
    repeats = a.repeats or (2 if a.quick else 5)
    out = {"device": a.device, "torch": torch.__version__, "clock": clock.__name__}
    if "ig" in a.parts:
        out["ig"] = [time_row("efficientnet_lite0", model, x, steps, 16, repeats, 1, sync, clock)
                     for steps in ((16,) if a.quick else (32, 64))]
        print(table(out["ig"], ["steps", "attrkit_s", "captum_s", "bare_s", "ig/captum", "ig/bare"]), flush=True)
    if "agi" in a.parts:
        k, m = (4, 4) if a.quick else (20, 20)
        out["agi"] = agi_rows(model, x, k, m, repeats, sync, clock)
    if "memory" in a.parts and not cuda:
        configs = [(16, 4), (32, 16)] if a.quick else [(s, b) for s in (16, 32, 64, 128) for b in (4, 16, None)
                                                       if not (s == 128 and b is None)]
        out["memory"] = memory_rows(configs)
    print("wrote", write_json(out, a.json))


if __name__ == "__main__":
    main()
