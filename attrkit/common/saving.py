"""Saving and loading results: plain dataclasses of tensors.

IG and AGI results (and their traces) are ordinary ``@dataclass`` objects whose fields are tensors, numbers,
strings, lists or other such dataclasses. This module turns any of them into a flat ``.npz`` file and back
(``allow_pickle=False``: loading a file never runs code), and into numpy. Their HTML summaries are :mod:`attrkit.common.html`.
"""
from __future__ import annotations

import dataclasses
import importlib
import json

import numpy as np
import torch

_SAFE_PREFIX = "attrkit."


def to_numpy(obj):
    """Tensors → numpy arrays, recursively through dataclasses (→ dict), lists, tuples and dicts."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().numpy()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_numpy(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_numpy(v) for v in obj)
    if isinstance(obj, dict):
        return {k: to_numpy(v) for k, v in obj.items()}
    return obj


def _flatten(obj, key: str, arrays: dict, meta: dict):
    """Tensors go to ``arrays`` under a dotted key; the structure (types, scalars) goes to ``meta`` (JSON)."""
    if isinstance(obj, torch.Tensor):
        arrays[key] = obj.detach().cpu().numpy()
        return {"t": "tensor", "k": key, "dtype": str(obj.dtype).replace("torch.", "")}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        cls = type(obj)
        fields = {f.name: _flatten(getattr(obj, f.name), f"{key}.{f.name}", arrays, meta)
                  for f in dataclasses.fields(obj)}
        return {"t": "dataclass", "cls": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    if isinstance(obj, (list, tuple)):
        return {"t": type(obj).__name__, "items": [_flatten(v, f"{key}.{i}", arrays, meta) for i, v in enumerate(obj)]}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError(f"cannot save {key}: dict keys must be strings")
        return {"t": "dict", "items": {k: _flatten(v, f"{key}.{k}", arrays, meta) for k, v in obj.items()}}
    if isinstance(obj, np.ndarray):
        arrays[key] = obj
        return {"t": "ndarray", "k": key}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"t": "value", "v": obj}
    raise TypeError(f"cannot save field {key} of type {type(obj).__name__}")


def _unflatten(node, arrays):
    t = node["t"]
    if t == "tensor":
        return torch.from_numpy(np.array(arrays[node["k"]])).to(getattr(torch, node["dtype"]))
    if t == "ndarray":
        return np.array(arrays[node["k"]])
    if t == "value":
        return node["v"]
    if t in ("list", "tuple"):
        items = [_unflatten(v, arrays) for v in node["items"]]
        return items if t == "list" else tuple(items)
    if t == "dict":
        return {k: _unflatten(v, arrays) for k, v in node["items"].items()}
    if t == "dataclass":
        module, qualname = node["cls"].split(":")
        if not module.startswith(_SAFE_PREFIX):  # only attrkit's own result types are ever rebuilt
            raise ValueError(f"refusing to rebuild {node['cls']}: not an attrkit result type")
        cls = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"{node['cls']} is not a result dataclass")
        return cls(**{k: _unflatten(v, arrays) for k, v in node["fields"].items()})
    raise ValueError(f"corrupt result file: unknown node type {t!r}")


def save(result, path) -> None:
    """Save a result dataclass (and everything in it) to an ``.npz`` file."""
    arrays: dict = {}
    tree = _flatten(result, "r", arrays, {})
    arrays["__tree__"] = np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8)
    np.savez_compressed(path, **arrays)


def load(path):
    """Load a result saved with :func:`save` (no pickle: only arrays and a JSON description are read)."""
    with np.load(path, allow_pickle=False) as f:
        if "__tree__" not in f.files:
            raise ValueError(f"{path} is not an attrkit result file (saved with result.save(path))")
        tree = json.loads(f["__tree__"].tobytes().decode())
        arrays = {k: f[k] for k in f.files if k != "__tree__"}
    return _unflatten(tree, arrays)


class SaveLoad:
    """Mixin giving result dataclasses ``.save(path)``, ``.load(path)`` and ``.numpy()``."""

    def save(self, path) -> None:
        save(self, path)

    @classmethod
    def load(cls, path):
        obj = load(path)
        if not isinstance(obj, cls):
            raise ValueError(f"{path} holds a {type(obj).__name__}, not a {cls.__name__}")
        return obj

    def numpy(self) -> dict:
        return to_numpy(self)
