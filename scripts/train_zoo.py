"""Train the zoo's models and write data/weights/<name>.pt (state_dicts); prints test accuracy.

    python scripts/train_zoo.py                 # all models
    python scripts/train_zoo.py mnist digits    # some

Deterministic: one thread, fixed seeds, deterministic algorithms, so a rerun on the same machine gives the
same weights (another CPU or torch version may differ in the last digits; the tests check accuracy
thresholds, not exact weights). Each model takes seconds on a CPU. Needs the data from make_data.py.
"""

import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
from attrkit import zoo  # noqa: E402

# epochs, learning rate, batch size, weight decay; and the test accuracy each must reach (tests check it).
CONFIG = {
    "mnist": dict(epochs=8, lr=1e-3, batch=64, wd=0.0, min_acc=0.95),
    "digits": dict(epochs=30, lr=1e-3, batch=64, wd=0.0, min_acc=0.97),
    "tweets": dict(epochs=10, lr=2e-3, batch=64, wd=1e-4, min_acc=0.82),
    "breast_cancer": dict(epochs=60, lr=1e-3, batch=32, wd=1e-4, min_acc=0.95),
    "mnist_shortcut": dict(epochs=6, lr=1e-3, batch=64, wd=0.0, min_acc=0.95),
}


@torch.no_grad()
def accuracy(model, x, y):
    return (model(x).argmax(1) == y).float().mean().item()


def train(name):
    cfg = CONFIG[name]
    torch.manual_seed(0)
    entry = zoo.load(name, weights=False)  # data + freshly initialised architecture
    model, x, y = entry.model.train(), entry.x_train, entry.y_train
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["wd"])
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for _ in range(cfg["epochs"]):
        for idx in torch.randperm(len(y), generator=gen).split(cfg["batch"]):
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    path = zoo.data_dir() / "weights" / f"{name}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    acc = accuracy(model, entry.x_test, entry.y_test)
    line = f"{name:15s} test acc {acc:.4f}  ({time.perf_counter() - start:.1f} s, {path.stat().st_size // 1024} KB)"
    if name == "mnist_shortcut":  # the shortcut: how much accuracy rides on the marker?
        clean = accuracy(model, entry.x_test_clean, entry.y_test)
        wrong_y = (entry.y_test + 1) % 10
        wrong = accuracy(model, entry.add_marker(entry.x_test_clean, wrong_y), entry.y_test)
        follows = accuracy(model, entry.add_marker(entry.x_test_clean, wrong_y), wrong_y)
        line += (f"\n{'':15s} without marker {clean:.4f}; with the next class's marker {wrong:.4f}"
                 f" (prediction = the marker's class {follows:.4f})")
    print(line, flush=True)
    if acc < cfg["min_acc"]:
        raise SystemExit(f"{name}: test accuracy {acc:.4f} below {cfg['min_acc']}")


if __name__ == "__main__":
    torch.set_num_threads(1)  # two threads on a busy 2-core machine are slower, and change the digits
    torch.use_deterministic_algorithms(True)
    wanted = sys.argv[1:] or zoo.names()
    for n in wanted:
        if n not in CONFIG:
            raise SystemExit(f"unknown zoo model {n!r}; choose from {', '.join(CONFIG)}")
    for n in wanted:
        train(n)
