"""Geometric perturbations as exact maps of the pixel grid, applied alike to image, mask and regions.

Coordinates are continuous pixel coordinates: pixel (row i, column j) covers [j, j+1) x [i, i+1),
which is the convention PIL's resize and affine transform sample with (output pixel centres at
+0.5). Every geometric step is planned first from the input size and the step's random draws,
as a short list of primitives (resize, crop, affine); the same primitives then warp the image
(with the step's filter), the mask (nearest neighbour) and region coordinates, so a ground-truth
region lands exactly where the image content it marks went.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}
ROTATE_RESAMPLE = ("nearest", "bilinear", "bicubic")  # what PIL's affine transform supports

Size = tuple[int, int]  # (width, height), as PIL gives it


@dataclass(frozen=True)
class Resize:
    size_in: Size
    size_out: Size
    interp: str

    def warp(self, image: Image.Image, is_mask: bool = False) -> Image.Image:
        return image.resize(self.size_out, Image.Resampling.NEAREST if is_mask else RESAMPLE[self.interp])

    def points(self, xy: np.ndarray) -> np.ndarray:
        scale = np.array([self.size_out[0] / self.size_in[0], self.size_out[1] / self.size_in[1]])
        return xy * scale


@dataclass(frozen=True)
class Crop:
    box: tuple[int, int, int, int]  # left, top, right, bottom

    @property
    def size_out(self) -> Size:
        left, top, right, bottom = self.box
        return right - left, bottom - top

    def warp(self, image: Image.Image, is_mask: bool = False) -> Image.Image:
        return image.crop(self.box)

    def points(self, xy: np.ndarray) -> np.ndarray:
        return xy - np.array(self.box[:2], dtype=float)


@dataclass(frozen=True)
class Affine:
    size_out: Size
    matrix: tuple[float, float, float, float, float, float]  # output -> input, PIL's convention
    interp: str

    def warp(self, image: Image.Image, is_mask: bool = False) -> Image.Image:
        resample = Image.Resampling.NEAREST if is_mask else RESAMPLE[self.interp]
        return image.transform(self.size_out, Image.Transform.AFFINE, self.matrix, resample, fillcolor=0)

    def points(self, xy: np.ndarray) -> np.ndarray:
        a, b, c, d, e, f = self.matrix
        forward = np.linalg.inv(np.array([[a, b], [d, e]]))
        return (xy - np.array([c, f])) @ forward.T


Geometry = Resize | Crop | Affine


@dataclass(frozen=True)
class Plan:
    """The geometry a perturbation applies to one sample: input size, output size, primitives."""

    size_in: Size
    size_out: Size
    steps: tuple[Geometry, ...] = ()

    @property
    def is_identity(self) -> bool:
        return not self.steps

    def warp_mask(self, mask: np.ndarray) -> np.ndarray:
        """The boolean mask on the perturbed image's grid.

        A mask stored at another size than its image is first brought to the image's size
        (nearest neighbour), since regions and geometry are defined on the image's grid.
        """
        arr = np.asarray(mask, dtype=bool)
        if self.is_identity and arr.shape == (self.size_in[1], self.size_in[0]):
            return arr
        image = Image.fromarray(arr.astype(np.uint8) * 255)
        if image.size != self.size_in:
            image = image.resize(self.size_in, Image.Resampling.NEAREST)
        for step in self.steps:
            image = step.warp(image, is_mask=True)
        return np.asarray(image) > 127

    def map_points(self, xy: Any) -> np.ndarray:
        """``(n, 2)`` points (x, y) in input pixel coordinates -> the same points after the geometry."""
        out = np.asarray(xy, dtype=float).reshape(-1, 2)
        for step in self.steps:
            out = step.points(out)
        return out


# --------------------------------------------------------------------------- planners


def plan_resize(size: Size, rng: np.random.Generator, params: dict) -> tuple[Geometry, ...]:
    """Scale by ``f`` (each side floored, as ``int(w * f)``) or so the longest side is ``side``
    (the other rounded half up); ``upscale=no`` leaves images already within ``side`` alone."""
    w, h = size
    if params.get("f") is not None:
        out = (max(1, math.floor(w * params["f"] + 1e-9)), max(1, math.floor(h * params["f"] + 1e-9)))
    else:
        scale = params["side"] / max(w, h)
        if scale > 1 and params.get("upscale") == "no":
            return ()
        out = (max(1, int(w * scale + 0.5)), max(1, int(h * scale + 0.5)))
    return () if out == size else (Resize(size, out, params["interp"]),)


def _rotation(size_in: Size, size_out: Size, degrees: float, interp: str) -> Affine:
    """Counter-clockwise rotation by ``degrees`` about the image centre onto a canvas of
    ``size_out`` with the same centre; the arithmetic follows PIL's ``rotate`` step for step,
    so ``same`` and ``expand`` reproduce it bit for bit."""
    theta = -math.radians(degrees % 360.0)
    a, b = round(math.cos(theta), 15), round(math.sin(theta), 15)
    d, e = round(-math.sin(theta), 15), round(math.cos(theta), 15)
    cx, cy = size_in[0] / 2.0, size_in[1] / 2.0
    c = a * -cx + b * -cy + 0.0 + cx
    f = d * -cx + e * -cy + 0.0 + cy
    tx, ty = -(size_out[0] - size_in[0]) / 2.0, -(size_out[1] - size_in[1]) / 2.0
    return Affine(size_out, (a, b, a * tx + b * ty + c, d, e, d * tx + e * ty + f), interp)


def expanded_size(size: Size, degrees: float) -> Size:
    """The canvas that holds the whole rotated image, computed as PIL's ``rotate(expand=True)``."""
    w, h = size
    theta = math.radians(degrees % 360.0)
    cos, sin = round(math.cos(theta), 15), round(math.sin(theta), 15)
    xs = [w / 2 + (x - w / 2) * cos + (y - h / 2) * sin for x, y in ((0, 0), (w, 0), (w, h), (0, h))]
    ys = [h / 2 - (x - w / 2) * sin + (y - h / 2) * cos for x, y in ((0, 0), (w, 0), (w, h), (0, h))]
    return math.ceil(max(xs)) - math.floor(min(xs)), math.ceil(max(ys)) - math.floor(min(ys))


