"""Reading a labels file (CSV or JSONL) that lists one's own images.

Columns: ``image`` (a path relative to the data folder) and ``label`` are required; ``generator``,
``class`` (``real``, ``full_synthetic`` or ``tampered``), ``mask`` (a path relative to the data
folder) and ``reference`` (an explanation text) are read when present; every other column
becomes a group of that name. CSV is read with a header row (a UTF-8 byte-order mark is
accepted); JSONL holds one object per line. Empty cells are absent values.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fdrbench.errors import DataError, SplitNotFound
from fdrbench.tasks.common.loading import jsonl_objects

SPECIAL = ("image", "label", "generator", "class", "mask", "reference")
REQUIRED = ("image", "label")


def _csv_rows(path: Path, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise DataError("the CSV file has no header row", path=path)
    for number, row in enumerate(reader, start=2):
        if None in row:
            raise DataError(f"more cells than the {len(reader.fieldnames)} header columns", path=path, record=f"line {number}")
        yield f"line {number}", {k: (v if v is None or v.strip() else None) for k, v in row.items()}


def _jsonl_rows(path: Path, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for record, item in jsonl_objects(path, text):
        yield record, {k: (None if v == "" else v) for k, v in item.items()}


def read_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(record, row) of every row; the format from the suffix (``.csv``, ``.jsonl`` / ``.ndjson``)."""
    if not path.is_file():
        raise SplitNotFound("labels file not found", path=path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeError as exc:
        raise DataError(f"cannot decode the file as UTF-8 ({exc})", path=path) from exc
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = list(_csv_rows(path, text))
    elif suffix in (".jsonl", ".ndjson"):
        rows = list(_jsonl_rows(path, text))
    else:
        raise DataError(f"unknown labels file type {suffix!r}; expected .csv or .jsonl", path=path)
    if not rows:
        raise DataError("the labels file lists no images", path=path)
    present = set().union(*(row.keys() for _, row in rows))
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        raise DataError(f"missing column(s) {missing}; the file has {sorted(present)}", path=path)
    return rows


def group_value(value: Any, column: str, path: Path, record: str) -> str | None:
    """A cell of a group column as a string (numbers and booleans too); a list or object is an error."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise DataError(
            f"column {column!r} holds a {type(value).__name__}; a group value must be a string or number", path=path, record=record
        )
    return str(value).strip() or None
