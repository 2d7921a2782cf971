"""IG vs AGI vs controls on the shipped MNIST model: deletion, insertion, class subsampling, sanity check.

    python -m bench.evaluate            # 500 test images: writes data/results/evaluation*.csv and .png (shipped in the wheel)
    python -m bench.evaluate --quick    # 40 images, a smoke run: writes to bench/out/ (git-ignored)

The AGI paper (Pan, Li, Zhu, IJCAI 2021) claims AGI beats IG on RISE's deletion/insertion (Petsiuk et al.,
BMVC 2018). Here on the kit's own model, explaining the model's prediction (as the repository does), with:

- IG: black baseline, Gauss–Legendre, 100 nodes, on the softmax probability (the repository's captum IG);
- AGI, paper mode (path, Algorithm 1) and reference mode (the authors' code), ε = 0.05, 20 steps, probability
  output, k = 9 (all false classes) and k = 3 (random subsample, seed 0 + image index);
- gradient |∂p/∂x| (captum Saliency, as the repository's third method); controls: random map, Sobel edges;
- each map scored by deletion (lower is better) and insertion (higher is better) under our protocol (2-D map =
  channel sum, stable ranking, 28 pixels per step, black deletion / blur insertion, trapezoid area) and the AGI
  repository's (black for both, per-channel ranking, mean of the 29 points): :mod:`attrkit.metrics`;
- the share of positive attribution on the class marker of the ``mnist_shortcut`` model (and of the honest model,
  as a control) on 200 images with and without the marker (:func:`attrkit.explain.shortcut_report`);
- the class-subsampling ablation k = 1, 3, 5, 9 for both AGI modes, and Adebayo et al.'s cascading
  randomisation (:mod:`attrkit.sanity`) on the first 100 images, with the rank correlation also measured on
  the digit's pixels only (maps multiplied by the input are 0 on the black background whatever the weights).

Times are seconds of attribution per image on one CPU thread (a shared machine: compare ratios, not absolutes).
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import time
from pathlib import Path

import numpy as np
import torch

from attrkit import zoo
from attrkit.common.progress import progress_bar
from attrkit.agi import agi
from attrkit.explain import gradient, shortcut_report
from attrkit.ig import integrated_gradients
from attrkit.metrics import causal_metric, edge_map, random_map
from attrkit.sanity import cascading_randomisation

RESULTS = Path(__file__).resolve().parents[1] / "data" / "results"  # shipped with the kit: 06_evaluation reads them
EPS, STEPS, SEED = 0.05, 20, 0


def method_table(ig_steps=100):
    """name → (settings text, f(model, x, target) → maps). Every method explains the softmax probability."""
    def ig(m, x, t):
        return integrated_gradients(m, x, target=t, baseline=0.0, steps=ig_steps, method="gausslegendre",
                                    output="probability", record="none", progress=False).attributions

    def agi_(mode, k):
        return lambda m, x, t: agi(m, x, target=t, classes=k, selection="random", seed=SEED, epsilon=EPS,
                                   max_steps=STEPS, mode=mode, output="probability", bounds=(0.0, 1.0),
                                   record="none", progress=False).attributions

    def rand(m, x, t):
        return torch.stack([random_map(x.shape[1:], SEED + i) for i in range(len(x))])

    agi_text = f"eps={EPS}, steps={STEPS}, output=probability, random classes seed={SEED}"
    return {
        "IG": (f"black baseline, gausslegendre {ig_steps} steps, output=probability", ig),
        "AGI paper k=9": (f"mode=paper, k=9 (all false), {agi_text}", agi_("paper", 9)),
        "AGI paper k=3": (f"mode=paper, k=3, {agi_text}", agi_("paper", 3)),
        "AGI reference k=9": (f"mode=reference, k=9 (all false), {agi_text}", agi_("reference", 9)),
        "AGI reference k=3": (f"mode=reference, k=3, {agi_text}", agi_("reference", 3)),
        "gradient": ("|dp/dx| (captum Saliency)", lambda m, x, t: gradient(m, x, t, absolute=True)),
        "edge (control)": ("Sobel magnitude of the image", lambda m, x, t: edge_map(x)),
        "random (control)": (f"standard normal, seed {SEED} + image index", rand),
    }


def attribute(f, model, x, target, chunk=25):
    """Maps for all images, in chunks; returns (maps, seconds per image)."""
    t0 = time.perf_counter()
    maps = torch.cat([f(model, x[i:i + chunk], target[i:i + chunk]).detach() for i in range(0, len(x), chunk)])
    return maps, (time.perf_counter() - t0) / len(x)


def score(model, x, target, maps):
    """Per-image areas under both protocols: {protocol: (deletion curves, insertion curves)}."""
    return {p: (causal_metric(model, x, maps, "deletion", target=target, protocol=p, progress=False),
                causal_metric(model, x, maps, "insertion", target=target, protocol=p, progress=False))
            for p in ("ours", "agi-repo")}


def sem(a: torch.Tensor) -> float:
    return float(a.std() / math.sqrt(len(a))) if len(a) > 1 else math.nan


def rows_for(name, settings, seconds, curves, n):
    rows = []
    for protocol, (d, i) in curves.items():
        rows.append(dict(method=name, protocol=protocol, n_images=n, deletion=round(d.mean_auc, 5),
                         deletion_sem=round(sem(d.auc), 5), insertion=round(i.mean_auc, 5),
                         insertion_sem=round(sem(i.auc), 5), seconds_per_image=round(seconds, 5),
                         substrates=f"deletion {d.substrate}, insertion {i.substrate}",
                         pixels_per_step=d.pixels_per_step, score=d.auc_rule, settings=settings))
    return rows


def write_csv(path, rows):
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def paired(curves, a, b):
    """a vs b per image: mean difference and share of images where a is better, per protocol and metric."""
    rows = []
    for protocol in ("ours", "agi-repo"):
        for k, metric in enumerate(("deletion", "insertion")):
            da, db = curves[a][protocol][k].auc, curves[b][protocol][k].auc
            diff = da - db
            better = (diff < 0) if metric == "deletion" else (diff > 0)
            rows.append(dict(a=a, b=b, protocol=protocol, metric=metric, mean_a=round(float(da.mean()), 5),
                             mean_b=round(float(db.mean()), 5), mean_diff=round(float(diff.mean()), 5),
                             diff_sem=round(sem(diff), 5), a_better_share=round(float(better.float().mean()), 4),
                             tie_share=round(float((diff == 0).float().mean()), 4)))
    return rows


def figure(path, curves, names, ablation, sanity_rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colours = dict(zip(names, plt.get_cmap("tab10").colors))
    fig, ax = plt.subplots(2, 3, figsize=(16, 9), layout="constrained")
    for k, (metric, better) in enumerate((("deletion", "lower"), ("insertion", "higher"))):
        a = ax[0, k]
        for name in names:
            c = curves[name]["ours"][k]
            a.plot(c.fractions.mean(0), c.scores.mean(0), label=f"{name} ({c.mean_auc:.3f})", color=colours[name])
        a.set(xlabel="fraction of pixels changed", ylabel="p(predicted class), mean over images",
              title=f"{metric} (ours: {'black' if k == 0 else 'blur'} substrate): {better} area is better")
        a.legend(fontsize="x-small")
    a = ax[0, 2]
    for name in names:
        for protocol, marker in (("ours", "o"), ("agi-repo", "s")):
            d, i = curves[name][protocol]
            a.scatter(d.mean_auc, i.mean_auc, color=colours[name], marker=marker, s=50,
                      label=f"{name}" if protocol == "ours" else None)
    a.set(xlabel="deletion (lower is better)", ylabel="insertion (higher is better)",
          title="o = ours, □ = agi-repo protocol; best: top left")
    a.legend(fontsize="x-small")
    a, b = ax[1, 0], ax[1, 0].twinx()
    for mode, style in (("paper", "-"), ("reference", "--")):
        rs = [r for r in ablation if r["mode"] == mode and r["protocol"] == "ours"]
        a.plot([r["k"] for r in rs], [r["deletion"] for r in rs], style, marker="o", color="tab:red",
               label=f"deletion, {mode} mode")
        b.plot([r["k"] for r in rs], [r["insertion"] for r in rs], style, marker="s", color="tab:blue",
               label=f"insertion, {mode} mode")
    a.set(xlabel="k (false classes per image)", xticks=[1, 3, 5, 9], title="AGI class subsampling (ours)")
    a.set_ylabel("deletion (lower is better)", color="tab:red")
    b.set_ylabel("insertion (higher is better)", color="tab:blue")
    a.legend(fontsize="x-small", loc="upper left")
    b.legend(fontsize="x-small", loc="upper right")
    for a, keys, label in ((ax[1, 1], ("spearman_abs", "spearman_abs_support"),
                            "Spearman of |map|: all pixels (—), digit pixels only (··)"),
                           (ax[1, 2], ("ssim",), "SSIM of |map| (scaled to [0, 1])")):
        for name in dict.fromkeys(r["method"] for r in sanity_rows):
            rs = [r for r in sanity_rows if r["method"] == name]
            for key, style in zip(keys, ("-", ":")):
                a.plot(range(len(rs)), [r[key] for r in rs], style, marker="o", color=colours.get(name, "k"),
                       label=name if style == "-" else None)
        a.set_xticks(range(len(rs)), [r["stage"] for r in rs], rotation=30, fontsize="small")
        a.set(ylabel=label, xlabel="layers randomised, top down (cumulative)",
              title="sanity check (Adebayo et al. 2018)")
        a.axhline(0, color="0.7", lw=0.8)
        a.legend(fontsize="x-small")
    fig.suptitle(f"Shipped MNIST CNN, {len(curves[names[0]]['ours'][0])} test images: "
                 "IG vs AGI (Pan et al. 2021) vs gradient and controls; deletion/insertion after RISE (Petsiuk et al. 2018)")
    fig.savefig(path, dpi=80)
    plt.close(fig)


def chunked(f, chunk=25):
    """f(model, x, target) applied to chunks of the batch (IG with 100 steps on 200 images is 20,000 rows)."""
    return lambda m, x, t: torch.cat([f(m, x[i:i + chunk], t[i:i + chunk]) for i in range(0, len(x), chunk)])


def shortcut_rows(n):
    """Marker shares on the mnist_shortcut model and, as a control, the honest mnist model (same marked images)."""
    sc, honest = zoo.load("mnist_shortcut"), zoo.load("mnist")
    table = method_table()
    names = ["IG", "AGI paper k=9", "AGI reference k=9", "gradient", "edge (control)", "random (control)"]
    methods = {k: chunked(table[k][1]) for k in names}
    rows = []
    for model_name, entry in (("mnist_shortcut", sc), ("mnist (honest control)", honest)):
        r = shortcut_report(entry.model, sc.x_test_clean[:n], sc.y_test[:n], sc.add_marker, sc.marker_mask, methods)
        for row in r.table():
            rows.append(dict(model=model_name, method=row["method"], n_images=n,
                             share_with_marker=round(row["with_marker"], 5),
                             share_without_marker=round(row["without_marker"], 5), area_share=round(r.chance, 5),
                             accuracy_marked=round(r.accuracy_marked, 4), accuracy_clean=round(r.accuracy_clean, 4),
                             accuracy_wrong_marker=round(r.accuracy_wrong_marker, 4),
                             follows_wrong_marker=round(r.follows_wrong_marker, 4)))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=500, help="test images (default 500)")
    ap.add_argument("--sanity-n", type=int, default=100, help="images for the sanity check (default 100)")
    ap.add_argument("--shortcut-n", type=int, default=200, help="images for the marker shares (default 200)")
    ap.add_argument("--only-shortcut", action="store_true", help="run only the marker-share table")
    ap.add_argument("--quick", action="store_true", help="40 images, 8 for the sanity check, out to bench/out/")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default data/results, quick: bench/out)")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.sanity_n, args.shortcut_n = min(args.n, 40), min(args.sanity_n, 8), min(args.shortcut_n, 20)
    out = args.out or (Path(__file__).resolve().parent / "out" if args.quick else RESULTS)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    if args.only_shortcut:
        return write_shortcut(out, args.shortcut_n)

    e = zoo.load("mnist")
    model, x = e.model, e.x_test[:args.n]
    with torch.no_grad():
        target = model(x).argmax(1)  # the explained class is the prediction, as in the AGI repository
    print(f"mnist: {len(x)} test images, accuracy {float((target == e.y_test[:args.n]).float().mean()):.4f}; "
          f"explaining the predicted class")
    table = method_table()
    ablation_extra = [(mode, k) for mode in ("paper", "reference") for k in (1, 5)]
    sanity_methods = ["IG", "AGI paper k=9", "gradient", "edge (control)"]
    total = len(table) + len(ablation_extra) + len(sanity_methods)
    rows, curves, seconds = [], {}, {}
    t_start = time.perf_counter()
    with progress_bar(total, True, "evaluate") as bar:
        for name, (settings, f) in table.items():
            bar.set_description(name)
            maps, seconds[name] = attribute(f, model, x, target)
            curves[name] = score(model, x, target, maps)
            rows += rows_for(name, settings, seconds[name], curves[name], len(x))
            bar.update(1)
        ablation = []
        for mode in ("paper", "reference"):
            for k in (1, 3, 5, 9):
                name = f"AGI {mode} k={k}"
                if name not in curves:
                    bar.set_description(name)
                    fn = lambda m, xx, t, mode=mode, k=k: agi(  # noqa: E731
                        m, xx, target=t, classes=k, seed=SEED, epsilon=EPS, max_steps=STEPS, mode=mode,
                        output="probability", record="none", progress=False).attributions
                    maps, seconds[name] = attribute(fn, model, x, target)
                    curves[name] = score(model, x, target, maps)
                    bar.update(1)
                for protocol, (d, i) in curves[name].items():
                    ablation.append(dict(mode=mode, k=k, protocol=protocol, n_images=len(x),
                                         deletion=round(d.mean_auc, 5), deletion_sem=round(sem(d.auc), 5),
                                         insertion=round(i.mean_auc, 5), insertion_sem=round(sem(i.auc), 5),
                                         seconds_per_image=round(seconds[name], 5),
                                         settings=f"eps={EPS}, steps={STEPS}, random classes seed={SEED}"))
        sanity_rows = []
        xs, ts = x[:args.sanity_n], target[:args.sanity_n]
        for name in sanity_methods:
            bar.set_description(f"sanity: {name}")
            r = cascading_randomisation(model, xs, table[name][1], target=ts, seed=SEED, method_name=name,
                                        support="input", progress=False)
            for row in r.table():
                sanity_rows.append(dict(method=name, n_images=len(xs), **{k: (round(v, 5) if isinstance(v, float)
                                                                               else v) for k, v in row.items()}))
            bar.update(1)
    comparisons = paired(curves, "AGI paper k=9", "IG") + paired(curves, "AGI reference k=9", "IG")
    write_csv(out / "evaluation.csv", rows)
    write_csv(out / "evaluation_ablation.csv", ablation)
    write_csv(out / "evaluation_sanity.csv", sanity_rows)
    write_csv(out / "evaluation_paired.csv", comparisons)
    figure(out / "evaluation.png", curves, list(table), ablation, sanity_rows)

    print(f"\n{'method':<20} {'protocol':<9} {'deletion ↓':>11} {'insertion ↑':>12} {'s/image':>8}")
    for r in rows:
        print(f"{r['method']:<20} {r['protocol']:<9} {r['deletion']:>11.4f} {r['insertion']:>12.4f} "
              f"{r['seconds_per_image']:>8.4f}")
    print("\npaired, per image (a better share: deletion lower / insertion higher):")
    for r in comparisons:
        print(f"  {r['a']} vs {r['b']}, {r['protocol']}, {r['metric']}: {r['mean_a']:.4f} vs {r['mean_b']:.4f}, "
              f"diff {r['mean_diff']:+.4f} ± {r['diff_sem']:.4f}, a better on {r['a_better_share']:.0%}")
    write_shortcut(out, args.shortcut_n)
    print(f"\nwrote {', '.join(p.name for p in sorted(out.glob('evaluation*')))} to {out} "
          f"in {time.perf_counter() - t_start:.0f} s")


def write_shortcut(out, n):
    rows = shortcut_rows(n)
    write_csv(out / "evaluation_shortcut.csv", rows)
    print(f"\nshare of positive attribution on the class marker ({n} images; the marker is "
          f"{rows[0]['area_share']:.2%} of the image):")
    for r in rows:
        print(f"  {r['model']:<24} {r['method']:<18} with marker {r['share_with_marker']:.3f}, "
              f"without {r['share_without_marker']:.3f}")


if __name__ == "__main__":
    main()
