"""attrkit: Integrated Gradients and Adversarial Gradient Integration, step by step.

    res = attrkit.integrated_gradients(model, x)      # IG (Sundararajan, Taly, Yan, ICML 2017)
    res = attrkit.agi(model, x)                       # AGI (Pan, Li, Zhu, IJCAI 2021)
    alphas, weights = attrkit.quadrature("gausslegendre", 32)
    advice = attrkit.steps_needed(model, x)

Plots live in :mod:`attrkit.viz` and explorers in :mod:`attrkit.widgets` (imported on demand, so the core
needs neither matplotlib nor ipywidgets at import time); shipped data and models in :mod:`attrkit.zoo`.
"""
from . import baselines, exercise, zoo
from ._mplconfig import ensure_writable_mplconfig
from .adaptive import steps_needed
from .agi import agi
from .ig import integrated_gradients
from .quadrature import quadrature
from .results import load

ensure_writable_mplconfig()  # import attrkit before matplotlib: then a read-only home (JupyterHub) does not warn

__version__ = "0.1.0"
__all__ = ["integrated_gradients", "agi", "quadrature", "steps_needed", "baselines", "zoo", "exercise", "load"]
