"""Reading a folder of one's own images in the layouts people already use.

Label folders (names compared lower-cased; the ``real_dirs`` / ``fake_dirs`` options replace them):
real ``real``, ``0_real``, ``nature``; fake ``fake``, ``1_fake``, ``ai``. They sit either in the data
folder itself (``D/{real,fake}/...``, ``D/{0_real,1_fake}/...``) or one level down, in a folder per
generator (``D/<generator>/{0_real,1_fake}/...``, as AIGCDetectBenchmark ships; GenImage's
``D/<generator>/val/{ai,nature}/`` with ``subdir=val``), never both. Images are found recursively
inside each label folder; other files are counted and skipped.

Beside the label folders, an optional ``masks/`` folder holds a mask per fake image, at the same
path relative to its label folder and with the same stem (``1_fake/a/x.jpg`` -> ``masks/a/x.png``).
An optional ``explanations.jsonl`` in the data folder gives reference texts, one
``{"image": <path relative to the data folder>, "reference": <text>}`` per line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fdrbench.errors import DataError, SplitNotFound
from fdrbench.pathsafe import check_relative, inside
from fdrbench.tasks.common.loading import LoadReport, expect, expect_str, jsonl_objects
from fdrbench.tasks.common.own_data import IMAGE_SUFFIXES, image_files
from fdrbench.types import FAKE, REAL

REAL_DIRS = ("real", "0_real", "nature")
FAKE_DIRS = ("fake", "1_fake", "ai")
MASKS_DIR = "masks"
EXPLANATIONS = "explanations.jsonl"


@dataclass(frozen=True)
class LabelFolder:
    """One folder of images of one label, and the generator folder it belongs to (None when flat)."""

    path: Path
    label: int
    generator: str | None
    masks: Path


def names(value: object, default: tuple[str, ...], option: str) -> tuple[str, ...]:
    if value in (None, ""):
        return default
    found = tuple(n.strip().lower() for n in str(value).split(",") if n.strip())
    if not found:
        raise DataError(f"task option {option!r} must list folder names, got {value!r}")
    return found


def label_dirs(folder: Path, real: tuple[str, ...], fake: tuple[str, ...]) -> list[tuple[Path, int]]:
    out = []
    for child in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        lowered = child.name.lower()
        if lowered in real:
            out.append((child, REAL))
        elif lowered in fake:
            out.append((child, FAKE))
    return out


def discover(root: Path, real: tuple[str, ...], fake: tuple[str, ...], subdir: str | None, report: LoadReport) -> list[LabelFolder]:
    """Every label folder of the data folder, flat or one per generator; an ambiguous or empty layout is an error."""
    here = label_dirs(root, real, fake)
    others = [p for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".") and p.name.lower() not in (*real, *fake)]
    others = [p for p in others if p.name != MASKS_DIR]
    expected = f"expected {'/'.join(real)} and {'/'.join(fake)} folders in it, or in one folder per generator"
    if here:
        nested = [p.name for p in others if label_dirs(p / subdir if subdir else p, real, fake)]
        if nested:
            raise DataError(f"label folders both at the top and inside {nested[:3]}: one layout per data folder", path=root)
        return [LabelFolder(path, label, None, root / MASKS_DIR) for path, label in here]
    found = []
    for generator in others:
        base = generator / subdir if subdir else generator
        dirs = label_dirs(base, real, fake) if base.is_dir() else []
        if not dirs:
            report.add("folders_without_label_folders", generator.name)
            continue
        found.extend(LabelFolder(path, label, generator.name, base / MASKS_DIR) for path, label in dirs)
    if not found:
        raise SplitNotFound(f"no image folders found ({expected})", path=root)
    return found


def find_mask(folder: LabelFolder, image: Path) -> Path | None:
    """The mask beside a fake image: ``masks/<same relative path, same stem>.<image suffix>``."""
    if not folder.masks.is_dir():
        return None
    relative = image.relative_to(folder.path).with_suffix("")
    for suffix in IMAGE_SUFFIXES:
        for candidate in (folder.masks / relative.with_suffix(suffix), folder.masks / relative.with_suffix(suffix.upper())):
            if candidate.is_file():
                return inside(folder.masks, candidate, shown=candidate.name)
    return None


def read_explanations(root: Path) -> dict[str, str]:
    """``explanations.jsonl``: image path (relative to the data folder) -> reference text; absent file: none."""
    path = root / EXPLANATIONS
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    for record, item in jsonl_objects(path):
        image = check_relative(
            expect_str(item.get("image"), "'image' (a path relative to the data folder)", path, record), path=path, record=record
        )
        reference = expect_str(item.get("reference"), "'reference' (the explanation text)", path, record)
        key = image.as_posix()
        expect(key not in out, f"image {key!r} is listed twice", path, record)
        out[key] = reference
    return out


def walk(root: Path, folders: list[LabelFolder], report: LoadReport) -> Iterator[tuple[LabelFolder, Path]]:
    for folder in folders:
        for image in image_files(folder.path, root, report):
            yield folder, image
