"""Saving and loading results: plain dataclasses of tensors.

IG and AGI results (and their traces) are ordinary ``@dataclass`` objects whose fields are tensors, numbers,
strings, lists or other such dataclasses. This module turns any of them into a flat ``.npz`` file and back,
and into numpy. Their HTML summaries are :mod:`attrkit.common.html`.

A result file may come from anyone, so loading one never runs code and never exhausts memory: the ``.npy``
members are parsed here without pickle, only the members the file's JSON tree names are read, each one's size is
checked against a limit before and while it is decompressed, and only the classes in :data:`RESULT_TYPES`
(the :class:`SaveLoad` subclasses, which register themselves) are rebuilt.
"""
from __future__ import annotations

import dataclasses
import io
import json
import math
import zipfile

import numpy as np
import torch

MAX_LOAD_BYTES = 2 ** 30  # what attrkit.load unpacks at most (all members together), unless told otherwise
RESULT_TYPES: dict = {}   # "module:QualName" -> class: every SaveLoad subclass, registered when it is defined


class ResultFileError(ValueError):
    """A file attrkit.load will not open: not a result file, a class outside RESULT_TYPES, or over the size limit."""


def result_type(name) -> type:
    """The registered result class a file names ("module:QualName"). Only :data:`RESULT_TYPES` is consulted:
    no import and no attribute lookup, so a file cannot name its way to any other class. Files written before
    the modules moved (``attrkit.ig_result:IGResult``) are matched by class name among attrkit's own types."""
    cls = RESULT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None and isinstance(name, str) and name.startswith("attrkit."):
        same = [c for key, c in RESULT_TYPES.items() if key.startswith("attrkit.") and
                key.split(":")[-1] == name.split(":")[-1]]
        cls = same[0] if len(same) == 1 else None
    if cls is None or not dataclasses.is_dataclass(cls):
        raise _Corrupt(f"it names the class {name!r}, which is not an attrkit result type")
    return cls


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


# Tensor dtypes a result file may name (a dict, so a name in a file can never reach another attribute of torch).
_DTYPES = {str(d).replace("torch.", ""): d for d in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64, torch.complex128,
    torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool)}


class _Corrupt(ValueError):
    """Internal: the file does not hold what :func:`save` writes (turned into ResultFileError with the path)."""


def _unflatten(node, arrays):
    """Rebuild the object a tree node describes; classes come only from :data:`RESULT_TYPES`."""
    t = node.get("t") if isinstance(node, dict) else None
    if t == "tensor":
        if node.get("dtype") not in _DTYPES:
            raise _Corrupt(f"unknown tensor dtype {node.get('dtype')!r}")
        return torch.from_numpy(np.array(arrays[node["k"]])).to(_DTYPES[node["dtype"]])
    if t == "ndarray":
        return np.array(arrays[node["k"]])
    if t == "value":
        if node.get("v") is not None and not isinstance(node.get("v"), (bool, int, float, str)):
            raise _Corrupt("a value node holds a container")
        return node.get("v")
    if t in ("list", "tuple") and isinstance(node.get("items"), list):
        items = [_unflatten(v, arrays) for v in node["items"]]
        return items if t == "list" else tuple(items)
    if t == "dict" and isinstance(node.get("items"), dict):
        return {k: _unflatten(v, arrays) for k, v in node["items"].items()}
    if t == "dataclass" and isinstance(node.get("fields"), dict):
        cls = result_type(node.get("cls"))
        names = {f.name for f in dataclasses.fields(cls)}
        if set(node["fields"]) != names:
            raise _Corrupt(f"its {cls.__name__} has fields {sorted(node['fields'])}, not {sorted(names)}")
        return cls(**{k: _unflatten(v, arrays) for k, v in node["fields"].items()})
    raise _Corrupt(f"unknown node {str(node)[:60]!r}")


def _array_keys(node, keys: set) -> set:
    """The array members a tree refers to: the only members :func:`load` reads besides the tree."""
    if isinstance(node, dict):
        if node.get("t") in ("tensor", "ndarray"):
            if not isinstance(node.get("k"), str):
                raise _Corrupt("an array node without a key")
            keys.add(node["k"])
        for v in node.values():
            _array_keys(v, keys)
    elif isinstance(node, list):
        for v in node:
            _array_keys(v, keys)
    return keys


