"""From SAM's low-resolution mask logits to a run-length encoded mask at the image's own size.

The logits are upsampled to the padded SAM square, cropped to the resized image, upsampled to
the original size (bilinear, as SAM's ``postprocess_masks``), and binarised at logit > 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fdrbench.types import encode_mask

if TYPE_CHECKING:  # pragma: no cover
    import torch


def upscale_logits(low_res: torch.Tensor, resized: tuple[int, int], original: tuple[int, int], square: int) -> torch.Tensor:
    """(n, h, w) low-resolution logits -> (n, H, W) logits at the original image size."""
    import torch.nn.functional as F

    x = low_res.float()[:, None]
    x = F.interpolate(x, (square, square), mode="bilinear", align_corners=False)
    x = x[..., : resized[0], : resized[1]]
    x = F.interpolate(x, original, mode="bilinear", align_corners=False)
    return x[:, 0]


def binarize(logits: torch.Tensor | np.ndarray) -> np.ndarray:
    """SIDA's decision rule for a pixel: tampered where the logit is positive."""
    arr = logits.detach().float().cpu().numpy() if hasattr(logits, "detach") else np.asarray(logits)
    return arr > 0


def encode_logits(logits: torch.Tensor) -> dict:
    """One (H, W) logit map -> fdrbench's run-length encoding of its binary mask."""
    return encode_mask(binarize(logits))
