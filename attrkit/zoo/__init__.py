"""The data layer: the small trained models and datasets the course uses, ImageNet models and photos.

May import :mod:`attrkit.common` only, never the methods, the lab, plots or widgets.

- :mod:`attrkit.zoo.entries`: ``load(name)``, ``names()`` (also here: ``attrkit.zoo.load``); :mod:`.entry`: ``ZooEntry``
- :mod:`attrkit.zoo.efficientnet`: ``load("imagenet")``, an ImageNet-trained EfficientNet-Lite0 (the ``imagenet`` extra)
- :mod:`attrkit.zoo.models`: the architectures of the shipped models
- :mod:`attrkit.zoo.sequence`: a tiny token tagger with a planted negation rule (one output per position)
- :mod:`attrkit.zoo.imagenet`: torchvision's ImageNet models on [0, 1] images, ``load_image``, the photos
- :mod:`attrkit.zoo.files`: where the shipped data lives (inside the package, or ``$ATTRKIT_DATA``)
"""
from .entries import (DIGITS, MARKER_RATE, MARKER_SEED, ZooEntry, add_marker, available, build_model, load,
                      marker_mask, names)
from .files import DATA_ENV, data_dir

__all__ = ["load", "names", "available", "build_model", "ZooEntry", "data_dir", "DATA_ENV", "DIGITS",
           "MARKER_RATE", "MARKER_SEED", "add_marker", "marker_mask"]
