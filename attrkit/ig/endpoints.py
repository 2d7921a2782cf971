"""The path's two ends: x and the baselines x′ (in a layer's space for ``layer=``), the target, F(x) and F(x′),
from one probe pass (at most ``batch_size`` rows at a time) that checks the model before any heavy work starts.

With ``layer=`` the baseline follows captum's convention by default (``baseline_in="input"``): x′ is given in
input space and the path starts at the layer's activation there, F's input-space path mapped into the layer.
``baseline_in="layer"`` gives x′ in the layer's own space instead (None = the zero activation: the text case's
"zero embedding"; integer ids are still embedded through the layer).
"""
from __future__ import annotations

import torch

from ..common.checks import check_target, no_gradient_error
from ..common.outputs import position_index, score_tensor
from . import baselines
from .gradients import target_scores
from .inputs import resolve_baselines

BASELINE_SPACES = ("input", "layer")


def _model_error(e: Exception, what: str, shape) -> ValueError:
    return ValueError(f"the model failed on {what} of shape {tuple(shape)}: {type(e).__name__}: {e}. Check that "
                      f"{what} is a batch (N, ...) of the shape and dtype the model expects")


def _chunks(total: int, batch_size):
    step = total if batch_size is None else batch_size
    return [torch.arange(i, min(i + step, total)) for i in range(0, total, step)]


def _classes(forward, raw, rows, target):
    """Learn the output's layout from the first raw output: position targets flatten (N, C, *positions)."""
    s = score_tensor(raw, rows)
    forward.position = isinstance(target, tuple) or (isinstance(target, list) and bool(target)
                                                    and all(isinstance(t, tuple) for t in target))
    if forward.position and s.dim() > 2:
        forward.classes = s.shape[1]
    elif forward.position:
        raise ValueError(f"a position target {target!r} needs an output with positions (N, C, ...), got (N, ...) = "
                         f"({forward.n}, {', '.join(map(str, s.shape[1:]))}); pass an int class id")
    return tuple(s.shape[1:])


def _target(forward, table, shape, target, output, n):
    if output == "probability" and table.shape[1] == 1:
        raise ValueError("output='probability' needs class scores, but the model gives one score per input: "
                         "a softmax over one score is always 1. Use output='logit' to explain the score itself "
                         "(for a sigmoid classifier's probability, end the model in torch.sigmoid)")
    if forward.position:
        return position_index(target, shape, n).to(table.device)
    return check_target(target, n, table.shape[1], table[:n].argmax(1))


def _check_finite(score, start_score):
    for name, s in (("F(x) (the score at the inputs)", score), ("F(x′) (the score at the baseline)", start_score)):
        bad = ~torch.isfinite(s)
        if bad.any():
            k = int(bad.nonzero()[0, 0])
            raise ValueError(f"{name} is not finite: {float(s[k])} for row {k}; IG would return inf/NaN "
                             "attributions. Choose a baseline (or inputs) where the model is finite, e.g. not 0 "
                             "for a model that takes log(x)")


