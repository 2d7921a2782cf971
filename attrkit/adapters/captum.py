"""captum's IntegratedGradients and LayerIntegratedGradients, computed by attrkit: porting is an import change.

    from attrkit.captum import IntegratedGradients            # was: from captum.attr import IntegratedGradients
    ig = IntegratedGradients(model)
    attr, delta = ig.attribute(x, baselines=b, target=3, n_steps=50, return_convergence_delta=True)
    ig.result                                                  # the attrkit IGResult behind it: trace, scores, ...

Same argument names, defaults (Gauss–Legendre, 50 steps) and return values as captum 0.9 (a tensor, or a tuple
for tuple inputs; with ``return_convergence_delta`` a pair, delta = Σ attributions − (F(x) − F(x′)), Eq. 1 and
Prop. 1). captum's ``riemann_trapezoid`` weights sum to (n − 1)/n (:func:`attrkit.ig.quadrature.captum_trapezoid`);
to return captum's numbers the adapter scales by that factor, where attrkit itself uses a normalised trapezoid.
captum is not imported: nothing here needs it installed.
"""
from __future__ import annotations

import torch

from ..ig.path import integrated_gradients

__all__ = ["IntegratedGradients", "LayerIntegratedGradients"]


class IntegratedGradients:
    """captum.attr.IntegratedGradients(forward_func, multiply_by_inputs=True)."""

    def __init__(self, forward_func, multiply_by_inputs: bool = True):
        self.forward_func, self.multiply_by_inputs = forward_func, multiply_by_inputs
        self.result = None  # the attrkit IGResult of the last call

    @property
    def multiplies_by_inputs(self) -> bool:
        return self.multiply_by_inputs

    def has_convergence_delta(self) -> bool:
        return True

    def attribute(self, inputs, baselines=None, target=None, additional_forward_args=None, n_steps: int = 50,
                  method: str = "gausslegendre", internal_batch_size=None, return_convergence_delta: bool = False,
                  return_result: bool = False):
        """IG of ``inputs`` (captum's signature). ``return_result=True`` adds the attrkit :class:`IGResult`
        as the last element of the returned tuple (also kept as ``self.result``)."""
        return self._attribute(inputs, baselines, target, additional_forward_args, n_steps, method,
                               internal_batch_size, return_convergence_delta, return_result)

    def _attribute(self, inputs, baselines, target, additional_forward_args, n_steps, method, internal_batch_size,
                   return_convergence_delta, return_result, **layer):
        single = not isinstance(inputs, (tuple, list))
        if isinstance(target, list) and not any(isinstance(t, tuple) for t in target):
            target = torch.as_tensor(target)
        res = integrated_gradients(self.forward_func, inputs if single else tuple(inputs), target=target,
                                   baseline=_baselines(baselines, single), steps=n_steps, method=method,
                                   batch_size=internal_batch_size, forward_args=additional_forward_args,
                                   record="full" if not self.multiply_by_inputs else "none", progress=False,
                                   **layer)
        self.result = res
        scale = (n_steps - 1) / n_steps if method == "riemann_trapezoid" else 1.0  # captum's weights sum to this
        attributions = res.attributions if self.multiply_by_inputs else _integrated_gradient(res)
        attributions = _map(lambda a: a * scale, attributions) if scale != 1.0 else attributions
        out = (attributions,)
        if return_convergence_delta:
            total = sum(a.flatten(1).sum(1).double() for a in _parts(res.attributions)) * scale
            out += ((total - (res.score - res.baseline_score).double()).to(res.score.dtype),)
        if return_result:
            out += (res,)
        return out[0] if len(out) == 1 else out


class LayerIntegratedGradients(IntegratedGradients):
    """captum.attr.LayerIntegratedGradients(forward_func, layer, device_ids=None, multiply_by_inputs=True).

    Baselines are inputs (captum's convention: the path starts at the layer's activation at the baseline)."""

    def __init__(self, forward_func, layer, device_ids=None, multiply_by_inputs: bool = True):
        super().__init__(forward_func, multiply_by_inputs)
        if isinstance(layer, (list, tuple)):
            raise ValueError("LayerIntegratedGradients over several layers at once is not supported: make one "
                             "LayerIntegratedGradients per layer")
        self.layer, self.device_ids = layer, device_ids

    def attribute(self, inputs, baselines=None, target=None, additional_forward_args=None, n_steps: int = 50,
                  method: str = "gausslegendre", internal_batch_size=None, return_convergence_delta: bool = False,
                  attribute_to_layer_input: bool = False, return_result: bool = False):
        """Layer IG (captum's signature); attributions have the layer output's (or input's) structure."""
        return self._attribute(inputs, baselines, target, additional_forward_args, n_steps, method,
                               internal_batch_size, return_convergence_delta, return_result, layer=self.layer,
                               layer_input=attribute_to_layer_input, baseline_in="input")


def _parts(a):
    return a if isinstance(a, tuple) else (a,)


def _map(fn, a):
    return tuple(fn(p) for p in a) if isinstance(a, tuple) else fn(a)


def _baselines(baselines, single):
    if single and isinstance(baselines, tuple) and len(baselines) == 1:
        return baselines[0]
    return baselines


def _integrated_gradient(res):
    """multiply_by_inputs=False: Σ_k w_k ∇F(γ(α_k)) (averaged over baseline samples), without (x − x′)."""
    w = res.trace.weights

    def one(g):
        s = torch.einsum("m,bm...->b...", w.to(torch.float64), g.double())
        return s.view(res.samples, -1, *s.shape[1:]).mean(0).to(g.dtype)

    return _map(one, res.trace.gradients)
