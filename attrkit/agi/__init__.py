"""Adversarial Gradient Integration (Pan, Li & Zhu, IJCAI 2021).

Read in this order: :mod:`.walk` (``agi``: Algorithm 1's adversarial walks and their integral), :mod:`.classes`
(Algorithm 2's subsample of false classes), :mod:`.result` (what it returns: the map, every trajectory).

May import :mod:`attrkit.common` only: never the IG package, the lab, the zoo, plots or widgets.
"""
from .classes import SELECTIONS, false_classes, stride_ids
from .result import AGIResult, Trajectory
from .walk import MODES, OUTPUTS, RECORDS, _shared_start, adversarial_step, agi, class_scores, clip

__all__ = ["agi", "adversarial_step", "class_scores", "clip", "false_classes", "stride_ids", "AGIResult",
           "Trajectory", "MODES", "OUTPUTS", "RECORDS", "SELECTIONS"]
