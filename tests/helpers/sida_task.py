"""Seeded SID-Set data for SIDA's end-to-end tests, read by the real ``sidset`` task.

Layout as SID-Set's test zip: ``<root>/test/{real/*.jpg, full_synthetic/*.png, tampered/*.png,
masks/<name>_mask.png}``, with images of varied sizes so masks are checked at each image's size.
"""

from __future__ import annotations

from pathlib import Path

FOLDERS = (("real", "*.jpg"), ("full_synthetic", "*.png"), ("tampered", "*.png"))


def build(root: Path, per_class: int = 2, split: str = "test") -> Path:
    """Write seeded images of varied sizes (and masks for the tampered ones) in SID-Set's layout."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    sizes = [(40, 30), (33, 52), (64, 48), (20, 70)]
    for cls, pattern in FOLDERS:
        folder = root / split / cls
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            width, height = sizes[(i + len(cls)) % len(sizes)]
            pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            name = f"{cls}_{i:03d}"
            Image.fromarray(pixels).save(folder / f"{name}{pattern[1:]}")
            if cls == "tampered":
                (root / split / "masks").mkdir(exist_ok=True)
                mask = np.zeros((height, width), dtype=np.uint8)
                mask[height // 4 : height // 2, width // 4 : width // 2] = 255
                Image.fromarray(mask).save(root / split / "masks" / f"{name}_mask.png")
    return root
