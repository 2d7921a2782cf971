"""How fast is batched AGI? Side by side, in one process, repeats interleaved, medians reported.

    python -m bench.agi                       # MNIST CNN (both modes) and a random-init resnet18 at 224², CPU
    python -m bench.agi --quick               # a smoke run: fewer repeats, resnet18 with 4 classes × 3 steps
    python -m bench.agi --device cuda         # adds Inception V3 at 224² (20 classes × 20 steps), per image
    python -m bench.agi --json out.json --models mnist --repeats 9 --threads 1

Compared, on the same input, classes, ε and steps:
- ``agi``: ``attrkit.agi`` (record="full", the default; ``agi_none`` with record="none").
- ``authors``: the reference loop as written in AGI-repo ``utils.py`` (``pgd_step``/``fgsm_step`` called per class
  by ``AGI_main.py test()``): batch 1, per class, per step one forward and two ``.backward()`` passes, which also
  fill the parameters' ``.grad`` (the authors' models require grad).
- ``sequential``: the same loop with ``torch.autograd.grad`` on the input only (no parameter gradients): the
  strictest one-at-a-time baseline, doing exactly AGI's arithmetic one row at a time.
- ``bare``: a batched forward + two backward passes over exactly the batches of points AGI evaluates, with no
  bookkeeping (agi/bare is AGI's overhead). A trajectory's last point is forwarded (the stop test) and, when the
  test stops it before max_steps, also differentiated, since it shares the batch: AGI pays this too. At t = 0
  bare forwards and differentiates every trajectory's copy of x_0, as a plain batched loop would; AGI shares one
  forward of x_0 per input and one batched backward (``attrkit.agi.walk._shared_start``), so agi/bare counts that
  saving as well as AGI's bookkeeping.
The JSON (default bench/out/agi.json) holds every repeat; goals: agi/authors ≤ 0.4 (MNIST, CPU), agi/bare ≤ 1.1,
Inception V3 on a GPU < 0.5 s per image.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from attrkit.agi import agi
from bench._util import paired_ratio

EPSILON = 0.05


# ---- the loops being compared ---------------------------------------------------------------------------------

def authors_loop(model, x, i, classes, epsilon, max_steps, mode):
    """AGI-repo utils.py pgd_step/fgsm_step + AGI_main.py test(), kept line for line (logits model, single
    softmax). mode="paper" only moves the base of the step from the original image to the current point."""
    step_grad = 0
    for l in classes:
        image = x
        perturbed_image = image.clone()
        c_delta = 0
        for _ in range(max_steps):
            perturbed_image.requires_grad = True
            output = model(perturbed_image)
            pred = output.max(1, keepdim=True)[1]
            if pred.item() == l:
                break
            output = F.softmax(output, dim=1)
            loss = output[0, l]
            model.zero_grad()
            loss.backward(retain_graph=True)
            data_grad_adv = perturbed_image.grad.data.detach().clone()
            loss_lab = output[0, i]
            perturbed_image.grad.zero_()
            model.zero_grad()
            loss_lab.backward()
            data_grad_lab = perturbed_image.grad.data.detach().clone()
            base = image if mode == "reference" else perturbed_image.detach()   # fgsm_step(image, ...)
            perturbed_rect = torch.clamp(base + epsilon * data_grad_adv.sign(), min=0, max=1)
            delta = -data_grad_lab * (perturbed_rect - base)
            perturbed_image = perturbed_rect.detach()
            c_delta = c_delta + delta
        step_grad = step_grad + c_delta
    model.zero_grad(set_to_none=True)
    return step_grad


def sequential_loop(model, x, i, classes, epsilon, max_steps, mode):
    """One trajectory at a time, batch 1, gradients of the input only (torch.autograd.grad)."""
    total = torch.zeros_like(x)
    for l in classes:
        p = x.clone()
        for _ in range(max_steps):
            p.requires_grad_(True)
            out = model(p)
            if out.argmax(1).item() == l:
                break
            prob = torch.softmax(out, dim=1)
            g_j, = torch.autograd.grad(prob[0, l], p, retain_graph=True)
            g_i, = torch.autograd.grad(prob[0, i], p)
            base = x if mode == "reference" else p.detach()
            nxt = torch.clamp(base + epsilon * g_j.sign(), 0, 1)
            total = total - g_i * (nxt - base)
            p = nxt.detach()
    return total


def bare_batches(res):
    """The batches AGI evaluates, per step t: every trajectory still walking at t (steps_taken ≥ t) is forwarded
    and differentiated, including those whose stop test then succeeds (the test needs the forward, and their row
    is in the batch); at t = max_steps the survivors get a forward only."""
    batches = []
    walks = [w for row in res.trajectories for w in row]
    for t in range(res.max_steps + 1):
        live = [w for w in walks if w.steps_taken >= t and (t < res.max_steps or w.steps_taken == t)]
        if live:
            dev = live[0].points.device
            batches.append((torch.stack([w.points[t] for w in live]),
                            torch.tensor([w.true_class for w in live], device=dev),
                            torch.tensor([w.false_class for w in live], device=dev), t < res.max_steps))
    return batches


def bare_loop(model, batches):
    """A batched forward and two backward passes per step, nothing else."""
    for X, i, j, differentiate in batches:
        if not differentiate:
            with torch.no_grad():
                model(X)
            continue
        X = X.clone().requires_grad_(True)
        p = torch.softmax(model(X), dim=1)
        torch.autograd.grad(p, X, torch.zeros_like(p).scatter_(1, j[:, None], 1.0), retain_graph=True)
        torch.autograd.grad(p, X, torch.zeros_like(p).scatter_(1, i[:, None], 1.0))


# ---- models -------------------------------------------------------------------------------------------------

class Normalize(nn.Module):
    """ImageNet mean/std inside the model, as in the AGI repo: inputs are pixels in [0, 1]."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def load_case(name, n_images):
    torch.manual_seed(0)
    if name == "mnist":
        from attrkit import zoo
        entry = zoo.load("mnist")
        return entry.model, entry.x_test[:n_images].clone()
    import torchvision
    if name == "resnet18":
        net = torchvision.models.resnet18(weights=None)
    elif name == "inception_v3":
        net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    else:
        raise SystemExit(f"unknown model {name!r}: choose mnist, resnet18, inception_v3")
    return nn.Sequential(Normalize(), net).eval(), torch.rand(n_images, 3, 224, 224)


