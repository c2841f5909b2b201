"""The writers every miniature-release builder uses: tiny images, encoded bytes, JSON, JSONL, parquet, masks.

A family's ``miniature.py`` writes a handful of these in its release's exact layout and
encoding, with the release's quirks, so its loader's tests read what the real files look like.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

#: distinct flat colours, so images of one miniature differ
COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (30, 200, 200), (200, 30, 200)]


def write_image(path: Path, colour=(120, 80, 40), size=(8, 8), fmt: str | None = None) -> Path:
    """A flat image at ``path`` (JPEG for a .jpg/.jpeg name unless ``fmt`` says otherwise)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, format=fmt or ("JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG"))
    return path


def image_bytes(colour=(120, 80, 40), size=(8, 8), fmt: str = "PNG", mode: str = "RGB") -> bytes:
    """A flat image, encoded: what a parquet image cell holds."""
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format=fmt)
    return buffer.getvalue()


def write_json(path: Path, data, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding) as handle:
        json.dump(data, handle, indent=1, ensure_ascii=False)
    return path


def mask_bytes(size=(8, 8), value: int = 255, edge: int | None = 200) -> bytes:
    """A PNG gray mask with a square region of ``value`` and one anti-aliased ``edge`` pixel
    (foreground for ``> 127``, background for ``== 255``: the two rules differ on it)."""
    arr = np.zeros((size[1], size[0]), dtype=np.uint8)
    arr[2:6, 2:6] = value
    if edge is not None:
        arr[2, 2] = edge
    buffer = io.BytesIO()
    Image.fromarray(arr, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def gray_bytes(rows: list[list[int]]) -> bytes:
    """A grayscale PNG of the given pixel rows (a mask)."""
    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(rows, dtype=np.uint8), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def write_jsonl(path: Path, records: Iterable) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write((record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)) + "\n")
    return path


def write_parquet(path: Path, columns: dict[str, list], features: dict | None = None, metadata: bool = True) -> Path:
    """One parquet shard as the Hub holds it: with ``datasets``' features metadata, or (``metadata``
    False) a plain table as another tool writes it."""
    import datasets

    dataset = datasets.Dataset.from_dict(columns, features=datasets.Features(features) if features else None)
    path.parent.mkdir(parents=True, exist_ok=True)
    if metadata:
        dataset.to_parquet(str(path))
    else:
        import pyarrow.parquet as pq

        pq.write_table(dataset.data.table.replace_schema_metadata(None), path)
    return path
