"""Attribution methods with one call shape, so that they can be compared side by side.

    attributions = method(model, inputs, target=None, baseline=None, **options)   # same shape as inputs

``model(inputs)`` returns (N, C) class scores; the attributions explain column ``target`` of that output (None:
the predicted class), i.e. the raw score, not the softmax (AGI's own ``output`` option aside). ``baseline`` is
x′ (None: zeros); methods that do not use one ignore it (see ``USES_BASELINE``). ``METHODS`` maps short names to
the functions, ``TITLES`` to readable names.

Gradient methods here are a few lines each: a fresh leaf copy of the inputs, ``torch.autograd.grad`` under
:func:`attrkit.common.checks.guard`, so the caller's model and tensors are untouched. The model only ever sees
copies (:func:`copy_of`): a model that writes to its input (``x.sub_(0.5)`` in ``forward``) cannot change the
caller's tensors. IG and AGI call the kit's own implementations; DeepLift and LRP come from captum, an optional
dependency: without it they raise :class:`MissingDependency` (an ImportError) saying what to install, and
:func:`available` lists what runs. captum rewrites the weights it explains (LRP swaps ``weight.data`` and copies
the old values back), so it works on a deep copy of the model (:func:`captum_copy`).
"""
from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from ..common.checks import check_batch, check_logits, check_model, check_target, guard, no_gradient_error
from ..agi.walk import agi as run_agi
from ..ig.path import integrated_gradients as run_ig

CAPTUM_HINT = "pip install captum to compare with DeepLift/LRP"


class MissingDependency(ImportError):
    """An optional package (captum) is not installed."""


class UnsupportedModel(ValueError):
    """The method has no rule for this model (e.g. LRP on a formula with no layers, or on Softplus)."""


# ---- shared plumbing -------------------------------------------------------------------------------------

def copy_of(x: torch.Tensor) -> torch.Tensor:
    """A detached copy: what the model is given, so that a model writing to its input changes only the copy."""
    return x.detach().clone()


def model_scores(model, x: torch.Tensor) -> torch.Tensor:
    """``model(x)``, which must be one tensor of class scores (N, classes): tuples, dicts and ``ModelOutput``
    objects are refused with what to do, not met later as an AttributeError."""
    out = model(x)
    if not isinstance(out, torch.Tensor):
        hint = " (for a Hugging Face model, return its .logits)" if hasattr(out, "logits") else ""
        raise TypeError(f"the model returned a {type(out).__name__}, not a tensor of class scores (N, classes); "
                        f"wrap it in an nn.Module whose forward returns that one tensor{hint}")
    return out


def prepare(model, inputs, target=None, baseline=None):
    """Validate the common arguments → (a copy of the inputs, target (N,) long, baseline with the inputs' shape)."""
    check_model(model)
    inputs = copy_of(check_batch(inputs))
    with torch.no_grad():
        logits = model_scores(model, copy_of(inputs))
    classes = check_logits(logits, len(inputs))
    target = check_target(target, len(inputs), classes, logits.argmax(1))
    return inputs, target, resolve_baseline(baseline, inputs)


def resolve_baseline(baseline, inputs: torch.Tensor) -> torch.Tensor:
    """x′: None → zeros; a number → that constant; a tensor of one input's shape or the batch's shape."""
    if baseline is None:
        return torch.zeros_like(inputs)
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        return torch.full_like(inputs, float(baseline))
    if not isinstance(baseline, torch.Tensor):
        raise TypeError(f"baseline must be None, a number or a tensor, got {type(baseline).__name__}")
    if baseline.shape not in (inputs.shape, inputs.shape[1:]):
        raise ValueError(f"baseline must have the shape of the inputs {tuple(inputs.shape)} or of one input "
                         f"{tuple(inputs.shape[1:])}, got {tuple(baseline.shape)}")
    if not baseline.is_floating_point() or not torch.isfinite(baseline).all():
        raise ValueError("baseline must be a finite floating-point tensor")
    return baseline.to(inputs.dtype).expand_as(inputs).clone()


