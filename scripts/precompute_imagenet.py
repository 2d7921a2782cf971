"""Precompute the heavy ImageNet experiments of notebooks/10_real_photos.ipynb into data/results/ (outputs committed).

    MALLOC_MMAP_THRESHOLD_=10000000000 nohup python scripts/precompute_imagenet.py > precompute.log 2>&1 &
    python scripts/precompute_imagenet.py --parts convergence sanity      # only some parts
    python scripts/precompute_imagenet.py --quick                         # smoke run: 2 photos, tiny settings

Model: attrkit.zoo.load("imagenet") (EfficientNet-Lite0, the shipped photos at 224²), one CPU thread.
(MALLOC_MMAP_THRESHOLD_ only avoids glibc's page-fault tax on >32 MB activations; results are unchanged.)

Parts (each writes its own files; every file is csv, or npz read with allow_pickle=False):
- convergence: IG of p(predicted class) with black and blur (σ = 10 px) baselines on chelsea, coffee, rocket:
  Gauss–Legendre with 16…128 nodes and the adaptive rule at tol 5 % and 1 % -> imagenet_convergence.csv.
- agi_cat: AGI with the paper's settings (k = 20 of 1000 random classes, seed 0; m = 20; ε = 0.05 on [0, 1];
  probability) in both modes on chelsea, beside IG (black and blur, 128 GL nodes) and the gradient, on the
  same output -> imagenet_cat_maps.npz (channel-summed maps, float16) and imagenet_cat_walks.csv.
- evaluation: for every photo (target = the predicted class, as RISE and the AGI repository): maps IG (black,
  64 GL nodes, probability), AGI paper and reference (paper settings as above), gradient, a seeded random map;
  deletion and insertion under protocol="ours" and "agi-repo", 28 steps of 1,792 pixels (the repository uses
  224 steps of 224: 8x the forwards) -> imagenet_eval.csv (one row per photo x method x protocol x kind) and
  imagenet_eval_curves.npz (the curves).
- sanity: cascading randomisation (Adebayo et al. 2018) of IG (32 GL nodes, probability) and the gradient on
  chelsea and coffee, one stage per architectural unit (classifier, head, the 7 MBConv stages top-down, stem)
  -> imagenet_sanity.csv and imagenet_sanity_maps.npz.
"""

import argparse
import csv
import time
from pathlib import Path

import numpy as np
import torch

import attrkit
from attrkit import baselines, metrics, sanity, zoo
from attrkit.methods import gradient

OUT = Path(__file__).resolve().parent.parent / "data" / "results"
PAPER = dict(classes=20, selection="random", seed=0, epsilon=0.05, max_steps=20, output="probability",
             bounds=(0.0, 1.0), batch_size=10)
BLUR_SIGMA = 10.0
EVAL_PIXELS = 1792  # 224² / 1792 = 28 steps
# one stage per architectural unit of EfficientNet-Lite0, top first: block indices of the 7 stages
STAGE_BLOCKS = [(15,), (11, 12, 13, 14), (8, 9, 10), (5, 6, 7), (3, 4), (1, 2), (0,)]


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def write_csv(name, rows):
    path = OUT / name
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    log(f"wrote {path} ({len(rows)} rows)")


def write_npz(name, **arrays):
    path = OUT / name
    np.savez_compressed(path, **arrays)
    log(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


def kept_rows(name, redo):
    """The rows of an earlier run for photos not being redone: the evaluation can be run a few photos at a time."""
    path = OUT / name
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["photo"] not in redo]


def kept_curves(name, redo):
    path = OUT / name
    if not path.exists():
        return {}
    with np.load(path, allow_pickle=False) as z:
        return {k: s for k, s in zip(z["keys"].tolist(), z["scores"]) if k.split("|")[0] not in redo}


def summed(m):
    """Channel-summed map (N, H, W) as float16: what the figures show, a quarter of the bytes."""
    return m.detach().sum(1).numpy().astype(np.float16)