# ---- timing ---------------------------------------------------------------------------------------------------

def timed(fn, device):
    """(wall seconds, this process's CPU seconds, result). On a shared CPU with one torch thread the CPU time
    is what the work cost, whatever the neighbours do; on a GPU only wall time (synchronised) means anything."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def run_case(model_name, mode, k, steps, repeats, device, methods, n_images=1):
    model, x = load_case(model_name, n_images)
    model, x = model.to(device), x.to(device)
    classes = "all" if k == "all" else k
    kw = dict(classes=classes, seed=0, epsilon=EPSILON, max_steps=steps, mode=mode, progress=False)
    res = agi(model, x, **kw)                                      # warm-up, and the points for `bare`
    batches = bare_batches(res)
    per_input = [(x[n:n + 1], int(res.target[n]), [j for j in res.classes[n].tolist() if j >= 0])
                 for n in range(len(x))]
    fns = {
        "agi": lambda: agi(model, x, **kw).attributions,
        "agi_none": lambda: agi(model, x, record="none", **kw).attributions,
        "authors": lambda: torch.cat([authors_loop(model, xn, i, js, EPSILON, steps, mode) for xn, i, js in per_input]),
        "sequential": lambda: torch.cat([sequential_loop(model, xn, i, js, EPSILON, steps, mode)
                                         for xn, i, js in per_input]),
        "bare": lambda: bare_loop(model, batches),
    }
    fns = {m: fns[m] for m in methods}
    wall, cpu = {m: [] for m in fns}, {m: [] for m in fns}
    diffs = {}
    for _ in range(repeats):                                       # interleaved: every method each round
        for m, fn in fns.items():
            dt, dc, out = timed(fn, device)
            wall[m].append(dt)
            cpu[m].append(dc)
            if m in ("authors", "sequential"):                     # same arithmetic, one row at a time
                diffs[m] = float((out - res.attributions).abs().max())
    med_wall = {m: statistics.median(v) for m, v in wall.items()}
    med_cpu = {m: statistics.median(v) for m, v in cpu.items()}
    med = med_cpu if device.type == "cpu" else med_wall            # what the ratios are taken on
    ratio = lambda d: {f"agi/{m}": d["agi"] / d[m] for m in d if m != "agi"}
    clock = cpu if device.type == "cpu" else wall                  # each round ran every method back to back:
    paired = {f"agi/{m}": paired_ratio(clock["agi"], clock[m])[0]  # its ratio is robust to a busy machine's drift
              for m in clock if m != "agi"}
    return dict(model=model_name, mode=mode, classes=k, steps=steps, images=len(x), device=str(device),
                trajectories=int((res.classes >= 0).sum()), reached=int(res.reached.sum()),
                mean_steps_taken=float(res.steps_taken[res.classes >= 0].float().mean()),
                clock="process CPU time" if device.type == "cpu" else "wall (synchronised)",
                wall_s=wall, cpu_s=cpu, median_s=med, median_wall_s=med_wall, median_cpu_s=med_cpu,
                agi_s_per_image=med["agi"] / len(x), agi_wall_s_per_image=med_wall["agi"] / len(x),
                ratios=ratio(med), ratios_paired=paired, ratios_wall=ratio(med_wall), max_abs_diff_vs_agi=diffs,
                repeats=repeats)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run: few repeats, small resnet18 case")
    ap.add_argument("--json", default="bench/out/agi.json", help="where to write the results")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--models", default=None, help="comma list of mnist, resnet18, inception_v3")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: the shared 2-core machines are too noisy with 2)")
    args = ap.parse_args(argv)
    os.environ["ATTRKIT_PROGRESS"] = "0"
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available here")
    torch.set_num_threads(args.threads)
    default = "mnist,resnet18" + (",inception_v3" if device.type == "cuda" else "")
    names = (args.models or default).split(",")
    every = ["agi", "agi_none", "authors", "sequential", "bare"]
    cases = []
    for name in names:
        if name == "mnist":
            reps = args.repeats or (3 if args.quick else 25)
            cases += [("mnist", mode, "all", 20, reps, every, 1) for mode in ("reference", "paper")]
        else:
            big = (4, 3) if args.quick and device.type == "cpu" else (20, 20)
            reps = args.repeats or (1 if args.quick else (2 if device.type == "cpu" else 5))
            cases.append((name, "reference", *big, reps, every, 1))
            if device.type == "cuda":                              # per-image time with several images at once
                cases.append((name, "reference", *big, reps, ["agi", "bare"], 8))
    results = []
    for name, mode, k, steps, reps, methods, n in cases:
        print(f"... {name} {mode} k={k} steps={steps} images={n} repeats={reps}", flush=True)
        results.append(run_case(name, mode, k, steps, reps, device, methods, n))
    report = dict(torch=torch.__version__, device=str(device), threads=torch.get_num_threads(),
                  cpu=platform.processor() or platform.machine(), quick=args.quick, epsilon=EPSILON,
                  cuda=torch.cuda.get_device_name() if device.type == "cuda" else None, cases=results)
    print_table(results)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1))
    print(f"wrote {path}")
    return report


def print_table(results):
    cols = ["agi", "agi_none", "authors", "sequential", "bare"]
    head = f"{'model':<13}{'mode':<10}{'k×m':>8}{'N':>3}{'reached':>9}" + "".join(f"{c + ' s':>13}" for c in cols)
    head += f"{'agi/authors':>13}{'agi/seq':>9}{'agi/bare':>10}{'s/image':>9}   paired: authors / seq / bare"
    print(head)
    for r in results:
        med, rat = r["median_s"], r["ratios"]
        cell = lambda v, w, f: f"{f.format(v):>{w}}" if v is not None else f"{'-':>{w}}"
        line = (f"{r['model']:<13}{r['mode']:<10}{str(r['classes']) + '×' + str(r['steps']):>8}{r['images']:>3}"
                f"{str(r['reached']) + '/' + str(r['trajectories']):>9}")
        line += "".join(cell(med.get(c), 13, "{:.3f}") for c in cols)
        line += cell(rat.get("agi/authors"), 13, "{:.3f}") + cell(rat.get("agi/sequential"), 9, "{:.3f}")
        line += cell(rat.get("agi/bare"), 10, "{:.3f}") + cell(r["agi_s_per_image"], 9, "{:.3f}")
        pr = r["ratios_paired"]
        line += "   " + " / ".join("-" if pr.get(k) is None else f"{pr[k]:.3f}"
                                   for k in ("agi/authors", "agi/sequential", "agi/bare"))
        print(line)
    if results:
        print(f"times and ratios: medians of {results[0]['clock']} (ratios of the medians; 'paired' = median "
              "over rounds of each round's ratio); wall-clock figures are in the JSON")
    print("goals: agi/authors ≤ 0.4 (MNIST, CPU); agi/bare ≤ 1.1; Inception V3 on a GPU < 0.5 s per image")


if __name__ == "__main__":
    main()