def target_gradient(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """∂F_target/∂x for every row of x (the rows are independent in eval mode, so one backward does them all)."""
    leaf = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():  # leaf.clone(): a model may write to its input, which autograd forbids on a leaf
        score = model_scores(model, leaf.clone()).gather(1, target.view(-1, 1)).sum()
        grad, = torch.autograd.grad(score, leaf, allow_unused=True)
    if grad is None:
        raise no_gradient_error()
    return grad


# ---- the gradient family ---------------------------------------------------------------------------------

def gradient(model, inputs, target=None, baseline=None):
    """Gradient (saliency): ∂F_target/∂x at the input, signed (Simonyan et al. 2014). Ignores the baseline."""
    x, t, _ = prepare(model, inputs, target, baseline)
    with guard(model, inputs):
        return target_gradient(model, x, t)


def gradient_x_input(model, inputs, target=None, baseline=None):
    """Gradient × input: (x − x′) ⊙ ∂F/∂x(x) (Shrikumar et al. 2016); with x′ = 0 it is x ⊙ ∇F(x)."""
    x, t, b = prepare(model, inputs, target, baseline)
    with guard(model, inputs):
        return (x - b) * target_gradient(model, x, t)


def smoothgrad(model, inputs, target=None, baseline=None, samples=25, noise=0.15, seed=0):
    """SmoothGrad (Smilkov et al. 2017): the mean gradient over x + N(0, σ²), σ = noise · (max − min) of each
    input (1 when an input is constant). Seeded, so repeatable; ignores the baseline."""
    x, t, _ = prepare(model, inputs, target, baseline)
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a positive int, got {samples!r}")
    if not isinstance(noise, (int, float)) or noise < 0:
        raise ValueError(f"noise must be a number ≥ 0 (a fraction of the input's range), got {noise!r}")
    flat = x.detach().flatten(1)
    spread = flat.max(1).values - flat.min(1).values
    sigma = noise * torch.where(spread > 0, spread, torch.ones_like(spread)).view(-1, *[1] * (x.dim() - 1))
    g = torch.Generator(device=x.device).manual_seed(seed)
    total = torch.zeros_like(x)
    with guard(model, inputs):
        for _ in range(samples):
            eps = torch.randn(x.shape, generator=g, dtype=x.dtype, device=x.device)
            total += target_gradient(model, x + sigma * eps, t)
    return total / samples


# ---- IG and AGI (the kit's own) ---------------------------------------------------------------------------

def integrated_gradients(model, inputs, target=None, baseline=None, steps=64, method="gausslegendre", **options):
    """Integrated Gradients (IG-paper Eq. 1), by :func:`attrkit.ig.integrated_gradients` on the raw score.

    Defaults to 64 Gauss–Legendre nodes: no node falls on the kink at α = ½ of the paper's toys, and the rule
    converges fast on smooth nets; pass ``steps``/``method`` to study other rules."""
    x, t, b = prepare(model, inputs, target, baseline)
    return run_ig(model, x, target=t, baseline=b, steps=steps, method=method, output="logit", record="none",
              progress=False, **options).attributions


def agi(model, inputs, target=None, baseline=None, **options):
    """Adversarial Gradient Integration (Pan, Li, Zhu, IJCAI 2021), by :func:`attrkit.agi.agi`. AGI needs no
    baseline: ``baseline`` is ignored, its own reference is the end x_T of each adversarial walk.

    Options go to :func:`attrkit.agi.agi`; ``classes`` defaults to every false class ("all") when the model
    has at most 21 classes, else 20 (the paper's k)."""
    return agi_result(model, inputs, target, **options).attributions


def agi_result(model, inputs, target=None, **options):
    """The full :class:`attrkit.agi.AGIResult` with this module's defaults (for ``accounted``/``score_drop``)."""
    x, t, _ = prepare(model, inputs, target, None)
    if "classes" not in options:
        with torch.no_grad():
            options["classes"] = "all" if model_scores(model, copy_of(x[:1])).shape[1] <= 21 else 20
    options.setdefault("record", "none")
    options.setdefault("progress", False)
    return run_agi(model, x, target=t, **options)  # x is prepare's copy: the caller's inputs stay as they were


# ---- captum (optional) ------------------------------------------------------------------------------------

def _captum():
    try:
        import captum.attr
    except ImportError:
        raise MissingDependency(f"captum is not installed: {CAPTUM_HINT}") from None
    return captum.attr


def captum_copy(model: nn.Module) -> nn.Module:
    """A deep copy of the model for captum. captum's LRP replaces every ruled layer's ``weight.data`` and then
    copies the saved state back with ``load_state_dict``: the values return, but in new storage with bumped
    version counters, so a backward the user has pending through the model fails ("modified by an inplace
    operation"). On a copy the user's parameters, their storage and their versions are never touched; the
    price is one copy of the parameters for the duration of the call."""
    try:
        return copy.deepcopy(model)
    except Exception as e:  # a model holding something deepcopy cannot copy (an open file, a lock, a generator)
        raise UnsupportedModel(f"captum's methods run on a copy of the model, and this model cannot be copied "
                               f"(copy.deepcopy failed: {type(e).__name__}: {e}); make its attributes copyable "
                               f"or use a method of the kit's own (gradient, ig, agi)") from None


def deeplift(model, inputs, target=None, baseline=None):
    """DeepLift, Rescale rule (Shrikumar et al. 2017), by captum: multipliers Δout/Δin of every nonlinearity
    between the input and the baseline, chained backwards. Needs captum; nonlinearities must be modules."""
    ca = _captum()
    x, t, b = prepare(model, inputs, target, baseline)
    with guard(model, inputs), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        leaf = x.detach().clone().requires_grad_(True)
        return ca.DeepLift(captum_copy(model)).attribute(leaf, baselines=b, target=t).detach()


LRP_RULES = ("z", "epsilon")


def lrp(model, inputs, target=None, baseline=None, rule="z"):
    """Layer-wise relevance propagation (Bach et al. 2015), by captum. Ignores the baseline.

    ``rule="z"``: the z-rule with biases left out of the denominators (captum ``GammaRule(0,
    set_bias_to_zero=True)``), so relevance is conserved layer by layer: the variant whose numbers the IG paper
    shows on F/G. ``rule="epsilon"``: captum's default ε-rule (ε = 1e-9), where biases absorb relevance; on ReLU
    networks it equals gradient × input. Needs a model built from layer modules (Linear, Conv2d, pooling, ReLU,
    Tanh): :class:`UnsupportedModel` otherwise."""
    ca = _captum()
    from captum.attr._utils.lrp_rules import EpsilonRule, GammaRule
    if rule not in LRP_RULES:
        raise ValueError(f"rule must be one of {LRP_RULES}, got {rule!r}")
    x, t, _ = prepare(model, inputs, target, None)
    ruled = [m for m in model.modules() if not list(m.children()) and isinstance(m, (nn.Linear, nn.Conv2d))]
    if not ruled or not list(model.children()):
        raise UnsupportedModel(f"LRP needs a network of layer modules (e.g. nn.Sequential of nn.Linear, nn.Conv2d, "
                               f"nn.ReLU); {type(model).__name__} has none for its rules to act on")
    work = captum_copy(model)  # the rules, captum's activations and its weight rewrites all stay on the copy
    for m in work.modules():
        if not list(m.children()) and isinstance(m, (nn.Linear, nn.Conv2d)):
            m.rule = GammaRule(gamma=0.0, set_bias_to_zero=True) if rule == "z" else EpsilonRule()
    try:
        with guard(model, inputs), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            leaf = x.detach().clone().requires_grad_(True)
            return ca.LRP(work).attribute(leaf, target=t).detach()
    except TypeError as e:
        if "no rule defined" in str(e):
            raise UnsupportedModel(f"captum's LRP cannot handle this model: {str(e).splitlines()[0]}") from None
        raise


def lrp_epsilon(model, inputs, target=None, baseline=None):
    """LRP with captum's default ε-rule (see :func:`lrp`)."""
    return lrp(model, inputs, target, baseline, rule="epsilon")


# ---- the registry -----------------------------------------------------------------------------------------

METHODS = {
    "gradient": gradient,
    "gradient_x_input": gradient_x_input,
    "smoothgrad": smoothgrad,
    "ig": integrated_gradients,
    "agi": agi,
    "deeplift": deeplift,
    "lrp": lrp,
    "lrp_epsilon": lrp_epsilon,
}
TITLES = {
    "gradient": "Gradient (saliency)",
    "gradient_x_input": "Gradient × input",
    "smoothgrad": "SmoothGrad",
    "ig": "Integrated Gradients",
    "agi": "AGI",
    "deeplift": "DeepLift (Rescale)",
    "lrp": "LRP (z-rule, as in the IG paper)",
    "lrp_epsilon": "LRP (captum's ε-rule)",
}
USES_BASELINE = {"gradient": False, "gradient_x_input": True, "smoothgrad": False, "ig": True, "agi": False,
                 "deeplift": True, "lrp": False, "lrp_epsilon": False}
NEEDS_CAPTUM = ("deeplift", "lrp", "lrp_epsilon")


def get(method) -> tuple[str, callable]:
    """A method given by name or as a function → (name, function); unknown names list the known ones."""
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)} "
                             "or pass a function f(model, inputs, target, baseline) -> attributions")
        return method, METHODS[method]
    if callable(method):
        return getattr(method, "__name__", type(method).__name__), method
    raise TypeError(f"method must be a name ({', '.join(METHODS)}) or a function, got {type(method).__name__}")


def available() -> dict[str, str]:
    """Every method → "ok" or why it cannot run here (captum missing)."""
    try:
        _captum()
        missing = None
    except MissingDependency as e:
        missing = str(e)
    return {name: (missing if name in NEEDS_CAPTUM and missing else "ok") for name in METHODS}


def attribute(method, model, inputs, target=None, baseline=None, **options) -> torch.Tensor:
    """Run one method by name (or function) and check that it returned attributions of the inputs' shape."""
    name, fn = get(method)
    out = fn(model, inputs, target, baseline, **options)
    if not isinstance(out, torch.Tensor) or out.shape != inputs.shape:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"method {name!r} must return attributions of the inputs' shape {tuple(inputs.shape)}, "
                         f"got {got}")
    return out.detach()
