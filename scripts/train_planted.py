"""Planted image patterns: a task whose cause is known pixel by pixel, and two patterns that must co-occur.

    python scripts/train_planted.py       # about two minutes on one CPU core; byte-identical on rerun (same CPU ISA)
    ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2 python scripts/train_planted.py   # the shipped file (AVX2+ CPUs)
    python scripts/train_planted.py --grades-only      # only regrade the shipped model (data/results/)

Training is seeded, one thread, deterministic algorithms; but the float kernels torch picks depend on the CPU's
vector ISA, and 12,000 SGD steps turn their low-bit differences into different weights (rerun on an AVX-512
machine: same accuracy, weights up to 0.13 apart). The shipped weights were made with AVX2 kernels; capping the
ISA as above reproduces them byte for byte (checked on an AVX-512 EPYC, 2026-12-04).

Images are 28x28 grey noise (8 levels in [0, 0.28]) carrying bright 5x5 shapes: a plus "A" and a hollow square
"B". Class 1 ("both") iff the image holds one A *and* one B; class 0 holds nothing, one A, one B, two As or two
Bs (so neither "a bright shape is present" nor "two shapes are present" solves the task: the network must find
both shapes and tell them apart). For a class-1 image the cause of the class is exactly the A and B pixels.

Trains :class:`attrkit.zoo.models.MnistCNN` (2 classes) on 12,000 fresh images, then writes to data/planted/:
``planted.pt`` (state_dict in float16), ``test.npz`` (200 test images: ``images`` uint8 (N, 28, 28), ``labels``, ``mask_a``,
``mask_b`` bool) and ``metrics.json``; and to data/results/planted_grades.json the grading table of notebook 11
(every method on the 100 class-1 test images; see :func:`methods_to_grade`).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from attrkit import groundtruth, metrics, methods  # noqa: E402
from attrkit import integrated_gradients as ig  # noqa: E402
from attrkit import baselines  # noqa: E402
from attrkit.zoo.models import MnistCNN  # noqa: E402

SIZE, SHAPE = 28, 5
PLUS = np.zeros((SHAPE, SHAPE), bool)
PLUS[2, :] = PLUS[:, 2] = True
SQUARE = np.ones((SHAPE, SHAPE), bool)
SQUARE[1:-1, 1:-1] = False
KINDS = ("none", "A", "B", "AA", "BB", "AB")       # AB is class 1; the rest are drawn equally often
SEED, N_TRAIN, N_TEST, EPOCHS = 0, 12000, 200, 6


def make_images(n: int, rng: np.random.Generator, positive_fraction: float = 0.5):
    """n images → (images uint8 (n, 28, 28) 0..255, labels (n,), mask_a, mask_b bool (n, 28, 28))."""
    images = (rng.integers(0, 8, (n, SIZE, SIZE)) * 10).astype(np.uint8)        # noise 0..70 ≈ 0..0.28
    labels = (rng.random(n) < positive_fraction).astype(np.int64)
    mask_a = np.zeros((n, SIZE, SIZE), bool)
    mask_b = np.zeros((n, SIZE, SIZE), bool)
    for i in range(n):
        kind = "AB" if labels[i] else KINDS[rng.integers(0, 5)]
        taken = np.zeros((SIZE, SIZE), bool)
        for letter in kind.replace("none", ""):
            while True:                                  # shapes never touch: one pixel of noise between them
                r, c = rng.integers(1, SIZE - SHAPE, 2)
                if not taken[r - 1:r + SHAPE + 1, c - 1:c + SHAPE + 1].any():
                    break
            taken[r:r + SHAPE, c:c + SHAPE] = True
            shape, mask = (PLUS, mask_a) if letter == "A" else (SQUARE, mask_b)
            mask[i, r:r + SHAPE, c:c + SHAPE] |= shape
            images[i, r:r + SHAPE, c:c + SHAPE][shape] = 255
    return images, labels, mask_a, mask_b


def as_input(images) -> torch.Tensor:
    return torch.as_tensor(np.asarray(images), dtype=torch.float32).unsqueeze(1) / 255.0


def train():
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    x, y, _, _ = make_images(N_TRAIN, rng)
    x, y = as_input(x), torch.as_tensor(y)
    model = MnistCNN(n_classes=2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(SEED)
    for _ in tqdm(range(EPOCHS), desc="planted"):
        order = torch.randperm(len(x), generator=g)
        for k in range(0, len(x), 64):
            idx = order[k:k + 64]
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():                  # ship float16 (half the bytes); report the shipped model's numbers
        for p in model.parameters():
            p.copy_(p.half().float())
    return model.eval()


def methods_to_grade():
    """name → f(model, x) giving attributions for class 1: the rows of the grading table."""
    one = 1

    def ig_with(baseline, steps=64, method="gausslegendre"):
        def run(m, x):
            x0 = baseline if baseline is None or isinstance(baseline, baselines.Baseline) else baseline(x)
            return ig(m, x, target=one, baseline=x0, steps=steps, method=method, record="none",
                      progress=False).attributions
        return run

    return {
        "random": lambda m, x: metrics.random_map(x.shape, seed=0),
        "gradient": lambda m, x: methods.gradient(m, x, target=one),
        "|gradient| (unsigned)": lambda m, x: methods.gradient(m, x, target=one).abs(),
        "gradient × input": lambda m, x: methods.gradient_x_input(m, x, target=one),
        "SmoothGrad": lambda m, x: methods.smoothgrad(m, x, target=one),
        "IG, black, 64 steps": ig_with(None),
        "IG, black, 4 steps": ig_with(None, steps=4, method="riemann_right"),
        "IG, blurred, 64 steps": ig_with(lambda x: baselines.gaussian_blur(x, 9, 3.0)),
        "IG, uniform noise ×8, 32 steps": ig_with(baselines.UniformNoise(samples=8, seed=0), steps=32),
        "AGI, paper mode": lambda m, x: methods.agi(m, x, target=one, mode="paper"),
        "AGI, reference mode": lambda m, x: methods.agi(m, x, target=one, mode="reference"),
    }


def grade_all(model, x, mask_a, mask_b, names=None) -> dict:
    """name → :func:`attrkit.groundtruth.grade` row for every method (or those named)."""
    mask, parts = mask_a | mask_b, (mask_a, mask_b)
    table = {}
    for name, f in methods_to_grade().items():
        if names is None or name in names:
            a = f(model, x).sum(1)                     # one channel: (N, 28, 28)
            table[name] = {k: round(v, 4) for k, v in groundtruth.grade(a, mask, parts).items()}
    return table


def load_shipped():
    """The shipped model and test arrays (for ``--grades-only``: regrade without retraining)."""
    out = ROOT / "data" / "planted"
    model = MnistCNN(n_classes=2)
    model.load_state_dict(torch.load(out / "planted.pt", map_location="cpu", weights_only=True))
    with np.load(out / "test.npz", allow_pickle=False) as f:
        return model.eval(), f["images"], f["labels"], f["mask_a"], f["mask_b"]


def main(grades_only: bool = False):
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out = ROOT / "data" / "planted"
    if grades_only:
        model, images, labels, mask_a, mask_b = load_shipped()
    else:
        model = train()
        images, labels, mask_a, mask_b = make_images(N_TEST, np.random.default_rng(SEED + 1))
        out.mkdir(parents=True, exist_ok=True)
        torch.save({k: v.half().clone() for k, v in model.state_dict().items()}, out / "planted.pt")
        np.savez_compressed(out / "test.npz", images=images, labels=labels, mask_a=mask_a, mask_b=mask_b)
    x = as_input(images)
    with torch.no_grad():
        pred = model(x).argmax(1).numpy()
    pos = labels == 1
    info = {"test_accuracy": round(float((pred == labels).mean()), 4), "test_images": N_TEST,
            "test_positives": int(pos.sum()), "train_images": N_TRAIN, "epochs": EPOCHS}
    (out / "metrics.json").write_text(json.dumps(info, indent=1) + "\n")
    print(info)
    table = grade_all(model, x[pos], torch.as_tensor(mask_a[pos]), torch.as_tensor(mask_b[pos]))
    res = ROOT / "data" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / "planted_grades.json").write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n")
    for name, row in table.items():
        print(f"{name:32s}", row)


if __name__ == "__main__":
    main(grades_only="--grades-only" in sys.argv[1:])
