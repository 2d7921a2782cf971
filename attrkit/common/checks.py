"""Input validation and the model guard shared by every method.

Every public method validates its arguments here *before* heavy work starts, so a student sees one clear
message that names the argument and the fix, and runs under :func:`guard` so that the caller's model is exactly
as it was afterwards (training flags, ``requires_grad``, ``.grad`` and hooks), on success and on error.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn

OUTPUTS = ("logit", "probability")


def check_model(model) -> None:
    """The model must be an ``nn.Module`` in eval mode (dropout or batch-norm in training mode makes every
    forward pass random and couples the examples of a batch, so attributions would be noise)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}; wrap a plain function "
                        "in an nn.Module whose forward returns (N, classes) scores")
    training = [name or type(model).__name__ for name, m in model.named_modules() if m.training]
    if training:
        raise ValueError(f"model is in training mode ({', '.join(training[:3])}{' ...' if len(training) > 3 else ''}): "
                         "dropout and batch-norm would make the attributions random. Call model.eval() first")


def check_callable(model) -> nn.Module | None:
    """Any callable is a model: an ``nn.Module`` (checked by :func:`check_model`), a bound method of one (its
    module is checked), or a plain function (nothing to check: put its modules in eval mode yourself).
    Returns the module to guard, or None."""
    if isinstance(model, nn.Module):
        check_model(model)
        return model
    if not callable(model):
        raise TypeError(f"model must be callable (an nn.Module, a function or a bound method) returning the "
                        f"scores, got {type(model).__name__}")
    owner = getattr(model, "__self__", None)
    if isinstance(owner, nn.Module):
        check_model(owner)
        return owner
    return None


def check_float_tensor(x, name: str) -> torch.Tensor:
    """A floating-point tensor with no NaN or inf."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}; use torch.as_tensor(...)")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}; convert with {name}.float() "
                        "(token ids: integrated_gradients(..., layer=model.embedding) runs IG's path in embedding "
                        "space; AGI moves the inputs themselves, so it needs float inputs)")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf; clean the data (e.g. torch.nan_to_num) before attributing")
    return x


def check_batch(inputs, name: str = "inputs", allow_int: bool = False) -> torch.Tensor:
    """A batch ``(N, ...)`` with N ≥ 1; float and finite unless ``allow_int`` (token ids for embedding IG)."""
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor batch of shape (N, ...), got {type(inputs).__name__}")
    if inputs.dim() < 1 or inputs.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty batch (N, ...), got shape {tuple(inputs.shape)}; "
                         f"for one example use {name}.unsqueeze(0)")
    if allow_int and not inputs.is_floating_point():
        return inputs
    return check_float_tensor(inputs, name)


def check_output(output: str) -> str:
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    return output


def check_logits(logits: torch.Tensor, n: int) -> int:
    """The model's output must be (N, classes) with at least two classes; returns the number of classes."""
    if logits.dim() != 2 or logits.shape[0] != n:
        raise ValueError(f"model output must have shape (N, classes) = ({n}, C), got {tuple(logits.shape)}; "
                         "wrap the model so forward returns one row of class scores per input")
    if logits.shape[1] < 2:
        raise ValueError("model output has a single column: this method needs class scores (N, C ≥ 2), e.g. AGI "
                         "walks towards a false class. For one score per input use integrated_gradients "
                         "(output='logit'); for a binary sigmoid model return torch.cat([-z, z], dim=1)")
    return logits.shape[1]


def check_target(target, n: int, num_classes: int, predicted: torch.Tensor, name: str = "target") -> torch.Tensor:
    """None (the predicted class), an int, or an (N,) integer tensor/list → a long tensor (N,)."""
    if target is None:
        return predicted.detach().long()
    if isinstance(target, bool):
        raise TypeError(f"{name} must be an int class id or an (N,) tensor of ids, got a bool")
    if isinstance(target, int):
        t = torch.full((n,), target, dtype=torch.long)
    else:
        t = torch.as_tensor(target)
        if t.is_floating_point() or t.dtype == torch.bool:
            raise TypeError(f"{name} must hold integer class ids, got dtype {t.dtype}")
        t = t.long().reshape(-1) if t.dim() == 0 else t.long()
        if t.dim() == 0 or t.numel() == 1:
            t = t.reshape(1).expand(n).clone()
        if t.shape != (n,):
            raise ValueError(f"{name} must be an int or have shape ({n},) (one class per input), "
                             f"got shape {tuple(torch.as_tensor(target).shape)}")
    bad = (t < 0) | (t >= num_classes)
    if bad.any():
        raise ValueError(f"{name} has class id {int(t[bad][0])} out of range: the model has {num_classes} "
                         f"classes (0..{num_classes - 1})")
    return t.to(predicted.device)


def check_steps(steps, minimum: int = 1, name: str = "steps") -> int:
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"{name} must be an int, got {type(steps).__name__}")
    if steps < minimum:
        raise ValueError(f"{name} must be ≥ {minimum}, got {steps}")
    return steps


def check_batch_size(batch_size) -> int | None:
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be None or a positive int, got {batch_size!r}")
    return batch_size


def scores(model: nn.Module, x: torch.Tensor, output: str) -> torch.Tensor:
    """The model's (N, C) scores in the space being explained: raw logits, or softmax probabilities."""
    logits = model(x)
    return logits if output == "logit" else torch.softmax(logits, dim=-1)


def no_gradient_error(what: str = "inputs") -> ValueError:
    return ValueError(f"no gradient reaches the {what}: the model's output does not depend on them "
                      "differentiably (a detach(), argmax, rounding or integer step inside the model?). "
                      "Attributions need a differentiable path from input to output")


@contextlib.contextmanager
def guard(model: nn.Module, *tensors: torch.Tensor) -> Iterator[None]:
    """Run a block and put the model (and the caller's tensors' ``requires_grad``/``.grad``) back as they were.

    Methods only call ``torch.autograd.grad`` on copies of the inputs, which never writes ``.grad``; the guard
    is the safety net that makes that promise hold even when the block raises half-way.
    """
    modules = list(model.modules())
    training = [m.training for m in modules]
    params = list(model.parameters()) + list(model.buffers())
    param_state = [(p.requires_grad, p.grad) for p in params]
    hooks = [(m._forward_hooks.copy(), m._forward_pre_hooks.copy(), m._backward_hooks.copy()) for m in modules]
    tensor_state = [(t.requires_grad, t.grad) for t in tensors if isinstance(t, torch.Tensor) and t.is_leaf]
    leaf_tensors = [t for t in tensors if isinstance(t, torch.Tensor) and t.is_leaf]
    try:
        yield
    finally:
        for m, flag, (fwd, pre, bwd) in zip(modules, training, hooks):
            m.training = flag
            for current, saved in ((m._forward_hooks, fwd), (m._forward_pre_hooks, pre), (m._backward_hooks, bwd)):
                if current.keys() != saved.keys():
                    current.clear()
                    current.update(saved)
        for p, (rg, grad) in zip(params, param_state):
            if p.requires_grad != rg:
                p.requires_grad_(rg)
            if p.grad is not grad:
                p.grad = grad
        for t, (rg, grad) in zip(leaf_tensors, tensor_state):
            if t.requires_grad != rg:
                t.requires_grad_(rg)
            if t.grad is not grad:
                t.grad = grad
