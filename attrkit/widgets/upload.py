"""Your own image in a notebook: a FileUpload widget, and the validated image it holds.

Validation is :func:`attrkit.zoo.imagenet.load_image` (image types only, a byte limit, pixel and side limits read
from the header before decoding); this module only unpacks what the widget received. Every refusal is an
:class:`attrkit.zoo.imagenet.ImageRejected`, which the widget turns into the shipped photo and a message.
"""
from __future__ import annotations

import ipywidgets as widgets

from ..zoo import imagenet


def upload_widget():
    """An ipywidgets ``FileUpload`` for one image (the browser's ``accept`` filter is a hint only: the file is
    validated again by :func:`image_from_upload`)."""
    return widgets.FileUpload(accept="image/*", multiple=False, description="Upload an image")


def _uploaded_file(upload):
    """(name, bytes) of the file in a FileUpload widget (or its ``.value``), or None when nothing is uploaded;
    a value of any other shape is an ImageRejected."""
    try:
        return _unpack(getattr(upload, "value", upload))
    except (KeyError, TypeError, ValueError) as e:  # not what ipywidgets 7 or 8 put in a FileUpload's value
        if isinstance(e, imagenet.ImageRejected):
            raise
        raise imagenet.ImageRejected(f"could not read the upload ({type(e).__name__}: {e})") from None


def _unpack(value):
    if isinstance(value, dict):                       # ipywidgets 7: {name: {"content": ...}}
        value = [dict(v, name=k) for k, v in value.items()] if all(isinstance(v, dict) for v in value.values()) \
            else [value]
    if not value:
        return None
    if len(value) > 1:
        raise imagenet.ImageRejected(f"{len(value)} files were uploaded; upload one image")
    f = value[0]
    return str(f.get("name", "upload")), bytes(memoryview(f["content"]))  # memoryview: never bytes(huge int)


def image_from_upload(upload, size=224, fallback="chelsea", max_bytes=None):
    """The image in ``upload`` (a FileUpload widget, its value, or None) → ``(image (3, size, size), message)``.

    Validation is :func:`attrkit.zoo.imagenet.load_image`: image types only (JPEG, PNG, BMP, GIF, WebP; anything
    else is refused), a byte limit (``max_bytes``, default 20 MB), and a pixel limit checked from the header
    before decoding (decompression bombs, and images too elongated to resize). With nothing uploaded, or a
    refused file, the shipped photo ``fallback`` is used and ``message`` says why; ``fallback=None`` raises the
    :class:`~attrkit.zoo.imagenet.ImageRejected` (a ValueError) instead.
    """
    limit = imagenet.MAX_BYTES if max_bytes is None else max_bytes
    try:
        got = _uploaded_file(upload)
        if got is not None:
            name, data = got
            return imagenet.load_image(data, size=size, max_bytes=limit), f"using your upload {name!r}"
        reason = "no image uploaded"
    except imagenet.ImageRejected as e:
        if fallback is None:
            raise imagenet.ImageRejected(f"upload refused: {e}") from None
        reason = f"upload refused: {e}"
    if fallback is None:
        raise imagenet.ImageRejected("no image uploaded")
    return imagenet.load_photo(fallback, size=size), f"{reason}; using the shipped photo {fallback!r}"
