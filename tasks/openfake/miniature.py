"""A miniature OpenFake snapshot: ``core/test-*.parquet`` with string labels (and the earliest ``data/`` layout)."""

from __future__ import annotations

from pathlib import Path

from fdrbench.tasks.common.miniature import COLOURS, image_bytes, write_parquet

#: label, model, type, release_date
ROWS = [
    ("real", "laion", "", ""),
    ("fake", "gpt-image-1", "Base", "2025-04-23"),
    ("fake", "stabilityai/stable-diffusion-xl-base-1.0", "Fine-tune", "2023-07-25"),
    ("real", "", "", "unknown"),
    ("fake", "flux.1-dev", "Base", "2024-08-01"),
]


def build(root: Path, layout: str = "core", labels: list | None = None) -> Path:
    """``root/core/test-00000-of-00001.parquet`` (``layout="core"``) or ``root/data/test-...`` with four columns."""
    import datasets

    string = datasets.Value("string")
    data = {
        "image": [{"bytes": image_bytes(COLOURS[i % 6]), "path": None} for i in range(len(ROWS))],
        "prompt": [f"prompt {i}" for i in range(len(ROWS))],
        "label": labels or [r[0] for r in ROWS],
        "model": [r[1] for r in ROWS],
    }
    features = {"image": datasets.Image(), "prompt": string, "label": string, "model": string}
    if layout == "core":
        data.update(type=[r[2] for r in ROWS], release_date=[r[3] for r in ROWS])
        features.update(type=string, release_date=string)
    folder = "core" if layout == "core" else "data"
    write_parquet(root / folder / "test-00000-of-00001.parquet", data, features)
    return root