def save(result, path) -> None:
    """Save a result dataclass (and everything in it) to an ``.npz`` file."""
    arrays: dict = {}
    tree = _flatten(result, "r", arrays, {})
    arrays["__tree__"] = np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8)
    np.savez_compressed(path, **arrays)


def _read_member(zf: zipfile.ZipFile, name: str, budget: list) -> np.ndarray:
    """One ``.npy`` member, its size checked before and while it is decompressed, parsed without pickle."""
    try:
        info = zf.getinfo(name + ".npy")
    except KeyError:
        raise _Corrupt(f"member {name!r} is missing") from None
    if info.file_size > budget[0]:  # the size the zip declares, before a byte is decompressed
        raise _TooLarge(name, info.file_size)
    with zf.open(info) as f:
        data = f.read(info.file_size + 1)  # never more than declared + 1, whatever the stream really holds
    if len(data) != info.file_size:
        raise _Corrupt(f"member {name!r} does not have the size its header declares")
    budget[0] -= len(data)
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version not in ((1, 0), (2, 0)):
        raise _Corrupt(f"member {name!r} has .npy version {version}")
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read_header(stream)
    if dtype.hasobject:  # object arrays are pickles: never read
        raise _Corrupt(f"member {name!r} holds Python objects")
    count = math.prod(shape)
    if count * dtype.itemsize != len(data) - stream.tell():
        raise _Corrupt(f"member {name!r} does not hold the {shape} array its header declares")
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=stream.tell())
    return flat.reshape(shape, order="F" if fortran else "C")


class _TooLarge(Exception):
    def __init__(self, name, size):
        super().__init__(name, size)
        self.name, self.size = name, size


def load(path, max_bytes: int | None = None):
    """Load a result saved with :func:`save`. No pickle and no code: only the JSON tree and the arrays it names
    are read, each checked against ``max_bytes`` (default :data:`MAX_LOAD_BYTES`, in total) before and while it
    is decompressed, and only classes in :data:`RESULT_TYPES` are rebuilt. Anything else: :class:`ResultFileError`."""
    limit = MAX_LOAD_BYTES if max_bytes is None else max_bytes
    budget = [limit]
    try:
        with zipfile.ZipFile(path) as zf:
            tree = json.loads(_read_member(zf, "__tree__", budget).tobytes().decode())
            arrays = {k: _read_member(zf, k, budget) for k in sorted(_array_keys(tree, set()))}
        return _unflatten(tree, arrays)
    except _TooLarge as e:
        raise ResultFileError(f"{path}: refusing to unpack {e.name!r}: {e.size:,} bytes, over what is left of the "
                              f"{limit:,}-byte limit; for a file you trust, raise it: "
                              f"attrkit.load(path, max_bytes=...)") from None
    except (_Corrupt, zipfile.BadZipFile, zipfile.LargeZipFile, UnicodeDecodeError, RecursionError, KeyError,
            TypeError, ValueError, EOFError, NotImplementedError) as e:  # zip, .npy, JSON or tree gone wrong
        if isinstance(e, ResultFileError):
            raise
        raise ResultFileError(f"{path} is not an attrkit result file ({e}); attrkit.load opens the .npz files "
                              f"that result.save(path) writes") from None


class SaveLoad:
    """Mixin giving result dataclasses ``.save(path)``, ``.load(path)`` and ``.numpy()``. Subclassing it is what
    makes a class loadable: it enters :data:`RESULT_TYPES` under the name :func:`save` writes."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        RESULT_TYPES[f"{cls.__module__}:{cls.__qualname__}"] = cls

    def save(self, path) -> None:
        save(self, path)

    @classmethod
    def load(cls, path, max_bytes: int | None = None):
        obj = load(path, max_bytes)
        if not isinstance(obj, cls):
            raise ResultFileError(f"{path} holds a {type(obj).__name__}, not a {cls.__name__}")
        return obj

    def numpy(self) -> dict:
        return to_numpy(self)
