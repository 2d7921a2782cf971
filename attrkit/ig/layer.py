"""Layer IG: the path runs in a submodule's output space (embedding IG on token ids)."""
from __future__ import annotations

import torch

class _LayerForward:
    """The model with ``layer``'s output replaced by the path points: the path runs in that layer's output space
    (captum's LayerIntegratedGradients does the same). The rest of the model still sees the real inputs, repeated
    once per path point, so e.g. a padding mask computed from token ids stays that of the input."""

    def __init__(self, model, layer, inputs):
        self.model, self.layer, self.inputs = model, layer, inputs

    def _run(self, inputs, hook):
        calls = []

        def counted(module, args, out):
            calls.append(1)
            return hook(out)

        handle = self.layer.register_forward_hook(counted)
        try:
            logits = self.model(inputs)
        finally:
            handle.remove()
        if len(calls) != 1:
            raise ValueError(f"layer ran {len(calls)} times in one forward pass; pass a layer the model calls "
                             "exactly once (e.g. model.embedding)")
        return logits

    def capture(self, inputs):
        """(the layer's output, the logits) for ``inputs``."""
        seen = []

        def keep(out):
            if not isinstance(out, torch.Tensor) or not out.is_floating_point():
                raise TypeError("layer must output one floating-point tensor (e.g. an nn.Embedding), got "
                                f"{type(out).__name__ if not isinstance(out, torch.Tensor) else out.dtype}")
            seen.append(out)
            return out

        logits = self._run(inputs, keep)
        return seen[0].detach(), logits

    def __call__(self, points, rows=None):
        """The logits with the layer's output replaced by ``points``: row i of ``points`` belongs to model input
        ``rows[i] % N`` (default: the inputs repeated, path rows α-major as in :func:`path_gradients`)."""
        if rows is None:
            rows = torch.arange(points.shape[0])
        repeated = self.inputs[rows.to(self.inputs.device) % self.inputs.shape[0]]

        def replace(out):
            if out.shape != points.shape:
                raise ValueError(f"layer output has shape {tuple(out.shape)} but the path points have "
                                 f"{tuple(points.shape)}; the baseline must have the layer output's shape")
            return points

        return self._run(repeated, replace)


def _layer_name(model, layer):
    if layer is None:
        return None
    return next((name for name, m in model.named_modules() if m is layer), type(layer).__name__) or "model"
