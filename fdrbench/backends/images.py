"""Images as data URLs for API requests: the original file's bytes when they can be sent as they
are, else a lossless PNG of the decoded image (optionally downscaled), and crops of regions."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from fdrbench.types import Sample

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

SENDABLE = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


def data_url(payload: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def png_data_url(image: Image.Image, max_side: int | None = None) -> str:
    """A PNG data URL of ``image``, its longer side reduced to ``max_side`` if larger."""
    if max_side and max(image.size) > max_side:
        image = image.copy()
        image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return data_url(buffer.getvalue(), "image/png")


def _file_format(path: Path) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as handle:
            return handle.format
    except (UnidentifiedImageError, OSError):
        return None


def sample_data_url(sample: Sample, max_side: int | None = None) -> str:
    """The sample's image: its file's own bytes when the format is one APIs accept and no
    resizing is asked, otherwise a PNG of the decoded image."""
    source = sample.image
    if max_side is None and isinstance(source, (str, os.PathLike)):
        path = Path(source)
        fmt = _file_format(path) if path.is_file() else None
        if fmt in SENDABLE:
            return data_url(path.read_bytes(), SENDABLE[fmt])
    return png_data_url(sample.load_image(), max_side)


def crop_box(image_size: tuple[int, int], box: list[float]) -> tuple[int, int, int, int] | None:
    """``[x, y, w, h]`` in pixels -> a PIL crop box clipped to the image, or None when empty."""
    width, height = image_size
    x, y, w, h = (float(v) for v in box)
    left, top = max(0, int(round(x))), max(0, int(round(y)))
    right, bottom = min(width, int(round(x + w))), min(height, int(round(y + h)))
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom
