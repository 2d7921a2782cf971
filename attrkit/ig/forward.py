"""The model as IG sees it: ``forward(points, rows)`` → the (P, C) scores F is read from, at P path points.

Row i of ``points`` belongs to input ``rows[i] mod N``: that is how extra forward arguments (and, for ``layer=``,
the real model inputs) follow their own input's path points under every rule, the adaptive one included.
Any callable is a model: an ``nn.Module``, a function, a bound method; what it returns is read by
:mod:`attrkit.common.outputs` (tensor, ``.logits``, tuple-first, positions).
"""
from __future__ import annotations

import torch

from ..common.outputs import class_table, explained
from ..common.parts import Parts, expand_args


class Forward:
    """The model on the path points in input space: ``model(*parts, *forward_args)``."""

    takes_rows = True

    def __init__(self, model, parts: Parts, args: tuple, n: int, output: str, reduce=None, position=False):
        self.model, self.parts, self.args, self.n = model, parts, args, n
        self.output, self.reduce, self.position = output, reduce, position
        self.classes = None  # C of a position output (N, C, *positions): the softmax runs over it

    def scores(self, raw, rows: int) -> torch.Tensor:
        table = class_table(raw, rows, self.n, self.reduce, self.position)
        return explained(table, self.output, self.classes)

    def call(self, model_parts: tuple, rows: torch.Tensor):
        return self.model(*model_parts, *expand_args(self.args, rows, self.n))

    def __call__(self, points: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return self.scores(self.call(self.parts.unpack(points), rows), len(points))


class LayerForward(Forward):
    """The model with a layer's output (or input, ``to_input``) replaced by the path points: the path runs in
    that layer's space (captum's LayerIntegratedGradients). The rest of the model sees the real inputs of each
    point's own example, so e.g. a padding mask computed from token ids stays that of the input."""

    def __init__(self, model, inputs: Parts, model_parts: tuple, args, n, output, layer, to_input=False, **kw):
        super().__init__(model, inputs, args, n, output, **kw)
        self.model_parts, self.layer, self.to_input = model_parts, layer, to_input
        self.space: Parts | None = None  # the layer's parts, known after the first capture

    def _hooked(self, model_parts, rows, hook):
        calls = []

        def on_output(module, args, out):
            calls.append(1)
            return hook(out)

        def on_input(module, args):
            calls.append(1)
            return hook(args)

        handle = (self.layer.register_forward_pre_hook(on_input) if self.to_input
                  else self.layer.register_forward_hook(on_output))
        try:
            raw = self.call(model_parts, rows)
        finally:
            handle.remove()
        if not calls:
            raise ValueError("layer never ran in the model's forward pass: pass a submodule the forward calls "
                             "(e.g. layer=model.embedding), not one that is only defined")
        if len(calls) > 1:
            raise ValueError(f"layer ran {len(calls)} times in one forward pass: the path replaces the layer's "
                             "output, and a reused layer has one output per call, so which one IG should move is "
                             "ambiguous. Pass a layer the model calls once (e.g. a separate module per use)")
        return raw

    def capture(self, model_parts: tuple, rows: torch.Tensor):
        """(the layer's activations packed (P, ...), the model's raw output) at ``model_parts``."""
        seen = []
        what = "input" if self.to_input else "output"

        def keep(value):
            _tensors(value, what)
            seen.append(value)
            return None

        raw = self._hooked(tuple(p.clone() for p in model_parts), rows, keep)
        parts = tuple(p.detach() for p in _tensors(seen[0], what))
        if self.space is None:
            self.space = Parts(parts, single=len(parts) == 1)
            self.tuple_value = self.to_input or isinstance(seen[0], tuple)
        return self.space.pack(parts), raw

    def __call__(self, points: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        model_parts = tuple(p[(rows % self.n).to(p.device)] for p in self.model_parts)
        new = self.space.unpack(points)

        def replace(value):
            old = _tensors(value, "input" if self.to_input else "output")
            if [tuple(o.shape) for o in old] != [tuple(p.shape) for p in new]:
                raise ValueError(f"layer {'input' if self.to_input else 'output'} has shape(s) "
                                 f"{[tuple(o.shape) for o in old]} but the path points have "
                                 f"{[tuple(p.shape) for p in new]}; the baseline must have the layer's shape")
            return new if self.tuple_value else new[0]

        return self.scores(self._hooked(model_parts, rows, replace), len(points))


def _tensors(value, what: str) -> tuple:
    parts = value if isinstance(value, tuple) else (value,)
    if not parts or not all(isinstance(p, torch.Tensor) and p.is_floating_point() for p in parts):
        raise TypeError(f"layer {what} must be floating-point tensors (one, or a tuple of them) for the path to run "
                        f"in it, got {[type(p).__name__ if not isinstance(p, torch.Tensor) else p.dtype for p in parts]}"
                        " (token ids? pass the embedding layer and its output)")
    return parts


def layer_name(model, layer):
    if layer is None:
        return None
    if hasattr(model, "named_modules"):
        name = next((name for name, m in model.named_modules() if m is layer), None)
        if name is not None:
            return name or "model"
    return type(layer).__name__
