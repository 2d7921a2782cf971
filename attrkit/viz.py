"""Plots of attributions and of the paths behind them (matplotlib). The core never imports this; this imports
the core only for its result types' fields.

Sign convention everywhere: red = positive, blue = negative, white = zero (symmetric colour scale).
Every function returns a Figure, already closed in pyplot: Jupyter shows it once, and ``display(fig)`` works.

- maps (:mod:`attrkit.viz_images`): ``heatmap``, ``overlay``, ``ig_clip``, ``agi_clip``, ``clipping_panels``,
  ``path_strip``
- curves (:mod:`attrkit.viz_traces`): ``path_scores``, ``path_gradient_norms``, ``running_sum``,
  ``completeness_vs_steps``, ``quadrature_nodes``, ``agi_trajectories``, ``agi_class_maps``
- named features (:mod:`attrkit.viz_features`): ``text_html``, ``text_tokens``, ``tabular_bars``
- result objects: ``plot_ig_trace``, ``plot_agi_trajectories``, ... (below)
"""
from __future__ import annotations

from .viz_features import TokenView, tabular_bars, text_html, text_tokens
from .viz_images import (agi_clip, channel_map, clipping_panels, heatmap, ig_clip, line_points, linear_transform,
                         mass_threshold, overlay, path_strip, symmetric_limit, to_image)
from .viz_traces import (agi_class_maps, agi_trajectories, completeness_vs_steps, gradient_norms,
                         path_gradient_norms, path_scores, quadrature_nodes, running_sum)

__all__ = [
    "heatmap", "overlay", "ig_clip", "agi_clip", "clipping_panels", "path_strip", "mass_threshold",
    "linear_transform", "channel_map", "symmetric_limit", "to_image", "line_points",
    "path_scores", "path_gradient_norms", "gradient_norms", "running_sum", "completeness_vs_steps",
    "quadrature_nodes", "agi_trajectories", "agi_class_maps",
    "text_html", "text_tokens", "TokenView", "tabular_bars",
]
