"""Saving, loading and showing results: plain dataclasses of tensors.

IG and AGI results (and their traces) are ordinary ``@dataclass`` objects whose fields are tensors, numbers,
strings, lists or other such dataclasses. This module turns any of them into a flat ``.npz`` file and back
(``allow_pickle=False``: loading a file never runs code), into numpy, and into a small HTML summary.
"""
from __future__ import annotations

import base64
import dataclasses
import importlib
import io
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


# ---- HTML summaries (no matplotlib: the core stays free of plotting) -------------------------------------

def heatmap_png(attr: torch.Tensor, size: int = 96) -> str:
    """A signed attribution map as a small base64 PNG: red positive, blue negative, white zero.

    Channels are summed (the usual reduction for images); the colour scale is symmetric so zero stays white.
    """
    from PIL import Image

    a = attr.detach().float().cpu()
    if a.dim() == 3:
        a = a.sum(0)
    if a.dim() == 1:
        a = a.unsqueeze(0)
    if a.dim() != 2:
        return ""
    scale = a.abs().max().clamp_min(1e-12)
    v = (a / scale).clamp(-1, 1).numpy()
    pos, neg = np.clip(v, 0, 1), np.clip(-v, 0, 1)
    rgb = np.stack([1 - neg, 1 - np.maximum(pos, neg), 1 - pos], -1)  # the kit's convention: red +, blue −
    img = Image.fromarray((rgb * 255).astype(np.uint8))
    h, w = v.shape
    k = max(1, size // max(h, w))
    img = img.resize((w * k, h * k), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def html_summary(title: str, rows: list[tuple[str, str]], images: list[tuple[str, str]] = ()) -> str:
    """A compact table of (name, value) rows and optional captioned base64 PNGs, for ``_repr_html_``."""
    import html

    body = "".join(f"<tr><td style='text-align:left'><b>{html.escape(k)}</b></td>"
                   f"<td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in rows)
    figs = "".join(f"<figure style='display:inline-block;margin:4px'><img src='data:image/png;base64,{png}'/>"
                   f"<figcaption style='font-size:small'>{html.escape(cap)}</figcaption></figure>"
                   for cap, png in images if png)
    return f"<div><b>{html.escape(title)}</b><table>{body}</table>{figs}</div>"


def fmt(t, digits: int = 4) -> str:
    """Short text for a tensor of a few numbers (shape for big ones)."""
    if isinstance(t, torch.Tensor):
        if t.numel() <= 6:
            return np.array2string(t.detach().cpu().numpy(), precision=digits, separator=", ")
        return f"tensor{tuple(t.shape)}"
    return str(t)