def inscribed_size(size: Size, degrees: float) -> Size:
    """The largest axis-aligned rectangle inside the rotated image (so no fill shows), floored."""
    w, h = size
    theta = math.radians(degrees)
    sin, cos = abs(math.sin(theta)), abs(math.cos(theta))
    long_side, short_side = max(w, h), min(w, h)
    if short_side <= 2 * sin * cos * long_side or abs(sin - cos) < 1e-10:
        # two corners of the crop touch the long sides of the rotated image
        half = short_side / 2
        cw, ch = (half / sin, half / cos) if w >= h else (half / cos, half / sin)
    else:
        double = cos * cos - sin * sin
        cw, ch = (w * cos - h * sin) / double, (h * cos - w * sin) / double
    return max(1, math.floor(cw + 1e-9)), max(1, math.floor(ch + 1e-9))


def plan_rotate(size: Size, rng: np.random.Generator, params: dict) -> tuple[Geometry, ...]:
    """``fit=same`` keeps the canvas (corners filled black), ``expand`` grows it to hold the whole
    image, ``crop`` keeps the largest rectangle with no fill."""
    degrees, fit = params["deg"], params["fit"]
    if degrees % 360 == 0:
        return ()
    out = {"same": lambda: size, "expand": lambda: expanded_size(size, degrees), "crop": lambda: inscribed_size(size, degrees)}[fit]()
    return (_rotation(size, out, degrees, params["interp"]),)


def plan_ccrop(size: Size, rng: np.random.Generator, params: dict) -> tuple[Geometry, ...]:
    """Centre crop to ``size`` (each side to at most that) or to fraction ``f`` of each side;
    the offset is floored, as ``(w - cw) // 2``."""
    w, h = size
    if params.get("size") is not None:
        cw, ch = min(w, params["size"]), min(h, params["size"])
    else:
        cw, ch = max(1, math.floor(w * params["f"] + 1e-9)), max(1, math.floor(h * params["f"] + 1e-9))
    if (cw, ch) == size:
        return ()
    left, top = (w - cw) // 2, (h - ch) // 2
    return (Crop((left, top, left + cw, top + ch)),)


def random_crop_box(size: Size, rng: np.random.Generator, scale: tuple, ratio: tuple) -> tuple[int, int, int, int]:
    """A crop of area fraction in ``scale`` and aspect (w/h) in ``ratio``, log-uniform: ten tries,
    then the central crop clamped to ``ratio`` (the Inception-style random resized crop)."""
    w, h = size
    area = w * h
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(*log_ratio))
        cw, ch = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < cw <= w and 0 < ch <= h:
            top = int(rng.integers(0, h - ch + 1))
            left = int(rng.integers(0, w - cw + 1))
            return left, top, left + cw, top + ch
    in_ratio = w / h
    if in_ratio < min(ratio):
        cw, ch = w, round(w / min(ratio))
    elif in_ratio > max(ratio):
        cw, ch = round(h * max(ratio)), h
    else:
        cw, ch = w, h
    left, top = (w - cw) // 2, (h - ch) // 2
    return left, top, left + cw, top + ch


def plan_rrcrop(size: Size, rng: np.random.Generator, params: dict) -> tuple[Geometry, ...]:
    """Random resized crop to a ``size`` x ``size`` square."""
    box = random_crop_box(size, rng, params["scale"], params["ratio"])
    crop = Crop(box)
    out = (params["size"], params["size"])
    steps: list[Geometry] = [] if crop.size_out == size else [crop]
    if crop.size_out != out:
        steps.append(Resize(crop.size_out, out, params["interp"]))
    return tuple(steps)
