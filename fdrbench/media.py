"""Images and masks from untrusted files: decoding with one-line errors, and run-length masks.

A decoder can raise almost anything on a crafted file, and a header can claim billions of
pixels; every such failure here becomes a :class:`~fdrbench.errors.DataError` naming the file
and the sample. Masks are stored run-length encoded (``{"size": [h, w], "counts": [...]}``), exact
on decode, small enough for one prediction line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from fdrbench.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from PIL import Image

#: the largest mask decoded (pixels): twice Pillow's decompression-bomb warning size, as Pillow refuses images
MAX_MASK_PIXELS = 2 * 89_478_485
ImageSource = Union[str, "os.PathLike[str]", Callable[[], "Image.Image"]]
MaskSource = Union[str, "os.PathLike[str]", Callable[[], "np.ndarray"], "np.ndarray", dict]


def encode_mask(mask: np.ndarray) -> dict:
    """Run-length encode a 2-D binary mask, row-major, starting with a run of zeros.

    ``{"size": [h, w], "counts": [zeros, ones, zeros, ...]}``: small enough to keep one per
    line in ``predictions.jsonl`` and exact on decode.
    """
    import numpy as np

    arr = np.asarray(mask)
    if arr.ndim != 2:
        raise ValueError(f"a mask must be 2-D, got shape {arr.shape}")
    flat = (arr > 0).ravel().astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        runs = [0, *runs]
    return {"size": [int(arr.shape[0]), int(arr.shape[1])], "counts": [int(r) for r in runs]}


def mask_problems(value: dict | None, where: str) -> list[str]:
    """Why a stored run-length mask is not valid (empty when it is), checked without decoding it."""
    if value is None:
        return []
    try:
        check_mask(value)
    except ValueError as exc:
        return [f"{where} is not a valid run-length mask ({exc})"]
    return []


def check_mask(rle: Any) -> tuple[int, int, list[int]]:
    """(h, w, counts) of a run-length mask, checked without decoding it; ``ValueError`` if inconsistent."""
    try:
        h, w = (int(v) for v in rle["size"])
        counts = [int(c) for c in rle["counts"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"a mask must be {{'size': [h, w], 'counts': [...]}}, got {str(rle)[:80]}") from exc
    if h < 0 or w < 0 or any(c < 0 for c in counts) or sum(counts) != h * w:
        raise ValueError(f"mask counts sum to {sum(counts)}, expected {h}*{w}={h * w} with no negative runs")
    if h * w > MAX_MASK_PIXELS:
        raise ValueError(f"a {h}x{w} mask has more than {MAX_MASK_PIXELS} pixels (the decompression limit)")
    return h, w, counts


def decode_mask(rle: dict) -> np.ndarray:
    """Inverse of :func:`encode_mask`; raises ``ValueError`` on an inconsistent encoding."""
    import numpy as np

    h, w, counts = check_mask(rle)
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True
    return np.repeat(values, counts).reshape(h, w)


def decode_image(
    source: str | os.PathLike[str] | bytes, kind: str = "image", path: object = None, record: object = None, subject: str = ""
) -> Image.Image:
    """Open and fully decode an image file (or its bytes); any failure is a DataError naming it.

    Image files are untrusted: a decoder can raise almost anything on a crafted file, and Pillow
    refuses a decompression bomb (a small file that claims billions of pixels) with an error of
    its own; each becomes the one-line error of that file and sample.
    """
    import io

    from PIL import Image

    where = path if path is not None else (None if isinstance(source, bytes) else source)
    what = f"{subject} is " if subject else ""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as handle:
            handle.load()
            return handle.copy()
    except Image.DecompressionBombError as exc:
        raise DataError(f"{what}not a readable {kind}: refused as a decompression bomb ({exc})", path=where, record=record) from exc
    except Exception as exc:  # a hostile file can make a decoder raise any type
        raise DataError(f"{what}not a readable {kind} ({type(exc).__name__}: {exc})", path=where, record=record) from exc


def image_size(path: str | os.PathLike[str], record: object = None) -> tuple[int, int]:
    """(width, height) from an image file's header, without decoding the pixels; a DataError otherwise
    (a header claiming a decompression bomb included)."""
    from PIL import Image

    try:
        with Image.open(path) as handle:
            return handle.size
    except Exception as exc:  # a hostile header can make the parser raise any type
        raise DataError(f"not a readable image ({type(exc).__name__}: {exc})", path=path, record=record) from exc


def open_image(source: ImageSource | None, sample_id: str | None = None) -> Image.Image:
    """Open and fully decode an image, naming the file and sample when it cannot be read."""
    if source is None:
        raise DataError("sample has no image", record=sample_id)
    if callable(source):
        img = source()
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError("image file not found", path=path, record=sample_id)
        img = decode_image(path, "image", path, sample_id)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img


def describe_values(values: np.ndarray) -> str:
    """The set of gray values in a mask, short: ``{0, 100}``, or ``{0, 1, ..., 255} (37 values)``."""
    import numpy as np

    present = [int(v) for v in np.unique(np.asarray(values))]
    if len(present) <= 6:
        return "{" + ", ".join(map(str, present)) + "}"
    return f"{{{present[0]}, {present[1]}, ..., {present[-1]}}} ({len(present)} values)"


def load_mask(source: MaskSource | None, sample_id: str | None = None) -> np.ndarray | None:
    """Read a mask from a file, callable, array or run-length dict into a boolean array.

    Grayscale files are binarised at 128 (``> 127``); tasks whose papers use another rule
    convert before handing the mask over.
    """
    return load_mask_info(source, sample_id)[0]


def load_mask_info(source: MaskSource | None, sample_id: str | None = None) -> tuple[np.ndarray | None, dict]:
    """:func:`load_mask` plus how the mask was decoded: ``{"rule", "values"}`` for a grayscale
    file or a source with a ``decode()`` method (a task's loader), else ``{}``."""
    import numpy as np

    if source is None:
        return None, {}
    if callable(getattr(source, "decode", None)):
        mask, info = source.decode()
        return np.asarray(mask) > 0, dict(info)
    if isinstance(source, (str, os.PathLike)):
        arr = _read_gray(Path(source), sample_id)
        return arr > 127, {"rule": "> 127", "values": describe_values(arr)}
    return _load_plain_mask(source), {}


def _load_plain_mask(source: MaskSource) -> np.ndarray:
    import numpy as np

    if isinstance(source, dict):
        return decode_mask(source)
    if callable(source):
        return np.asarray(source()) > 0
    return np.asarray(source) > 0


def _read_gray(path: Path, sample_id: str | None) -> np.ndarray:
    import numpy as np

    if not path.is_file():
        raise DataError("mask file not found", path=path, record=sample_id)
    return np.asarray(decode_image(path, "mask image", path, sample_id).convert("L"))
