"""Integrated Gradients (Sundararajan, Taly & Yan, ICML 2017), one module per idea.

Read in this order: :mod:`.quadrature` (the nodes α_k and weights w_k of Eq. 3), :mod:`.baselines` (x′),
:mod:`.gradients` (the path points γ(α) and ∇F there), :mod:`.path` (``integrated_gradients``: the sum and the
delta), :mod:`.result` (what it returns), :mod:`.adaptive` (a rule that places nodes where the completeness gap
is lost), :mod:`.advice` (``steps_needed``), :mod:`.inputs` (tuples of inputs, extra forward arguments),
:mod:`.forward` (any model, layer IG), :mod:`.endpoints` (the probe pass), :mod:`.noise` (SmoothGrad/VarGrad
over IG).

May import :mod:`attrkit.common` only: never the AGI package, the lab, the zoo, plots or widgets.
"""
from . import baselines
from .advice import StepAdvice, steps_needed
from .gradients import gradients_at, path_gradients, path_points, target_scores
from .noise import NoiseTunnelResult, noise_tunnel
from .path import RECORDS, integral_approximation, integrated_gradients
from .quadrature import METHODS, quadrature
from .result import IGResult, IGTrace

__all__ = ["integrated_gradients", "quadrature", "steps_needed", "baselines", "IGResult", "IGTrace",
           "StepAdvice", "path_points", "path_gradients", "gradients_at", "integral_approximation",
           "target_scores", "METHODS", "RECORDS", "noise_tunnel", "NoiseTunnelResult"]
