"""The demo as a held-out benchmark: opaque sample ids, a public copy without labels, the organiser's with them.

``build_heldout`` copies the demo's test images under ids that say nothing (``s0000``...), in a
seeded order, into two folders: the public release (``samples.jsonl`` and the images) and the
organiser's copy, which adds ``labels.jsonl`` (label, class, generator, mask) and the masks.
``HeldOutDemo`` reads either; on the public one it declares that it has no labels.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterable
from pathlib import Path

from fdrbench.api.task import Task
from fdrbench.pathsafe import safe_join
from fdrbench.types import Sample

SAMPLES = "samples.jsonl"
LABELS = "labels.jsonl"


class HeldOutDemo(Task):
    name = "demo_heldout"
    version = "1"
    description = "The demo's test images under opaque ids, labels held by the organiser"
    label_space = "ternary"
    group_keys = ("generator",)
    has_masks = True

    def has_labels(self, data_dir: Path, split: str) -> bool:
        return (data_dir / split / LABELS).is_file()

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        root = data_dir / split
        labels = {}
        if (root / LABELS).is_file():
            labels = {row["id"]: row for row in map(json.loads, (root / LABELS).read_text().splitlines())}
        for row in map(json.loads, (root / SAMPLES).read_text().splitlines()):
            truth = labels.get(row["id"])
            image = safe_join(root, row["image"], record=row["id"])
            if truth is None:
                yield Sample(id=row["id"], label=None, image=image, image_ref=row["image"])
                continue
            mask = safe_join(root, truth["mask"], record=row["id"]) if truth.get("mask") else None
            yield Sample(
                id=row["id"],
                label=truth["label"],
                cls=truth["cls"],
                image=image,
                image_ref=row["image"],
                group={"generator": truth["generator"]},
                mask=mask,
                meta={"answer": truth["cls"]},  # metadata that gives the answer away, as some releases' does
            )


def build_heldout(demo_root: Path, public: Path, held: Path, seed: int = 0) -> dict[str, str]:
    """Write the public and the organiser's copies of the demo's test split; returns {opaque id: demo id}."""
    from fdrbench.tasks.demo import DemoTask

    demo = DemoTask().load(demo_root, "test")
    order = list(range(len(demo)))
    random.Random(seed).shuffle(order)
    mapping = {}
    rows, labels = [], []
    for n, index in enumerate(order):
        sample = demo[index]
        opaque = f"s{n:04d}"
        mapping[opaque] = sample.id
        image = f"images/{opaque}.png"
        rows.append({"id": opaque, "image": image})
        mask = None
        if sample.mask is not None:
            mask = f"masks/{opaque}.png"
            (held / "test" / "masks").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sample.mask, held / "test" / mask)
        labels.append({"id": opaque, "label": sample.label, "cls": sample.cls, "generator": sample.group["generator"], "mask": mask})
        for folder in (public, held):
            (folder / "test" / "images").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sample.image, folder / "test" / image)
    for folder in (public, held):
        (folder / "test" / SAMPLES).write_text("".join(json.dumps(r) + "\n" for r in rows))
    (held / "test" / LABELS).write_text("".join(json.dumps(r) + "\n" for r in labels))
    return mapping


class PeekingDetector:
    """Predicts from the image alone, and says in its explanation what it could see of the truth.

    Its three-way verdict comes from the image's mean brightness; a "tampered" verdict carries a
    mask at the image's size (pixels brighter than the mean). A blind run must show it nothing:
    its explanation then reads ``saw label=None cls=None group={} meta=[] reference=[]``.
    """

    name = "peeking"
    uses_device = False

    def predict(self, batch):
        import numpy as np

        from fdrbench.types import Prediction, encode_mask

        out = []
        for sample in batch:
            pixels = np.asarray(sample.load_image().convert("L"), dtype=np.float32) / 255.0
            p_fake = float(np.clip(pixels.mean() * 1.4 - 0.2, 0.0, 1.0))
            cls = "real" if p_fake < 0.5 else ("tampered" if pixels.std() > 0.25 else "full_synthetic")
            mask = encode_mask(pixels > pixels.mean()) if cls == "tampered" else None
            seen = f"saw label={sample.label} cls={sample.cls} group={sample.group} meta={sorted(sample.meta)} reference={sample.reference.all_texts()}"
            out.append(Prediction(sample_id=sample.id, cls=cls, p_fake=p_fake, mask=mask, explanation=seen, raw_output=seen))
        return out
