"""Miniature folders in the layouts ``--task folder`` reads, for the tests and for trying the task."""

from __future__ import annotations

from pathlib import Path

from fdrbench.tasks.common.miniature import COLOURS, gray_bytes, write_image, write_jsonl

MASK_ROWS = [[0] * 8] * 2 + [[0, 0, 255, 255, 255, 255, 0, 0]] * 4 + [[0] * 8] * 2


def build_flat(root: Path, real: str = "real", fake: str = "fake") -> Path:
    """``root/{real,fake}/...``: two reals (one in a subfolder), two fakes, a stray text file."""
    write_image(root / real / "r1.png", COLOURS[0])
    write_image(root / real / "day2" / "r2.jpg", COLOURS[1])
    write_image(root / fake / "f1.png", COLOURS[2])
    write_image(root / fake / "f2.webp", COLOURS[3], fmt="WEBP")
    (root / fake / "notes.txt").write_text("not an image", encoding="utf-8")
    return root


def build_generators(root: Path, generators=("midjourney_v5", "sdxl"), subdir: str | None = None, real="0_real", fake="1_fake") -> Path:
    """``root/<generator>/[<subdir>/]{0_real,1_fake}/`` with a mask for one fake per generator and
    ``explanations.jsonl`` for two fakes (one naming an image that is not there)."""
    lines = []
    for i, generator in enumerate(generators):
        base = root / generator / subdir if subdir else root / generator
        write_image(base / real / f"{generator}_r.png", COLOURS[i % 6])
        write_image(base / fake / f"{generator}_f.png", COLOURS[(i + 1) % 6])
        write_image(base / fake / f"{generator}_g.png", COLOURS[(i + 2) % 6])
        mask = base / "masks" / f"{generator}_f.png"
        mask.parent.mkdir(parents=True, exist_ok=True)
        mask.write_bytes(gray_bytes(MASK_ROWS))
        relative = (base / fake / f"{generator}_f.png").relative_to(root).as_posix()
        lines.append({"image": relative, "reference": f"The {generator} image has smeared hands."})
    lines.append({"image": "gone/1_fake/x.png", "reference": "an explanation of an image that is not there"})
    write_jsonl(root / "explanations.jsonl", lines)
    return root
