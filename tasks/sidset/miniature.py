"""Miniature SID-Set releases: the Drive folders of two splits and a Hub parquet split.

The quirks kept: real images are JPEG and the others PNG (SIDA's loader globs by suffix),
``masks/<name>_mask.png`` beside the class folders, one mask at half resolution, one tampered
image without a mask, a stray non-image file, anti-aliased mask edges (foreground for ``> 127``,
not for SIDA's ``== 255``), a description file for one class, and in the parquet the label as a
bare int64 rather than a ClassLabel.
"""

from __future__ import annotations

from pathlib import Path

from fdrbench.tasks.common.miniature import COLOURS, image_bytes, mask_bytes, write_image, write_json

FILES = {
    "real": ["9f2c2560a72d603c.jpg", "0a1b2c3d4e5f6a7b.jpg"],
    "full_synthetic": ["full_synthetic_063970.png"],
    "tampered": ["tampered_29551.png", "tampered_00002.png", "tampered_nomask.png"],
}


def build_folders(root: Path, splits=("test", "validation")) -> Path:
    """``root/<split>/{real,full_synthetic,tampered,masks}`` as the Drive zips extract."""
    for split in splits:
        base = root / split
        for cls, names in FILES.items():
            for i, name in enumerate(names):
                size = (16, 12) if cls == "tampered" else (8, 8)
                write_image(base / cls / name, COLOURS[i % 6], size=size)
        # masks: X.png <-> masks/X_mask.png; one is at half resolution, one tampered image has none
        (base / "masks").mkdir(parents=True, exist_ok=True)
        (base / "masks" / "tampered_29551_mask.png").write_bytes(mask_bytes((16, 12)))
        (base / "masks" / "tampered_00002_mask.png").write_bytes(mask_bytes((8, 6)))
        (base / "real" / "notes.txt").write_text("not an image")
        write_json(base / "description" / "tampered_GT.json", {"tampered_29551.png": "The cup on the table was replaced."})
    return root


def build_parquet(root: Path, split: str = "validation") -> Path:
    """``root/data/<split>-00000-of-00001.parquet`` with SID-Set's Hub schema (label int64, not ClassLabel)."""
    import datasets

    rows = [("9f2c2560a72d603c", 0), ("full_synthetic_063970", 1), ("tampered_29551", 2), ("tampered_nomask", 2)]
    data = {
        "img_id": [r[0] for r in rows],
        "image": [{"bytes": image_bytes(COLOURS[i], size=(16, 12) if r[1] == 2 else (8, 8)), "path": None} for i, r in enumerate(rows)],
        "mask": [{"bytes": mask_bytes((16, 12)), "path": None} if r[0] == "tampered_29551" else None for r in rows],
        "width": [16 if r[1] == 2 else 8 for r in rows],
        "height": [12 if r[1] == 2 else 8 for r in rows],
        "label": [r[1] for r in rows],
    }
    features = datasets.Features(
        {
            "img_id": datasets.Value("string"),
            "image": datasets.Image(),
            "mask": datasets.Image(),
            "width": datasets.Value("int64"),
            "height": datasets.Value("int64"),
            "label": datasets.Value("int64"),
        }
    )
    path = root / "data" / f"{split}-00000-of-00001.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_dict(data, features=features).to_parquet(str(path))
    return root
