"""Image preprocessing as released (``image_aspect_ratio=pad``): pad to a square filled with the CLIP mean
colour, then CLIP's resize (shortest edge, bicubic), centre crop and normalisation. Both towers get the
same tensor, so DINOv2 sees CLIP normalisation at 336 px."""

from __future__ import annotations

from PIL import Image

from fdrbench.adapters.fakereasoning.config import FakeReasoningConfig


def expand_to_square(image: Image.Image, fill: tuple[int, int, int]) -> Image.Image:
    """Centre the image on a square canvas of its longer side, filled with ``fill``."""
    width, height = image.size
    if width == height:
        return image
    side = max(width, height)
    canvas = Image.new(image.mode, (side, side), fill)
    canvas.paste(image, ((side - width) // 2, (side - height) // 2))
    return canvas


def mean_colour(config: FakeReasoningConfig) -> tuple[int, int, int]:
    """The padding colour: the CLIP mean in 0-255, truncated as the released code does."""
    r, g, b = (int(v * 255) for v in config.image_mean)
    return (r, g, b)


class ImageProcessor:
    """PIL images -> a [B, 3, S, S] float tensor for both towers."""

    def __init__(self, config: FakeReasoningConfig):
        self.config = config
        size = config.image_size
        settings = {
            "size": {"shortest_edge": size},
            "crop_size": {"height": size, "width": size},
            "image_mean": list(config.image_mean),
            "image_std": list(config.image_std),
            "resample": Image.Resampling.BICUBIC,
            "do_center_crop": True,
            "do_convert_rgb": True,
        }
        try:  # transformers 5 names its PIL-based processor explicitly; 4.x's CLIPImageProcessor is PIL-based
            from transformers import CLIPImageProcessorPil as processor_class
        except ImportError:
            from transformers import CLIPImageProcessor as processor_class
        self.clip_processor = processor_class(**settings)

    def __call__(self, images: list[Image.Image]):
        if self.config.image_aspect_ratio == "pad":
            fill = mean_colour(self.config)
            images = [expand_to_square(img.convert("RGB"), fill) for img in images]
        else:
            images = [img.convert("RGB") for img in images]
        return self.clip_processor(images=images, return_tensors="pt")["pixel_values"]
