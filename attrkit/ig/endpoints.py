"""The path's two ends: x and the baselines x′ (in a layer's output space for ``layer=``), the target, F(x) and
F(x′), from one probe forward pass that also checks the model before any heavy work starts."""
from __future__ import annotations

import torch

from . import baselines
from ..common.checks import check_logits, check_target, no_gradient_error
from .gradients import target_scores

def _model_error(e: Exception, what: str, shape) -> ValueError:
    return ValueError(f"the model failed on {what} of shape {tuple(shape)}: {type(e).__name__}: {e}. Check that "
                      f"{what} is a batch (N, ...) of the shape and dtype the model expects")


def _endpoints(model, forward, inputs, baseline, target, output, layer):
    """x and the baselines x′ in the path's space (layer output for ``layer=``), the target, F(x) and F(x′).

    This is also the probe that runs before any heavy work: the model's output shape, the target's range and
    whether a gradient reaches the path at all are checked here, on one forward pass of x and x′ together.
    """
    n = inputs.shape[0]
    if layer is not None:
        try:
            with torch.no_grad():
                x, logits = forward.capture(inputs)
        except RuntimeError as e:
            raise _model_error(e, "inputs", inputs.shape) from e
        start, name = _start_points(baseline, x, forward, layer, inputs)
        start = start.reshape(-1, *x.shape[1:])
        target = check_target(target, n, check_logits(logits, n), logits.argmax(1))
        score = target_scores(logits, target, output)
        return x, start, name, target, score, _scores_at(forward, start, target.repeat(len(start) // n), output)
    x = inputs.detach()
    start, name = baselines.resolve(baseline, x)
    start = start.reshape(-1, *x.shape[1:])
    both = torch.cat([x, start]).requires_grad_()
    try:
        logits = model(both)
    except RuntimeError as e:
        raise _model_error(e, "inputs", inputs.shape) from e
    check_logits(logits[:n] if logits.dim() == 2 and logits.shape[0] == len(both) else logits, n)
    if not logits.requires_grad:
        raise no_gradient_error()
    logits = logits.detach()
    target = check_target(target, n, logits.shape[1], logits[:n].argmax(1))
    f = target_scores(logits, torch.cat([target, target.repeat(len(start) // n)]), output)
    return x, start, name, target, f[:n], f[n:]


def _start_points(baseline, x, forward, layer, inputs):
    """The baselines, (k, N, ...) in the path's space; integer ids are embedded through ``layer``."""
    if layer is not None and isinstance(baseline, torch.Tensor) and not baseline.is_floating_point() \
            and baseline.dtype != torch.bool:
        try:
            ids = torch.broadcast_to(baseline.to(inputs.device), inputs.shape)
        except RuntimeError:
            raise ValueError(f"an integer baseline (token ids, e.g. PAD) must broadcast to the inputs' shape "
                             f"{tuple(inputs.shape)}, got {tuple(baseline.shape)}") from None
        with torch.no_grad():
            embedded, _ = forward.capture(ids)
        return embedded.unsqueeze(0), "ids"
    return baselines.resolve(baseline, x)


def _scores_at(forward, points, target, output):
    """F at the baselines in a layer's space, checking that a gradient reaches the layer output."""
    leaf = points.detach().requires_grad_()
    try:
        s = target_scores(forward(leaf), target, output)
    except RuntimeError as e:
        raise _model_error(e, "baseline", points.shape) from e
    if not s.requires_grad:
        raise no_gradient_error("layer output")
    return s.detach()


