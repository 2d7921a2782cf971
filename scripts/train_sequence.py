"""Train the negation-scope tagger of notebook 08 (attrkit.zoo.sequence): a few seconds on one CPU thread.

    python scripts/train_sequence.py            # writes data/sequence/tagger.pt and config.json
    python scripts/train_sequence.py --check    # retrain in memory, compare with the shipped file, write nothing

The task and the model are in :mod:`attrkit.zoo.sequence` (output t is NEG iff "not" occurs among the 3 tokens
before it). Training is seeded, one thread, deterministic, and runs in float64, from an initialisation drawn with
numpy: CPUs with other vector units (AVX-512, AVX2, SSE) sum in other orders, and float64 keeps those differences
(about 1e-14 here) far below the float16 rounding of the shipped weights, so a rerun gives the same tensors on
every CPU (checked with ATEN_CPU_CAPABILITY=default/avx2 and DNNL_MAX_CPU_ISA=SSE41 on an AVX-512 machine;
tests/test_sequence_model.py checks it).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from attrkit.zoo import sequence  # noqa: E402

SEED, N_TRAIN, EPOCHS, BATCH, LR = 0, 4000, 12, 50, 0.01
EMBED_DIM, CHANNELS = 8, 16
OUT = ROOT / "data" / "sequence"


def init(model: nn.Module, seed: int) -> None:
    """PyTorch's default initialisation (embedding N(0, 1) with a zero <pad> row; convolutions U(±1/√fan_in)),
    drawn with numpy: torch's own samplers differ in the last bit between vector units (AVX, SSE), numpy's do not."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, nn.Embedding):
                layer.weight.copy_(torch.from_numpy(rng.standard_normal(tuple(layer.weight.shape))))
                layer.weight[layer.padding_idx] = 0  # <pad> stays the zero vector (padding_idx: no gradient)
            elif isinstance(layer, nn.Conv1d):
                bound = 1 / math.sqrt(layer.in_channels * layer.kernel_size[0])
                for p in (layer.weight, layer.bias):
                    p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape))))


def train() -> dict:
    """The shipped state_dict: float16 tensors (float64 training, rounded once at the end)."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(SEED)  # nothing below draws from torch's global generator; seeded all the same
    model = sequence.NegationTagger(len(sequence.WORDS), EMBED_DIM, CHANNELS, len(sequence.TAGS)).double()
    init(model, SEED)
    x = sequence.sentences(N_TRAIN, SEED)
    y = sequence.tags(x)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    g = torch.Generator().manual_seed(SEED)
    for _ in range(EPOCHS):
        order = torch.randperm(N_TRAIN, generator=g)
        for k in range(0, N_TRAIN, BATCH):
            idx = order[k:k + BATCH]
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])  # over the 2 tags at every position
            opt.zero_grad()
            loss.backward()
            opt.step()
    return {k: v.detach().half() for k, v in model.state_dict().items()}


def accuracy(state: dict) -> dict:
    """The shipped (float16 → float32) model on the test sentences: per token, and whole sentences."""
    model = sequence.NegationTagger(len(sequence.WORDS), EMBED_DIM, CHANNELS, len(sequence.TAGS))
    model.load_state_dict({k: v.float() for k, v in state.items()})
    x = sequence.sentences(sequence.N_TEST, sequence.TEST_SEED)
    with torch.no_grad():
        right = model.eval()(x).argmax(1) == sequence.tags(x)
    return {"token_accuracy": round(right.double().mean().item(), 4),
            "sentence_accuracy": round(right.all(1).double().mean().item(), 4)}


def config(state: dict) -> dict:
    return {"vocab": list(sequence.WORDS), "tags": list(sequence.TAGS), "window": sequence.WINDOW,
            "embed_dim": EMBED_DIM, "channels": CHANNELS, "length": sequence.LENGTH, "p_not": sequence.P_NOT,
            "train": {"seed": SEED, "sentences": N_TRAIN, "epochs": EPOCHS, "batch": BATCH, "lr": LR,
                      "dtype": "float64, shipped as float16"},
            "test": {"seed": sequence.TEST_SEED, "sentences": sequence.N_TEST, **accuracy(state)}}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="compare a retrained model with the shipped file")
    args = p.parse_args(argv)
    start = time.perf_counter()
    state = train()
    seconds = time.perf_counter() - start
    if args.check:
        shipped = torch.load(OUT / "tagger.pt", map_location="cpu", weights_only=True)
        same = shipped.keys() == state.keys() and all(torch.equal(shipped[k], state[k]) for k in state)
        print(f"trained in {seconds:.1f} s; identical to the shipped tensors: {same}")
        return 0 if same else 1
    OUT.mkdir(parents=True, exist_ok=True)
    torch.save(state, OUT / "tagger.pt")
    info = config(state)
    (OUT / "config.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    print(f"trained in {seconds:.1f} s; test accuracy {info['test']}; wrote {OUT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