def convergence(e, names, quick):
    rows = []
    ladder = [8, 16] if quick else [16, 32, 64, 128]
    for name in names:
        k = e.photo_names.index(name)
        x = e.x_test[k:k + 1]
        for bname, base in [("black", None), ("blur", baselines.Blur(BLUR_SIGMA))]:
            for steps in ladder:
                t = time.process_time()
                r = attrkit.integrated_gradients(e.model, x, baseline=base, steps=steps, method="gausslegendre",
                                                 output="probability", batch_size=8, record="none", progress=False)
                rows.append(dict(photo=name, baseline=bname, rule="gausslegendre", tol="", steps=steps,
                                 evaluations=steps, gap=float(r.relative_delta[0]), score=float(r.score[0]),
                                 baseline_score=float(r.baseline_score[0]), cpu_s=time.process_time() - t))
                log(name, bname, steps, f"gap {rows[-1]['gap']:+.4f}")
            for tol in (0.05, 0.01):
                t = time.process_time()
                r = attrkit.integrated_gradients(e.model, x, baseline=base, steps=64 if quick else 256,
                                                 method="adaptive", tol=tol, output="probability", batch_size=8,
                                                 record="none", progress=False)
                rows.append(dict(photo=name, baseline=bname, rule="adaptive", tol=tol, steps=r.steps,
                                 evaluations=r.refinement.total_evaluations, gap=float(r.relative_delta[0]),
                                 score=float(r.score[0]), baseline_score=float(r.baseline_score[0]),
                                 cpu_s=time.process_time() - t))
                log(name, bname, "adaptive", tol, rows[-1]["evaluations"], f"gap {rows[-1]['gap']:+.4f}")
            write_csv("imagenet_convergence.csv", rows)  # as it goes: a stopped run keeps what it has


def agi_cat(e, quick):
    k = e.photo_names.index("chelsea")
    x = e.x_test[k:k + 1]
    settings = dict(PAPER, classes=3, max_steps=3) if quick else PAPER
    maps, rows = {}, []
    for mode in ("paper", "reference"):
        t = time.process_time()
        r = attrkit.agi(e.model, x, mode=mode, record="scores", progress=False, **settings)
        cpu = time.process_time() - t
        maps[f"agi_{mode}"] = summed(r.attributions)[0]
        maps[f"agi_{mode}_per_class"] = summed(r.per_class[0])
        maps[f"agi_{mode}_classes"] = r.classes[0].numpy()
        for tr in r.trajectories[0]:
            rows.append(dict(mode=mode, false_class=tr.false_class, name=e.classes[tr.false_class],
                             steps_taken=tr.steps_taken, reached=int(tr.reached), accounted=tr.accounted,
                             score_drop=tr.score_drop, scores=" ".join(f"{s:.5f}" for s in tr.scores.tolist()),
                             false_scores=" ".join(f"{s:.5f}" for s in tr.false_scores.tolist()),
                             cpu_s_whole_call=cpu))
        log("agi", mode, f"{cpu:.1f} s CPU")
    for bname, base in [("black", None), ("blur", baselines.Blur(BLUR_SIGMA))]:
        r = attrkit.integrated_gradients(e.model, x, baseline=base, steps=16 if quick else 128,
                                         method="gausslegendre", output="probability", batch_size=8,
                                         record="scores", progress=False)
        maps[f"ig_{bname}"] = summed(r.attributions)[0]
        maps[f"ig_{bname}_path_scores"] = r.trace.scores[0].numpy()
        maps[f"ig_{bname}_alphas"] = r.trace.alphas.numpy()
        maps[f"ig_{bname}_contributions"] = r.trace.contributions[0].numpy()
    maps["gradient"] = summed(gradient(e.model, x))[0]
    write_npz("imagenet_cat_maps.npz", **maps)
    write_csv("imagenet_cat_walks.csv", rows)


