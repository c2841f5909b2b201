"""DeepfakeJudge's benchmark splits as released on HF ``MBZUAI/DeepfakeJudge-Dataset`` (gated: accept its terms, use a token).

Layout (the GitHub README and the dataset card agree)::

    <root>/dfj-bench/dfj-detect/{images/, data.jsonl}     2,000 records
    <root>/dfj-bench/dfj-reason/{images/, data.jsonl}     924 records

``--data-dir`` may be the dataset root, ``dfj-bench/`` or the split folder itself. Image paths in a
record are relative to the folder holding its ``data.jsonl`` (a leading ``./`` is dropped).

The record schema is not documented beyond the ms-swift training format, so every field is
found from the file, and each finding can be fixed by an option:

- the image: ``images`` (a list: its first entry) or ``image``;
- the label (``label_field``, default ``auto``): the first of ``answer``, ``label``,
  ``ground_truth``, ``gt_label``, ``gt`` holding a string, else the last assistant turn of
  ``messages``; its value, lower-cased and stripped of ``<answer>`` tags, must be ``real``,
  ``fake`` or ``edited`` (``edit``, ``tampered``): both of the latter are fake (an ``== "fake"``
  test would make every edit real). Any other value is an error naming the record.
- the ``class`` group: ``real``, ``edited``, and, when the file also has edits, ``t2i`` for the
  other fakes (``fake`` when the vocabulary is only real/fake and edits cannot be told apart);
- the generator (``generator_field``, default ``auto``): ``generator``, ``model``, ``source_model``
  or ``generation_model`` when present.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdrbench.errors import DataError, SplitNotFound
from fdrbench.tasks.common.loading import first_existing, jsonl_objects, record_image
from fdrbench.types import FAKE, REAL

SPLITS = {"detect": "dfj-detect", "reason": "dfj-reason"}
LABEL_FIELDS = ("answer", "label", "ground_truth", "gt_label", "gt")
GENERATOR_FIELDS = ("generator", "model", "source_model", "generation_model")
VALUES = {"real": REAL, "fake": FAKE, "edited": FAKE, "edit": FAKE, "tampered": FAKE}
EDITED = ("edited", "edit", "tampered")
DOWNLOAD_HINT = (
    "accept the terms of HF MBZUAI/DeepfakeJudge-Dataset (gated), then `huggingface-cli download MBZUAI/DeepfakeJudge-Dataset "
    "--repo-type dataset --include 'dfj-bench/*' --local-dir <folder>` (with HF_TOKEN set) and pass --data-dir <folder>"
)
_TAG = re.compile(r"<answer>\s*(.*?)\s*</answer>", re.S | re.I)


def split_folder(root: Path, split: str) -> Path:
    """The folder holding ``data.jsonl`` of a benchmark split, from the dataset root, ``dfj-bench/`` or itself."""
    name = SPLITS[split]
    found = first_existing(p / "data.jsonl" for p in (root / "dfj-bench" / name, root / name, root))
    if found is None:
        raise SplitNotFound(f"no {name}/data.jsonl (expected <folder>/dfj-bench/{name}/data.jsonl)", path=root, hint=DOWNLOAD_HINT)
    return found.parent


def read_jsonl(path: Path) -> list[tuple[str, dict]]:
    out = list(jsonl_objects(path))
    if not out:
        raise DataError("the file holds no records", path=path)
    return out


def assistant_text(item: dict) -> str | None:
    """The last assistant turn of an ms-swift ``messages`` list, if any."""
    messages = item.get("messages")
    if not isinstance(messages, list):
        return None
    turns = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "assistant"]
    return turns[-1] if turns and isinstance(turns[-1], str) else None


def label_value(item: dict, label_field: str, path: Path, record: str) -> str:
    """The raw label word of a record (lower-cased, without ``<answer>`` tags), from the chosen or found field."""
    if label_field == "auto":
        found = next((item[k] for k in LABEL_FIELDS if isinstance(item.get(k), str) and item[k].strip()), None)
        raw = found if found is not None else assistant_text(item)
        if raw is None:
            raise DataError(
                f"no label found: none of {list(LABEL_FIELDS)} and no assistant turn in 'messages' (the record has {sorted(item)}); "
                "name the field with --task-arg label_field=<key>",
                path=path,
                record=record,
            )
    elif label_field == "messages":
        raw = assistant_text(item)
    else:
        raw = item.get(label_field)
    if not isinstance(raw, str):
        raise DataError(f"label field {label_field!r} holds {raw!r}, not text", path=path, record=record)
    tagged = _TAG.search(raw)
    word = (tagged.group(1) if tagged else raw).strip().strip(".").strip().lower()
    if word not in VALUES:
        raise DataError(f"unknown label {raw.strip()[:60]!r}; expected real, fake or edited", path=path, record=record)
    return word


def image_of(item: dict, folder: Path, path: Path, record: str) -> tuple[Path, str]:
    images = item.get("images")
    raw = images[0] if isinstance(images, list) and images else item.get("image")
    if isinstance(raw, dict):  # some ms-swift files hold {"path": ...}
        raw = raw.get("path")
    relative = raw[2:] if isinstance(raw, str) and raw.startswith("./") else raw
    return record_image(folder, relative, record, path)


@dataclass
class DfjRecord:
    record: str
    item: dict
    image: Path
    relative: str
    word: str
    generator: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def records(folder: Path, label_field: str, generator_field: str) -> Iterator[DfjRecord]:
    """Every record of ``folder/data.jsonl`` with its image path, label word and generator."""
    path = folder / "data.jsonl"
    for record, item in read_jsonl(path):
        image, relative = image_of(item, folder, path, record)
        word = label_value(item, label_field, path, record)
        keys = GENERATOR_FIELDS if generator_field == "auto" else (generator_field,)
        generator = next((item[k] for k in keys if isinstance(item.get(k), str) and item[k].strip()), None)
        yield DfjRecord(f"{record} ({relative})", item, image, relative, word, generator)


def class_of(word: str, has_edits: bool) -> str:
    if word == "real":
        return "real"
    if word in EDITED:
        return "edited"
    return "t2i" if has_edits else "fake"
