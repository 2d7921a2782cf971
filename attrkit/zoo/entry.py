"""What ``zoo.load`` returns: a model with its data and what describes them (:class:`ZooEntry`)."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch
from torch import nn

from ..common.html import themed


@dataclass(eq=False, repr=False)
class ZooEntry:
    """One zoo model with its data. Fields after `input_space` are extras, None where they don't apply."""

    name: str
    model: nn.Module          # eval mode; a fresh copy on every load(), yours to change
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: list             # class names, index = label
    bounds: Optional[tuple]   # valid input range, e.g. (0.0, 1.0) for pixels; None for text and tabular
    description: str
    input_space: str          # what the model's input is, in words
    # tweets
    vocab: Optional[list] = None
    texts: Optional[list] = None        # raw text of each test tweet, aligned with x_test
    texts_train: Optional[list] = None
    tokenize: Optional[Callable] = None  # text -> list of tokens
    encode: Optional[Callable] = None    # text or list of texts -> ids (N, L), padded with 0
    decode: Optional[Callable] = None    # ids (L,) -> list of tokens, pads dropped
    lexicon: Optional[dict] = None       # token -> VADER mean human valence (-4..4)
    # breast_cancer
    feature_names: Optional[list] = None
    mean: Optional[torch.Tensor] = None  # raw = x * std + mean
    std: Optional[torch.Tensor] = None
    # mnist_shortcut
    x_test_clean: Optional[torch.Tensor] = None  # the same test images without the marker
    add_marker: Optional[Callable] = None        # (images, labels) -> images with each label's marker
    marker_mask: Optional[Callable] = None       # label -> bool (1, 28, 28), True on the marker's pixels
    extras: list = field(default_factory=list)   # names of the extra fields that are set

    def _summary(self):
        n = sum(p.numel() for p in self.model.parameters())
        shape = lambda t: f"{tuple(t.shape)} {str(t.dtype).replace('torch.', '')}"
        return [("model", f"{type(self.model).__name__}, {n:,} parameters"),
                ("x_train / y_train", f"{shape(self.x_train)} / {shape(self.y_train)}"),
                ("x_test / y_test", f"{shape(self.x_test)} / {shape(self.y_test)}"),
                ("classes", ", ".join(self.classes)), ("bounds", str(self.bounds)),
                ("input", self.input_space), ("extras", ", ".join(self.extras) or "none")]

    def __repr__(self):
        rows = "".join(f"\n  {k}: {v}" for k, v in self._summary())
        return f"ZooEntry {self.name!r}: {self.description}{rows}"

    def _repr_html_(self):
        rows = "".join(f"<tr><td>{k}</td><td>{html.escape(v)}</td></tr>" for k, v in self._summary())
        return themed(f"<b>{self.name}</b>: {html.escape(self.description)}<table>{rows}</table>")
