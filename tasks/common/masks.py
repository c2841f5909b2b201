"""Ground-truth masks read the way each paper binarises them.

- ``eq255`` (SIDA): the evaluation divides the grayscale mask by 255 and casts it to int, so
  only pixels equal to 255 are foreground (a ``> 127`` threshold differs on anti-aliased edges).
  With ``longest_side`` the gray mask is first resized, bilinearly, to the grid SIDA compares on
  (the image's longest side scaled to 1024, ``ResizeLongestSide``'s rounding) and only then
  compared with 255, in that order, as ``utils/SID_Set.py`` does.
- ``values`` (So-Fake): the rule is decided from the mask's own values, because the release does
  not say which gray level marks the tampered region (its figures show gray near 100): a two-valued
  mask ``{a, b}`` has foreground ``b``; a mask with more values is cut halfway between its lowest
  and highest; a mask of zeros only is empty.
- ``gt127``: fdrbench's default for other datasets.

Without ``longest_side``, a mask whose size differs from its image is resized to the image
(bilinear) before the rule, so predicted and true masks share the image's pixel grid. Every
decode reports the rule it applied and the gray values it saw; the truth stored with each
prediction keeps that record, and ``data check`` prints the value sets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fdrbench.errors import DataError
from fdrbench.metrics.localization import target_shape
from fdrbench.tasks.common.parquet import ParquetCell
from fdrbench.types import decode_image, describe_values, image_size

Rule = Literal["eq255", "gt127", "values"]
RULES = {"eq255": "== 255", "gt127": "> 127"}


def binarise(gray, rule: Rule):
    """Foreground of a uint8 grayscale array under ``rule``."""
    return foreground(gray, rule)[0]


def decide(values, rule: Rule) -> tuple[Callable, str]:
    """(array -> foreground, the rule as applied) for a mask whose gray values are ``values``."""
    if rule == "eq255":
        return (lambda arr: arr == 255), "== 255"
    if rule == "gt127":
        return (lambda arr: arr > 127), "> 127"
    present = sorted(int(v) for v in values)
    if not present or present[-1] == 0:
        return (lambda arr: arr > 255), "empty (all zero)"
    if len(present) <= 2:
        top = present[-1]
        return (lambda arr: arr == top), f"== {top}"
    cut = (present[0] + present[-1]) / 2
    return (lambda arr: arr > cut), f"> {cut:g}"


def foreground(gray, rule: Rule):
    """(foreground, the rule as applied) of a uint8 grayscale array."""
    import numpy as np

    arr = np.asarray(gray)
    keep, applied = decide(np.unique(arr), rule)
    return keep(arr), applied


@dataclass(frozen=True)
class BinaryMask:
    """``Sample.mask`` loader: a mask file or parquet cell, binarised by ``rule``.

    ``size`` is the image's (width, height) when known up front (parquet width/height columns);
    otherwise it is read from ``image_path``'s header when the mask is loaded. ``longest_side``
    puts the mask on that resolution's grid (SIDA: 1024) instead of the image's.
    """

    record: str
    rule: Rule = "gt127"
    path: str | None = None
    cell: ParquetCell | None = None
    size: tuple[int, int] | None = None
    image_path: str | None = None
    longest_side: int | None = None

    def __call__(self):
        return self.decode()[0]

    def gray(self):
        if self.cell is not None:
            return self.cell.open().convert("L")
        if self.path is None or not Path(self.path).is_file():
            raise DataError("mask file not found", path=self.path, record=self.record)
        return decode_image(self.path, "mask image", self.path, self.record).convert("L")

    def decode(self):
        """(boolean mask, what was done): the record kept beside the ground truth."""
        import numpy as np
        from PIL import Image

        gray = self.gray()
        present = np.unique(np.asarray(gray))
        keep, applied = decide(present, self.rule)  # from the values as stored, before any resize
        size = self.size
        if size is None and self.image_path is not None:
            size = image_size(Path(self.image_path), self.record)
        size = tuple(size) if size is not None else tuple(gray.size)
        resized = ""
        if self.longest_side is not None:
            height, width = target_shape((size[1], size[0]), self.longest_side)
            gray = gray.resize((width, height), Image.BILINEAR)
            resized = f"bilinear to longest side {self.longest_side}, then "
        elif tuple(gray.size) != size:
            gray = gray.resize(size, Image.BILINEAR)
            resized = "bilinear to the image size, then "
        return keep(np.asarray(gray)), {"rule": resized + applied, "values": describe_values(present)}
