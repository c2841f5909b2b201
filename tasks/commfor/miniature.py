"""A miniature CommunityForensics-Eval: ``data/CompEval-*.parquet`` with its card's columns and quirks.

Kept: images as raw bytes in ``image_data``; reals carrying their paired generator's ``model_name``;
``real_source`` in mixed case, and ``n/a`` on fakes; ``label`` int64 with 0 = real.
"""

from __future__ import annotations

from pathlib import Path

from fdrbench.tasks.common.miniature import COLOURS, image_bytes, write_parquet

#: image_name, model_name, architecture, real_source, label
ROWS = [
    ("real_0001.png", "DFGAN", "GAN", "COCO", 0),
    ("dfgan_0001.png", "DFGAN", "GAN", "n/a", 1),
    ("real_0002.jpg", "FLUX-dev", "Commercial", "Laion", 0),
    ("flux_0001.png", "FLUX-dev", "Commercial", "", 1),
    ("mj_0001.png", "MidjourneyV6_1", "Commercial", "n/a", 1),
]


def build(root: Path, labels: list | None = None, shards: int = 2) -> Path:
    """``root/data/CompEval-0000k-of-0000n.parquet``: the rows split over ``shards`` files."""
    import datasets

    string = datasets.Value("string")
    features = {
        "image_name": string,
        "format": string,
        "resolution": datasets.Sequence(datasets.Value("int64")),
        "mode": string,
        "image_data": datasets.Value("binary"),
        "model_name": string,
        "nsfw_flag": string,
        "prompt": string,
        "real_source": string,
        "subset": string,
        "split": string,
        "label": datasets.Value("int64"),
        "architecture": string,
    }
    labels = labels or [r[4] for r in ROWS]
    per = -(-len(ROWS) // shards)
    for k in range(shards):
        rows = list(enumerate(ROWS))[k * per : (k + 1) * per]
        data = {
            "image_name": [r[0] for _, r in rows],
            "format": ["JPEG" if r[0].endswith(".jpg") else "PNG" for _, r in rows],
            "resolution": [[8, 8] for _ in rows],
            "mode": ["RGB" for _ in rows],
            "image_data": [image_bytes(COLOURS[i % 6], fmt="JPEG" if r[0].endswith(".jpg") else "PNG") for i, r in rows],
            "model_name": [r[1] for _, r in rows],
            "nsfw_flag": ["False" for _ in rows],
            "prompt": ["" for _ in rows],
            "real_source": [r[3] for _, r in rows],
            "subset": ["CompEval" for _ in rows],
            "split": ["eval" for _ in rows],
            "label": [labels[i] for i, _ in rows],
            "architecture": [r[2] for _, r in rows],
        }
        write_parquet(root / "data" / f"CompEval-{k:05d}-of-{shards:05d}.parquet", data, features)
    return root
