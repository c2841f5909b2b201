"""Pixel perturbations: codecs, noise, blur and grayscale on RGB images. Sizes never change here.

Each function takes the RGB image, the step's random generator and its drawn parameters, and
returns a new RGB image. Codec round trips go through PIL in memory with PIL's own defaults
(JPEG chroma subsampling 4:2:0), so they match what a source that saved with PIL produced.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image

#: PIL's ``subsampling`` codes; ``420`` is left to PIL's default, which is 4:2:0
SUBSAMPLING = {"444": 0, "422": 1}


def _decoded(buffer: io.BytesIO) -> Image.Image:
    buffer.seek(0)
    with Image.open(buffer) as handle:
        handle.load()
        return handle if handle.mode == "RGB" else handle.convert("RGB")


def jpeg(image: Image.Image, rng: np.random.Generator, params: dict) -> Image.Image:
    """Encode at quality ``q`` and decode again."""
    buffer = io.BytesIO()
    options = {"quality": params["q"]}
    if params["sub"] in SUBSAMPLING:
        options["subsampling"] = SUBSAMPLING[params["sub"]]
    image.save(buffer, "JPEG", **options)
    return _decoded(buffer)


def webp(image: Image.Image, rng: np.random.Generator, params: dict) -> Image.Image:
    """Lossy WebP at quality ``q`` (encoder effort ``method``) and back."""
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=params["q"], method=params["method"])
    return _decoded(buffer)


@lru_cache(maxsize=1)
def _normal_quantiles() -> np.ndarray:
    """The standard normal at the 65,536 mid-quantiles ``(i + 0.5) / 65536``."""
    from scipy.special import ndtri

    return ndtri((np.arange(65536, dtype=np.float64) + 0.5) / 65536.0)


def noise(image: Image.Image, rng: np.random.Generator, params: dict) -> Image.Image:
    """Add independent Gaussian noise of std ``sigma`` (0-255 scale) to every pixel and channel.

    Normal deviates come from 16-bit uniforms through the inverse normal CDF, a table lookup
    several times cheaper than drawing normals (the step's generator supplies the raw bits); the deviates are exact normal quantiles, cut at
    4.3 sigma. Since pixels are integers, rounding ``pixel + noise`` equals ``pixel +
    round(noise)``, so the noise is rounded to integers first and added in int16, then clipped
    to [0, 255]: the same result as adding real-valued noise and rounding.
    """
    sigma = float(params["sigma"])
    arr = np.asarray(image)
    if sigma == 0:
        return image.copy()
    table = np.rint(_normal_quantiles() * sigma).clip(-512, 512).astype(np.int16)
    # raw 64-bit draws cut into four 16-bit uniforms each: the cheapest stream of random bits
    words = rng.bit_generator.random_raw(-(-arr.size // 4)).astype("<u8", copy=False)
    uniforms = words.view("<u2")[: arr.size].reshape(arr.shape)
    out = arr.astype(np.int16)
    out += np.take(table, uniforms)
    np.clip(out, 0, 255, out=out)
    return Image.fromarray(out.astype(np.uint8), "RGB")


#: OpenCV's fixed kernels for small sizes when no sigma is given (``getGaussianKernel``), as
#: integer weights over a power of two: (weights, bits)
SMALL_KERNELS = {
    1: ((1,), 0),
    3: ((1, 2, 1), 2),
    5: ((1, 4, 6, 4, 1), 4),
    7: ((2, 7, 14, 18, 14, 7, 2), 6),
}


def gaussian_kernel(size: int, sigma: float | None) -> np.ndarray:
    """The 1-D Gaussian kernel OpenCV uses for a ``size`` x ``size`` blur.

    With no sigma, OpenCV takes sigma = 0.3 ((size - 1) / 2 - 1) + 0.8 and, for sizes up to 7,
    the binomial tables above; otherwise the sampled Gaussian, normalised to sum 1.
    """
    if sigma is None and size in SMALL_KERNELS:
        weights, bits = SMALL_KERNELS[size]
        return np.array(weights, dtype=np.float64) / 2**bits
    if sigma is None:
        sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    kernel = np.exp(-(x * x) / (2 * sigma * sigma))
    return kernel / kernel.sum()


def blur(image: Image.Image, rng: np.random.Generator, params: dict) -> Image.Image:
    """Gaussian blur: a ``k`` x ``k`` kernel (OpenCV's ``GaussianBlur(img, (k, k), sigma)``,
    mirrored border), or, with ``sigma`` alone, SciPy's ``gaussian_filter`` on each uint8 channel
    (reflected border, 4-sigma support), the call the CNNDetection family of benchmarks makes;
    like that call, SciPy truncates to uint8 after each axis, so values run up to 2 below the
    exact blur."""
    from scipy import ndimage

    arr = np.asarray(image)
    if params.get("k") is None:
        out = np.empty_like(arr)
        for channel in range(arr.shape[2]):
            ndimage.gaussian_filter(arr[:, :, channel], sigma=params["sigma"], output=out[:, :, channel])
        return Image.fromarray(out, "RGB")
    if params.get("sigma") is None and params["k"] in SMALL_KERNELS:
        # the binomial tables are exact in integers: sum, then round half up as OpenCV's fixed point does
        weights, bits = SMALL_KERNELS[params["k"]]
        work = arr.astype(np.uint16 if 2 * bits <= 8 else np.uint32)
        for axis in (0, 1):
            work = _correlate_small(work, weights, axis)
        if bits:
            work += 1 << (2 * bits - 1)
            work >>= 2 * bits
        return Image.fromarray(work.astype(np.uint8), "RGB")
    kernel = gaussian_kernel(params["k"], params.get("sigma"))
    work = arr.astype(np.float32)
    for axis in (0, 1):
        work = ndimage.correlate1d(work, kernel, axis=axis, mode="mirror")
    np.rint(work, out=work)
    return Image.fromarray(np.clip(work, 0, 255).astype(np.uint8), "RGB")


def gray(image: Image.Image, rng: np.random.Generator, params: dict) -> Image.Image:
    """Luma (ITU-R 601-2, PIL's ``convert("L")``) copied to three channels."""
    return image.convert("L").convert("RGB")


def _correlate_small(work: np.ndarray, weights: tuple[int, ...], axis: int) -> np.ndarray:
    """``ndimage.correlate1d(work, weights, axis, mode="mirror")`` for a short integer kernel, as a
    weighted sum of shifted views (several times faster at these sizes). NumPy's ``reflect`` padding
    is SciPy's ``mirror`` border; an axis shorter than the kernel's reach is left to SciPy."""
    reach = len(weights) // 2
    length = work.shape[axis]
    if length <= reach:
        from scipy import ndimage

        return ndimage.correlate1d(work, weights, axis=axis, mode="mirror")
    pad = [(0, 0)] * work.ndim
    pad[axis] = (reach, reach)
    padded = np.pad(work, pad, mode="reflect")
    out = np.zeros_like(work)
    for offset, weight in enumerate(weights):
        view = padded[_along(axis, offset, length, work.ndim)]
        out += view if weight == 1 else view * work.dtype.type(weight)
    return out


def _along(axis: int, start: int, length: int, ndim: int) -> tuple[slice, ...]:
    index = [slice(None)] * ndim
    index[axis] = slice(start, start + length)
    return tuple(index)
