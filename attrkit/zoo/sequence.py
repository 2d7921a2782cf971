"""A tiny sequence tagger with a planted rule: one output per token, to attribute position by position.

The IG paper attributes each output token of a translation model to the input tokens and reads the result as an
alignment (Sundararajan, Taly & Yan 2017, §6; the IG authors' howto: "for models with a sequence output,
attributions must be computed separately for each predicted token"). This task makes that reading checkable:

    Rule (negation scope): output position t is tagged NEG iff the word "not" occurs among the WINDOW = 3
    tokens before it (input positions t−3 … t−1); every other position is "plain".

So for every output position we know which input tokens *cause* its tag (:func:`alignment`). The model is a
small convolutional tagger, ids (N, L) → scores (N, 2, L), one score per tag and position::

    task = attrkit.zoo.sequence.load()
    task.model(task.encode("the film was not very good"))     # (1, 2, 6)
    integrated_gradients(task.model, ids, target=(NEG, t), layer=task.model.embedding)

Its receptive field (t−4 … t+4) is wider than the rule's window on both sides, so it has to *learn* to ignore a
"not" four tokens back, at t itself, or after t; that is what makes grading IG against the rule meaningful.
Sentences are random words of :data:`WORDS` (no grammar), so nothing but the rule predicts the tags.

Weights: ``data/sequence/tagger.pt`` (a float16 state_dict, read with ``weights_only=True``) and
``data/sequence/config.json`` (vocabulary, sizes, test accuracy), both written by ``scripts/train_sequence.py``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from .files import data_dir, missing

WORDS = ("<pad>", "not", "the", "film", "plot", "was", "is", "very", "good", "bad", "fun", "and", "a")
PAD, NOT = WORDS.index("<pad>"), WORDS.index("not")
TAGS = ("plain", "NEG")
NEG = TAGS.index("NEG")
WINDOW = 3        # the rule looks this many tokens back
LENGTH = 12       # tokens per generated sentence (the model itself takes any length)
P_NOT = 0.12      # share of "not" among generated tokens: about a third of the positions are NEG
TEST_SEED, N_TEST = 1, 500
REBUILD = "python scripts/train_sequence.py"


# ---- the planted rule: the ground truth ---------------------------------------------------------------------

def sentences(n: int, seed: int, length: int = LENGTH) -> torch.Tensor:
    """n random sentences → ids (n, length): "not" with probability P_NOT, else a uniform other word."""
    rng = np.random.default_rng(seed)  # PCG64: the same sentences on every machine and numpy version
    others = rng.integers(NOT + 1, len(WORDS), size=(n, length))  # never <pad> (id 0)
    ids = np.where(rng.random((n, length)) < P_NOT, NOT, others)
    return torch.from_numpy(ids.astype(np.int64))


def alignment(ids: torch.Tensor) -> torch.Tensor:
    """The rule's causes: bool (N, L_out, L_in), True at [n, t, s] iff token s is "not" and 1 ≤ t − s ≤ WINDOW."""
    ids = torch.as_tensor(ids)
    L = ids.shape[-1]
    t, s = torch.arange(L)[:, None], torch.arange(L)[None, :]
    in_window = (t - s >= 1) & (t - s <= WINDOW)                        # (L_out, L_in)
    return in_window & (ids == NOT)[:, None, :]


def tags(ids: torch.Tensor) -> torch.Tensor:
    """The rule's answer: (N, L) long, NEG (1) where a "not" occurs among the WINDOW tokens before, else 0."""
    return alignment(ids).any(-1).long()


# ---- the model ----------------------------------------------------------------------------------------------

class NegationTagger(nn.Module):
    """Embedding(V, d) → Conv1d(k=5) → ReLU → Conv1d(k=5) → ReLU → Conv1d(k=1): ids (N, L) → (N, 2, L).

    ``<pad>`` (id 0) embeds to the zero vector, and both convolutions pad with zeros: beyond the sentence's ends
    the model sees ``<pad>``, which is also the IG paper's text baseline, the all-zero embedding. So IG's
    ``baseline=None`` (ids of zeros) means "a sentence of nothing". Receptive field: t − 4 … t + 4.
    """

    def __init__(self, vocab_size: int = len(WORDS), embed_dim: int = 8, channels: int = 16, n_tags: int = 2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)  # <pad> = the zero vector
        self.conv1 = nn.Conv1d(embed_dim, channels, kernel_size=5, padding=2)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size=5, padding=2)
        self.out = nn.Conv1d(channels, n_tags, kernel_size=1)  # a linear layer applied at every position

    def forward(self, ids):
        h = self.embedding(ids).transpose(1, 2)  # (N, d, L)
        h = torch.relu(self.conv1(h))
        h = torch.relu(self.conv2(h))
        return self.out(h)                       # (N, tags, L)


# ---- the shipped task ---------------------------------------------------------------------------------------

@dataclass(eq=False)
class SequenceTask:
    """The trained tagger with its vocabulary, rule and test sentences (:func:`load`)."""

    model: NegationTagger        # eval mode; a fresh copy on every load()
    vocab: list                  # id → word
    tags: tuple                  # tag names, index = class of the output
    x_test: torch.Tensor         # (N_TEST, LENGTH) ids
    y_test: torch.Tensor         # (N_TEST, LENGTH) the rule's tags
    window: int
    rule: Callable = tags        # ids → tags (the ground truth)
    alignment: Callable = alignment  # ids → (N, L_out, L_in) bool causes

    def encode(self, text: str) -> torch.Tensor:
        """A sentence of vocabulary words, separated by spaces → ids (1, L)."""
        words = text.lower().split()
        unknown = [w for w in words if w not in self.vocab]
        if unknown or not words:
            raise ValueError(f"use only the words {', '.join(self.vocab)} (got {unknown or 'nothing'})")
        return torch.tensor([[self.vocab.index(w) for w in words]])

    def decode(self, ids) -> list:
        return [self.vocab[i] for i in torch.as_tensor(ids).reshape(-1).tolist()]


def folder():
    return data_dir() / "sequence"


def read_config() -> dict:
    path = folder() / "config.json"
    if not path.is_file():
        raise missing(path, REBUILD)
    return json.loads(path.read_text(encoding="utf-8"))


def build_model(config: dict | None = None) -> NegationTagger:
    """The untrained architecture, sized by the shipped config (seed torch first for a repeatable init)."""
    c = config or read_config()
    return NegationTagger(len(c["vocab"]), c["embed_dim"], c["channels"], len(c["tags"]))


def load(weights: bool = True) -> SequenceTask:
    """The trained tagger (float32, eval mode) and the test sentences; ``weights=False``: random weights."""
    config = read_config()
    if tuple(config["vocab"]) != WORDS or config["window"] != WINDOW:
        raise RuntimeError(f"{folder() / 'config.json'} does not match attrkit.zoo.sequence: "
                           f"rebuild with `{REBUILD}`")
    model = build_model(config)
    if weights:
        path = folder() / "tagger.pt"
        if not path.is_file():
            raise missing(path, REBUILD)
        state = torch.load(path, map_location="cpu", weights_only=True)  # tensors only: a data file runs no code
        model.load_state_dict({k: v.float() for k, v in state.items()})
    x = sentences(N_TEST, TEST_SEED)
    return SequenceTask(model=model.eval(), vocab=list(WORDS), tags=TAGS, x_test=x, y_test=tags(x), window=WINDOW)