def evaluation(e, names, quick):
    settings = dict(PAPER, classes=3, max_steps=3) if quick else PAPER
    rows, curves = kept_rows("imagenet_eval.csv", names), kept_curves("imagenet_eval_curves.npz", names)
    for name in names:
        k = e.photo_names.index(name)
        x = e.x_test[k:k + 1]
        t0 = time.process_time()
        maps = {"IG": attrkit.integrated_gradients(e.model, x, steps=8 if quick else 64, method="gausslegendre",
                                                   output="probability", batch_size=8, record="none",
                                                   progress=False).attributions}
        cpu = {"IG": time.process_time() - t0}
        for mode in ("paper", "reference"):
            t0 = time.process_time()
            maps[f"AGI {mode}"] = attrkit.agi(e.model, x, mode=mode, record="none", progress=False,
                                              **settings).attributions
            cpu[f"AGI {mode}"] = time.process_time() - t0
        maps["gradient"] = gradient(e.model, x)
        maps["random"] = metrics.random_map(x.shape, seed=k)
        for method, m in maps.items():
            for protocol in ("ours", "agi-repo"):
                for kind in ("deletion", "insertion"):
                    c = metrics.causal_metric(e.model, x, m, kind=kind, protocol=protocol,
                                              pixels_per_step=EVAL_PIXELS, batch_size=10, progress=False)
                    rows.append(dict(photo=name, method=method, protocol=protocol, kind=kind,
                                     auc=float(c.auc[0]), target=e.classes[int(c.targets[0])],
                                     target_ok=int(int(c.targets[0]) in e.accepted[k]),
                                     map_cpu_s=cpu.get(method, 0.0)))
                    curves[f"{name}|{method}|{protocol}|{kind}"] = c.scores[0].numpy()
        log("evaluation", name, {m: round(v, 1) for m, v in cpu.items()})
        write_csv("imagenet_eval.csv", rows)  # after every photo: a stopped run keeps what it has
    write_npz("imagenet_eval_curves.npz", keys=np.array(list(curves)), scores=np.stack(list(curves.values())))


def stages(model):
    """(stage name, [module names]) top-down: classifier, head, MBConv stages 7..1, stem."""
    out = [("classifier", ["net._fc"]), ("head", ["net._conv_head", "net._bn1"])]
    for s, blocks in zip(range(7, 0, -1), STAGE_BLOCKS):
        out.append((f"stage {s}", [n for n, m in model.named_modules()
                                   if any(n.startswith(f"net._blocks.{b}.") for b in blocks)
                                   and any(True for _ in m.parameters(recurse=False))]))
    out.append(("stem", ["net._conv_stem", "net._bn0"]))
    return out


def sanity_check(e, names, quick):
    """Cascading randomisation by architectural unit, with attrkit.sanity's pieces (randomise_, similarity)."""
    import copy
    idx = [e.photo_names.index(n) for n in names]
    x = e.x_test[idx]
    with torch.no_grad():
        target = e.model(x).argmax(1)
    methods = {"IG": lambda m: attrkit.integrated_gradients(m, x, target=target, steps=8 if quick else 32,
                                                            method="gausslegendre", output="probability",
                                                            batch_size=8, record="none",
                                                            progress=False).attributions,
               "gradient": lambda m: gradient(m, x, target=target)}
    work = copy.deepcopy(e.model)
    parts = dict(work.named_modules())
    rows, maps, originals, seed = [], {}, {}, 0
    for stage, modules in [("original", [])] + stages(work):
        for name in modules:
            sanity.randomise_(parts[name], seed)
            seed += 1
        work.eval()
        for method, fn in methods.items():
            a = fn(work).detach()
            originals.setdefault(method, a)
            sim = sanity.similarity(originals[method], a)
            for i, n in enumerate(names):
                rows.append(dict(stage=stage, method=method, photo=n, **{k: float(v[i]) for k, v in sim.items()}))
            maps.setdefault(method, []).append(summed(a))
        log("sanity", stage)
    write_csv("imagenet_sanity.csv", rows)
    write_npz("imagenet_sanity_maps.npz", stages=np.array([r for r in dict.fromkeys(r["stage"] for r in rows)]),
              photos=np.array(names), **{m: np.stack(v) for m, v in maps.items()})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", nargs="*", default=["convergence", "agi_cat", "sanity", "evaluation"])
    p.add_argument("--photos", nargs="*", help="photos for the evaluation (default: all)")
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    e = zoo.load("imagenet")
    names = a.photos or (e.photo_names[:2] if a.quick else e.photo_names)
    t = time.time()
    for part in a.parts:
        log("start", part)
        if part == "convergence":
            convergence(e, ["chelsea"] if a.quick else a.photos or ["chelsea", "coffee", "rocket"], a.quick)
        elif part == "agi_cat":
            agi_cat(e, a.quick)
        elif part == "sanity":
            sanity_check(e, ["chelsea"] if a.quick else ["chelsea", "coffee"], a.quick)
        elif part == "evaluation":
            evaluation(e, names, a.quick)
        else:
            raise SystemExit(f"unknown part {part!r}")
    log(f"done in {time.time() - t:.0f} s wall")


if __name__ == "__main__":
    main()
