"""A miniature labels file and its images in the shapes ``--task manifest`` reads (CSV with a BOM, JSONL)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fdrbench.tasks.common.miniature import COLOURS, gray_bytes, write_image, write_jsonl
from fdrbench.tasks.folder.miniature import MASK_ROWS

#: image, label (1 = fake), generator, class, mask, reference, and an extra column ``source``
ROWS = [
    {"image": "imgs/a.png", "label": 0, "generator": "", "class": "real", "mask": "", "reference": "", "source": "camera"},
    {
        "image": "imgs/b.png",
        "label": 1,
        "generator": "SDXL",
        "class": "full_synthetic",
        "mask": "",
        "reference": "Waxy skin.",
        "source": "web",
    },
    {
        "image": "imgs/c.jpg",
        "label": 1,
        "generator": "Imagen 4",
        "class": "tampered",
        "mask": "masks/c.png",
        "reference": "",
        "source": "web",
    },
    {"image": "imgs/d.png", "label": 0, "generator": "", "class": "real", "mask": "", "reference": "", "source": ""},
]


def build(root: Path, fmt: str = "csv", rows: list[dict] | None = None, labels: tuple = (0, 1)) -> Path:
    """``root/imgs/*`` and ``root/labels.<fmt>``; ``labels`` are the values written for real and fake."""
    rows = rows if rows is not None else ROWS
    for i, row in enumerate(rows):
        write_image(root / row["image"], COLOURS[i % 6])
        if row.get("mask"):
            (root / row["mask"]).parent.mkdir(parents=True, exist_ok=True)
            (root / row["mask"]).write_bytes(gray_bytes(MASK_ROWS))
    written = [{**row, "label": labels[row["label"]] if row["label"] in (0, 1) else row["label"]} for row in rows]
    if fmt == "jsonl":
        write_jsonl(root / "labels.jsonl", [{k: v for k, v in row.items() if v != ""} for row in written])
        return root / "labels.jsonl"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(written[0]))
    writer.writeheader()
    writer.writerows(written)
    path = root / "labels.csv"
    path.write_text("\ufeff" + buffer.getvalue(), encoding="utf-8")
    return path
