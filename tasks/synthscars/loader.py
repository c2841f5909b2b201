"""SynthScars (LEGION) as released: HF ``khr0516/SynthScars`` (``SynthScars.zip``), laid out as LEGION's README says.

Layout, with the README's spelling and LEGION's own (both are accepted, as is an extra
``SynthScars/`` level left by unzipping)::

    <root>/[SynthScars/]{train,test}/images/*.{jpg,png}
    <root>/[SynthScars/]{train,test}/{annoations,annotations}/{train,test}.json
                                       (LEGION's loader reads both from train/annotations/)

Each annotation file is a JSON list of one-key objects ``[{"<id>": {...}}]``. The value has
``img_file_name`` (a name under ``<split>/images/``; a path with folders, even an absolute one,
is read by its file name), ``caption`` (the whole explanation) and ``refs``: each with
``sentence`` (the phrase naming the region), ``explanation`` (the region's text) and
``segmentation``, a list of polygons ``[x1, y1, x2, y2, ...]`` in pixels of the stored image.
The artifact mask of an image is the union of all its polygons, rasterised with
``pycocotools`` exactly as LEGION does (``frPyObjects`` then ``decode``). Every image is
synthetic: the label is fake throughout. Keys beyond these are kept: image-level string fields
(a content type, ...) become groups, ref-level ones stay in the reference's regions.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from fdrbench.errors import FdrbenchError, SplitNotFound
from fdrbench.pathsafe import check_name, inside
from fdrbench.tasks.common.loading import expect, expect_str, first_existing, read_json
from fdrbench.tasks.common.parquet import DATA_EXTRA_HINT

ANNOTATION_DIRS = ("annotations", "annoations")
KNOWN_IMAGE_KEYS = ("img_file_name", "caption", "refs")
KNOWN_REF_KEYS = ("sentence", "segmentation", "explanation", "bbox")
DOWNLOAD_HINT = "download SynthScars.zip from HF khr0516/SynthScars, unzip it into <folder> and pass --data-dir <folder>"


def split_root(root: Path, split: str) -> tuple[Path, Path]:
    """(the folder holding ``<split>/images``, the annotation file of ``split``)."""
    bases = [b for b in (root, root / "SynthScars", root / "SynthScars" / "SynthScars") if (b / split).is_dir()]
    for base in bases:
        candidates = [base / folder / d / f"{split}.json" for folder in (split, "train") for d in ANNOTATION_DIRS]
        found = first_existing(candidates)
        if found is not None:
            return base, found
    raise SplitNotFound(f"no {split}/annotations/{split}.json (nor the README's {split}/annoations/)", path=root, hint=DOWNLOAD_HINT)


def file_name(raw: Any, path: Path, record: str) -> str:
    """The image's file name: ``img_file_name`` itself, or its last component when it carries folders."""
    name = expect_str(raw, "'img_file_name'", path, record)
    base = PureWindowsPath(name).name if "\\" in name else PurePosixPath(name).name
    return check_name(base, "image file name", path, record)


@dataclass(frozen=True)
class PolygonMask:
    """``Sample.mask`` of a SynthScars image: the union of its polygons, rasterised when asked for."""

    record: str
    image: str
    polygons: tuple[tuple[float, ...], ...]

    def __call__(self):
        return self.decode()[0]

    def decode(self):
        import numpy as np

        from fdrbench.types import image_size

        try:
            from pycocotools import mask as coco_mask
        except ImportError as exc:
            raise FdrbenchError(f"rasterising SynthScars polygons needs pycocotools; {DATA_EXTRA_HINT}") from exc
        width, height = image_size(Path(self.image), self.record)
        out = np.zeros((height, width), dtype=bool)
        with warnings.catch_warnings():
            # pycocotools' array conversion warns under numpy 2; the values are unaffected
            warnings.simplefilter("ignore", DeprecationWarning)
            for polygon in self.polygons:
                rles = coco_mask.frPyObjects([list(polygon)], height, width)
                out |= coco_mask.decode(rles).reshape(height, width, -1).any(axis=-1)
        return out, {"rule": "polygons rasterised by pycocotools", "values": f"{len(self.polygons)} polygons"}


def polygons_of(ref: dict, path: Path, record: str) -> list[tuple[float, ...]]:
    segmentation = ref.get("segmentation")
    expect(isinstance(segmentation, list), "a ref's 'segmentation' must be a list of polygons", path, record)
    out = []
    for polygon in segmentation:
        ok = isinstance(polygon, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in polygon)
        expect(ok and len(polygon) % 2 == 0, "a polygon must be a flat list of x, y pixel coordinates", path, record)
        if len(polygon) >= 6:
            out.append(tuple(float(v) for v in polygon))
    return out


def entries(path: Path) -> Iterator[tuple[str, str, dict]]:
    """(record, annotation id, value) of every entry of an annotation file."""
    data = read_json(path)
    expect(isinstance(data, list), f"expected a JSON list of one-key objects, got {type(data).__name__}", path, None)
    for i, item in enumerate(data):
        expect(isinstance(item, dict) and len(item) == 1, "expected an object with one key (the annotation id)", path, f"#{i}")
        key, value = next(iter(item.items()))
        expect(isinstance(value, dict), f"entry {key!r} must hold an object", path, f"#{i}")
        yield f"#{i} (id {key})", str(key), value


def image_path(base: Path, split: str, name: str, path: Path, record: str) -> Path:
    return inside(base, base / split / "images" / name, path, record, shown=name)


def refs_of(value: dict, path: Path, record: str) -> list[dict]:
    refs = value.get("refs", [])
    expect(isinstance(refs, list) and all(isinstance(r, dict) for r in refs), "'refs' must be a list of objects", path, record)
    return refs


def extra_fields(value: dict, known: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k not in known}
