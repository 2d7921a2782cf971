"""Explorers: IG and AGI as widgets you can scrub, on any model (stock ipywidgets 8, no front-end build).

    from attrkit.widgets import IGExplorer
    explorer = IGExplorer(model, x)          # x: one input, with or without its batch dimension of 1
    display(explorer)                        # move explorer.alpha; change steps, method, output, baseline
    explorer.alpha.index = 10                # the same from code (tests, benchmarks)

- :class:`IGExplorer` (:mod:`attrkit.widgets.ig`): the α-scrubber with four linked panels (Distill, Fig. 4)
- :class:`TextIGExplorer` (:mod:`attrkit.widgets.text`): the α-scrubber for text (IG over token embeddings)
- :class:`BaselinePlayground` (:mod:`attrkit.widgets.baselines`): baselines side by side, with blind spots
- :class:`AGIExplorer` (:mod:`attrkit.widgets.agi`): one adversarial walk at a time, with the aggregated map
- :class:`PathExplorer2D` (:mod:`attrkit.widgets.paths`): IG's line and AGI's walks on a function of two features
- :class:`MethodComparison` (:mod:`attrkit.widgets.compare`): IG, AGI, gradient, gradient × input side by side

Every explorer is an ``ipywidgets.VBox`` whose controls are attributes. Moving a scrubber only reads what the
last computation stored; changing a parameter that needs the model again shows a progress bar while it runs.
``update()`` redraws, ``recompute()`` recomputes; both are what the sliders call.
:func:`upload_widget` and :func:`image_from_upload` (:mod:`attrkit.widgets.upload`) bring in your own image.
"""
from .agi import AGIExplorer
from .baselines import BaselinePlayground
from .compare import MethodComparison
from .ig import IGExplorer, default_baselines
from .paths import Bumps, PathExplorer2D
from .text import TextIGExplorer
from .upload import image_from_upload, upload_widget

__all__ = ["IGExplorer", "TextIGExplorer", "BaselinePlayground", "AGIExplorer", "PathExplorer2D", "MethodComparison", "Bumps",
           "default_baselines", "upload_widget", "image_from_upload"]
