"""attrkit: Integrated Gradients and Adversarial Gradient Integration, step by step.

    res = attrkit.integrated_gradients(model, x)      # IG (Sundararajan, Taly, Yan, ICML 2017)
    res = attrkit.agi(model, x)                       # AGI (Pan, Li, Zhu, IJCAI 2021)
    alphas, weights = attrkit.quadrature("gausslegendre", 32)
    advice = attrkit.steps_needed(model, x)

The folders draw the layers, each importing only those below it (tests/test_layering.py checks):

    common/     checks, progress bars, saving and showing results        (imports nothing of attrkit)
    ig/  agi/   the two methods                                          (common)
    zoo/        shipped datasets and models, ImageNet models and photos  (common)
    lab/        axioms and toys, other methods, metrics, sanity, explain (common, ig, agi)
    viz/        plots, matplotlib                                        (common)
    widgets/    explorers, ipywidgets                                    (everything above)
    adapters/   captum's IntegratedGradients on attrkit's engine         (common, ig, agi)

Plots and explorers are imported on demand (``from attrkit import viz``), so the core needs neither
matplotlib nor ipywidgets.
"""
import sys

from .common.mplconfig import ensure_writable_mplconfig

ensure_writable_mplconfig()  # first, before anything imports matplotlib: a read-only home (JupyterHub) must not warn

from .agi import agi  # noqa: E402
from .common.saving import load  # noqa: E402
from .ig import baselines, integrated_gradients, quadrature, steps_needed
from .lab import axioms, chem, exercise, explain, groundtruth, methods, metrics, sanity, toys
from .zoo import imagenet
from .adapters import captum

from . import zoo  # noqa: E402  (after .zoo.imagenet so that attrkit.zoo is the package)

# Modules that lived at the top level before the sub-packages: `from attrkit.metrics import ...` keeps working.
for _name, _module in {"baselines": baselines, "axioms": axioms, "exercise": exercise, "explain": explain,
                       "methods": methods, "metrics": metrics, "sanity": sanity, "toys": toys, "chem": chem,
                       "groundtruth": groundtruth, "imagenet": imagenet, "captum": captum}.items():
    sys.modules[f"{__name__}.{_name}"] = _module
del _name, _module

__version__ = "0.1.0"
__all__ = ["integrated_gradients", "agi", "quadrature", "steps_needed", "baselines", "zoo", "exercise", "load",
           "axioms", "explain", "methods", "metrics", "sanity", "toys", "imagenet", "captum"]