def endpoints(forward, parts, inputs, baseline, target, output, layer, baseline_in, batch_size):
    """x and x′ in the path's space (packed for tuples; (k·N, ...) for x′), the target, F(x), F(x′)."""
    n = inputs[0].shape[0]
    if layer is not None:
        return _layer_endpoints(forward, inputs, baseline, target, output, baseline_in, batch_size, n)
    x = parts.pack(tuple(p.detach() for p in inputs))
    bparts, name = resolve_baselines(baseline, inputs, parts.single)
    start = parts.pack(tuple(b.reshape(-1, *b.shape[2:]) for b in bparts))
    both = torch.cat([x, start])
    tables, shape = [], None
    for rows in _chunks(len(both), batch_size):
        leaf = both[rows].detach().requires_grad_()
        try:
            raw = forward.call(parts.unpack(leaf), rows % n)
        except RuntimeError as e:
            raise _model_error(e, "inputs", inputs[0].shape) from e
        if shape is None:
            shape = _classes(forward, raw, len(rows), target)
        table = forward.scores(raw, len(rows))
        if not table.requires_grad:
            raise no_gradient_error()
        tables.append(table.detach())
    table = torch.cat(tables)
    target = _target(forward, table, shape, target, output, n)
    f = target_scores(table, torch.cat([target, target.repeat(len(start) // n)]), "logit")
    _check_finite(f[:n], f[n:])
    return x, start, name, target, f[:n], f[n:]


def _capture(forward, model_parts, batch_size):
    """The layer's activations and the model's raw outputs at ``model_parts``, ``batch_size`` rows at a time."""
    acts, raws = [], []
    total = model_parts[0].shape[0]
    with torch.no_grad():
        for rows in _chunks(total, batch_size):
            try:
                a, raw = forward.capture(tuple(p[rows.to(p.device)] for p in model_parts), rows)
            except RuntimeError as e:
                raise _model_error(e, "inputs", model_parts[0].shape) from e
            acts.append(a)
            raws.append(raw)
    return torch.cat(acts), raws


def _layer_endpoints(forward, inputs, baseline, target, output, baseline_in, batch_size, n):
    x, raws = _capture(forward, inputs, batch_size)
    shape = _classes(forward, raws[0], None, target)
    table = torch.cat([forward.scores(r, len(score_tensor(r))) for r in raws])
    target = _target(forward, table, shape, target, output, n)
    score = target_scores(table, target, "logit")
    if baseline_in == "input":
        bparts, name = _input_baselines(baseline, inputs)
        start, _ = _capture(forward, tuple(b.reshape(-1, *b.shape[2:]) for b in bparts), batch_size)
    else:
        start, name = _layer_space_baselines(baseline, x, forward, inputs, batch_size)
    scores = []
    for rows in _chunks(len(start), batch_size):
        leaf = start[rows].detach().requires_grad_()
        try:
            s = target_scores(forward(leaf, rows), target[rows % n], "logit")
        except RuntimeError as e:
            raise _model_error(e, "baseline", start.shape) from e
        if not s.requires_grad:
            raise no_gradient_error("layer")
        scores.append(s.detach())
    start_score = torch.cat(scores)
    _check_finite(score, start_score)
    return x, start, name, target, score, start_score


def _input_baselines(baseline, inputs):
    """captum's convention: x′ is an input (ids for a text model; None = zeros, i.e. id 0 everywhere)."""
    if all(p.is_floating_point() for p in inputs):
        return resolve_baselines(baseline, inputs, len(inputs) == 1)
    each = baseline if isinstance(baseline, (tuple, list)) and len(inputs) > 1 else [baseline] * len(inputs)
    out = []
    for p, b in zip(inputs, each):
        if p.is_floating_point():
            out.append(baselines.resolve(b, p)[0])
        elif b is None or (isinstance(b, int) and not isinstance(b, bool)):
            out.append(torch.full_like(p, b or 0).unsqueeze(0))
        elif isinstance(b, torch.Tensor) and not b.is_floating_point():
            try:
                out.append(torch.broadcast_to(b.to(p.device, p.dtype), p.shape).unsqueeze(0))
            except RuntimeError:
                raise ValueError(f"an integer baseline (token ids, e.g. PAD) must broadcast to the inputs' shape "
                                 f"{tuple(p.shape)}, got {tuple(b.shape)}") from None
        else:
            raise ValueError("with layer= and integer inputs, baseline is an input too (captum's convention): None "
                             "(id 0 everywhere), an int id or an integer tensor of ids. For a baseline in the "
                             "layer's own space (e.g. a float tensor of its output's shape), pass baseline_in='layer'")
    name = "zeros" if baseline is None else ("ids" if isinstance(baseline, torch.Tensor) else str(baseline))
    return tuple(out), name


def _layer_space_baselines(baseline, x, forward, inputs, batch_size):
    """x′ in the layer's space (None: zeros there); integer ids are embedded through the layer."""
    if isinstance(baseline, torch.Tensor) and not baseline.is_floating_point() and baseline.dtype != torch.bool:
        bparts, _ = _input_baselines(baseline, inputs)
        start, _ = _capture(forward, tuple(b.reshape(-1, *b.shape[2:]) for b in bparts), batch_size)
        return start, "ids"
    space = forward.space
    bparts, name = resolve_baselines(baseline, space.unpack(x), space.single)
    return space.pack(tuple(b.reshape(-1, *b.shape[2:]) for b in bparts)), name
