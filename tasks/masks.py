"""Ground-truth masks read the way each paper binarises them.

SIDA's evaluation divides the grayscale mask by 255 and casts it to int, so only pixels equal to
255 are foreground (a ``> 127`` threshold differs on anti-aliased edges); fdrbench's default rule
for other datasets is ``> 127``. A mask whose size differs from its image is resized to the image
(bilinear, as SIDA resizes its masks) before the rule is applied, so predicted and true masks
always share the image's pixel grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fdrbench.errors import DataError
from fdrbench.tasks.parquet import ParquetCell
from fdrbench.types import decode_image, image_size

Rule = Literal["eq255", "gt127"]


def binarise(gray, rule: Rule):
    """Foreground of a uint8 grayscale array under ``rule``."""
    import numpy as np

    arr = np.asarray(gray)
    return arr == 255 if rule == "eq255" else arr > 127


@dataclass(frozen=True)
class BinaryMask:
    """``Sample.mask`` loader: a mask file or parquet cell, binarised by ``rule`` at the image's size.

    ``size`` is the image's (width, height) when known up front (parquet width/height columns);
    otherwise it is read from ``image_path``'s header when the mask is loaded.
    """

    record: str
    rule: Rule = "gt127"
    path: str | None = None
    cell: ParquetCell | None = None
    size: tuple[int, int] | None = None
    image_path: str | None = None

    def __call__(self):
        from PIL import Image

        if self.cell is not None:
            gray = self.cell.open().convert("L")
        else:
            if self.path is None or not Path(self.path).is_file():
                raise DataError("mask file not found", path=self.path, record=self.record)
            gray = decode_image(self.path, "mask image", self.path, self.record).convert("L")
        target = self.size
        if target is None and self.image_path is not None:
            target = image_size(Path(self.image_path), self.record)
        if target is not None and tuple(gray.size) != tuple(target):
            gray = gray.resize(tuple(target), Image.BILINEAR)
        return binarise(gray, self.rule)
