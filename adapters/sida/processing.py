"""The two image inputs SIDA reads: CLIP's 224 px crop and SAM's padded 1024 px square.

SAM branch as the authors prepare it: resize so the longest side is 1024 (bilinear, rounded
to the nearest pixel), normalise with SAM's pixel mean/std, zero-pad bottom and right.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

SAM_MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
SAM_STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)


def longest_side_shape(height: int, width: int, long_side: int) -> tuple[int, int]:
    """``ResizeLongestSide``'s target (h, w): scale the longest side to ``long_side``, round half up."""
    scale = long_side * 1.0 / max(height, width)
    return int(height * scale + 0.5), int(width * scale + 0.5)


@dataclass
class SamInput:
    pixels: np.ndarray  # (3, S, S) float32, normalised and zero-padded
    resized: tuple[int, int]  # (h, w) of the image inside the padded square
    original: tuple[int, int]  # (h, w) of the image as given


def sam_input(image: Image.Image, size: int) -> SamInput:
    from PIL import Image as PILImage

    width, height = image.size
    new_h, new_w = longest_side_shape(height, width, size)
    resized = np.asarray(image.convert("RGB").resize((new_w, new_h), PILImage.BILINEAR), dtype=np.float32)
    normalised = (resized - SAM_MEAN) / SAM_STD
    padded = np.zeros((size, size, 3), dtype=np.float32)
    padded[:new_h, :new_w] = normalised
    return SamInput(np.ascontiguousarray(padded.transpose(2, 0, 1)), (new_h, new_w), (height, width))


def upright(image: Image.Image) -> Image.Image:
    """The image turned by its EXIF orientation tag, as OpenCV's ``imread`` returns it by default."""
    from PIL import ImageOps

    return ImageOps.exif_transpose(image)


def clip_processor(source: str | Path | None):
    """CLIP's image processor (PIL backend, as the authors' transformers version had), from the
    tower's folder when it has a ``preprocessor_config.json``, else CLIP ViT-L/14's defaults."""
    try:
        from transformers import CLIPImageProcessorPil as Processor
    except ImportError:  # older transformers: the PIL processor is the only one
        from transformers import CLIPImageProcessor as Processor

    if source is not None and (Path(source) / "preprocessor_config.json").is_file():
        return Processor.from_pretrained(str(source))
    return Processor()


def clip_pixels(processor, images: list[Image.Image]) -> np.ndarray:
    """(B, 3, h, w) float32: shortest side resized, centre-cropped, CLIP-normalised."""
    batch = processor(images=[np.asarray(img.convert("RGB")) for img in images], return_tensors="np")
    return np.asarray(batch["pixel_values"], dtype=np.float32)
