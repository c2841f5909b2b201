"""Training data: the LLaVA-format ``forgery_reasoning_cot.json`` of MMFR (or of the demo's train split).

A JSON list of ``{"image": <path relative to the file's folder>, "conversations": [{"from": "human",
"value": "<image>\\n..."}, {"from": "gpt", "value": "... <CONCLUSION> This image is fake. </CONCLUSION>"}]}``
records. The label is read from the answer's CONCLUSION as the released code reads it (1 if it mentions
"fake"). Every record is checked, and every image path resolved inside the data folder, before training
starts, so a bad record fails in seconds rather than hours in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from fdrbench.adapters.fakereasoning.conversation import Template, training_example, verdict_of_answer
from fdrbench.adapters.fakereasoning.processing import ImageProcessor
from fdrbench.errors import DataError
from fdrbench.pathsafe import safe_join
from fdrbench.types import Sample, open_image

ANNOTATION_FILE = "forgery_reasoning_cot.json"


def find_annotations(data_dir: Path, split: str | None, explicit: str | None = None) -> Path:
    """``explicit``, else ``<data>/<split>/``, ``<data>/`` or ``<data>/dataset/`` + forgery_reasoning_cot.json."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise DataError("annotation file not found", path=path)
        return path
    candidates = [data_dir / ANNOTATION_FILE, data_dir / "dataset" / ANNOTATION_FILE]
    if split:
        candidates.insert(0, data_dir / split / ANNOTATION_FILE)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DataError(
        f"no {ANNOTATION_FILE} (looked in {', '.join(str(c.parent) for c in candidates)})",
        path=data_dir,
        hint="pass the MMFR-Dataset folder as --data-dir, or --train-arg annotations=PATH",
    )


@dataclass(frozen=True)
class Record:
    id: str
    image: Path
    conversations: list
    label: int


def read_records(path: Path) -> list[Record]:
    """All records of an annotation file, validated; image paths are relative to the file's folder."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"not valid JSON ({exc})", path=path) from exc
    if not isinstance(data, list):
        raise DataError(f"expected a JSON list of records, got {type(data).__name__}", path=path)
    root = path.parent
    records = []
    for index, item in enumerate(data):
        where = item.get("id", index) if isinstance(item, dict) else index
        if not isinstance(item, dict) or not isinstance(item.get("conversations"), list):
            raise DataError("expected an object with 'image' and a 'conversations' list", path=path, record=where)
        image = safe_join(root, item.get("image"), record=where, source=path)
        if not image.is_file():
            raise DataError(f"image {item.get('image')!r} not found under {root}", path=path, record=where)
        turns = item["conversations"]
        answer = turns[1].get("value") if len(turns) > 1 and isinstance(turns[1], dict) else None
        label = verdict_of_answer(answer) if isinstance(answer, str) else None
        if label is None:
            raise DataError("the gpt answer has no <CONCLUSION>...</CONCLUSION> to read the label from", path=path, record=where)
        records.append(Record(str(item.get("id", f"{index}:{item['image']}")), image, turns, label))
    if not records:
        raise DataError("no training records", path=path)
    return records


def as_samples(records: list[Record]) -> list[Sample]:
    """Records as Samples, so fdrbench's seeded, label-stratified ``subsample`` can pick a subset."""
    return [Sample(id=r.id, label=r.label, image=r.image, meta={"record": r}) for r in records]


class CoTDataset(torch.utils.data.Dataset):
    """Tokenised conversations, preprocessed images and labels, made on access."""

    def __init__(self, records: list[Record], tokenizer, processor: ImageProcessor, template: Template):
        self.records = records
        self.tokenizer = tokenizer
        self.processor = processor
        self.template = template

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict:
        record = self.records[index]
        example = training_example(record.conversations, self.tokenizer, self.template, record=record.id)
        image = open_image(record.image, sample_id=record.id)
        return {
            "input_ids": torch.tensor(example.input_ids, dtype=torch.long),
            "labels": torch.tensor(example.labels, dtype=torch.long),
            "pixel_values": self.processor([image])[0],
            "forgery_label": record.label,
            "reasoning_span": example.reasoning_span,
            "mismatch": example.mismatch,
        }


def collate(items: list[dict]) -> dict:
    """Sequences stay a list (the model splices and pads them); images and labels are stacked."""
    return {
        "input_ids": [it["input_ids"] for it in items],
        "labels": [it["labels"] for it in items],
        "pixel_values": torch.stack([it["pixel_values"] for it in items]),
        "forgery_labels": torch.tensor([it["forgery_label"] for it in items], dtype=torch.long),
        "reasoning_spans": [it["reasoning_span"] for it in items],
        "n_mismatch": sum(int(it["mismatch"]) for it in items),
    }
