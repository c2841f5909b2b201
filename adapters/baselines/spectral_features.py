"""Frequency-domain and noise-residual features of an image, grouped by the evidence they carry.

* ``spectrum``  - azimuthally averaged log power spectrum (shape of the fall-off to high
  frequencies; re-synthesised or smoothed images lose energy at the top).
* ``peaks``     - how far the strongest high-frequency components rise above their ring's
  median (periodic upsampling traces show as isolated peaks).
* ``residual``  - statistics of the high-pass (Laplacian) residual: camera sensor noise.
* ``regions``   - how much the residual level varies between image blocks (a spliced region
  brings its own noise level).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

GROUP_EVIDENCE = {
    "spectrum": (
        "its power spectrum falls off unlike a camera photograph's (smoothed or re-synthesised texture)",
        "its power spectrum falls off like a camera photograph's",
    ),
    "peaks": ("its spectrum has periodic peaks, a trace of learned upsampling", "its spectrum has no periodic peaks"),
    "residual": ("its high-pass residual lacks natural camera sensor noise", "its high-pass residual shows natural camera sensor noise"),
    "regions": ("its noise level differs between regions, a sign of a spliced region", "its noise level is consistent across the image"),
}


@dataclass(frozen=True)
class FeatureConfig:
    size: int = 128
    radial_bins: int = 16
    block: int = 16

    def to_dict(self) -> dict:
        return asdict(self)


def to_gray(image) -> np.ndarray:
    """Luma in [0, 1] of a PIL image or HxWx3 array, centre-cropped or padded to a square."""
    arr = np.asarray(image, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr[..., :3] @ np.array([0.299, 0.587, 0.114])
    if arr.max() > 1.5:
        arr = arr / 255.0
    return arr


def center_square(gray: np.ndarray, size: int) -> np.ndarray:
    """Crop the centre ``size`` x ``size`` (reflect-padding smaller images); never resample."""
    h, w = gray.shape
    if h < size or w < size:
        ph, pw = max(0, size - h), max(0, size - w)
        gray = np.pad(gray, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)), mode="reflect")
        h, w = gray.shape
    top, left = (h - size) // 2, (w - size) // 2
    return gray[top : top + size, left : left + size]


def _radial_index(size: int, bins: int) -> np.ndarray:
    freq = np.fft.fftshift(np.fft.fftfreq(size))
    fy, fx = np.meshgrid(freq, freq, indexing="ij")
    radius = np.sqrt(fx**2 + fy**2) / 0.5
    idx = np.floor(radius * bins).astype(int)
    idx[radius > 1.0] = -1
    return idx


def feature_names(config: FeatureConfig) -> list[str]:
    return (
        [f"spectrum_{i:02d}" for i in range(config.radial_bins - 1)]
        + ["peaks_mid", "peaks_high", "peaks_nyquist"]
        + ["residual_log_std", "residual_kurtosis", "residual_log_ratio"]
        + ["regions_cv", "regions_log_range"]
    )


def feature_groups(config: FeatureConfig) -> list[str]:
    return [name.split("_", 1)[0] for name in feature_names(config)]


def extract(image, config: FeatureConfig) -> np.ndarray:
    """The feature vector of one image (length ``len(feature_names(config))``)."""
    gray = center_square(to_gray(image), config.size)
    n = config.size
    window = np.outer(np.hanning(n), np.hanning(n))
    spectrum = np.fft.fftshift(np.fft.fft2((gray - gray.mean()) * window))
    log_power = np.log(np.abs(spectrum) ** 2 + 1e-10)
    idx = _radial_index(n, config.radial_bins)
    radial = np.array([log_power[idx == b].mean() for b in range(config.radial_bins)])
    shape = radial[1:] - radial[0]

    def peak(lo: float, hi: float) -> float:
        ring = log_power[(idx >= int(lo * config.radial_bins)) & (idx < int(hi * config.radial_bins))]
        return float(np.max(ring) - np.median(ring))

    centre = n // 2
    nyquist = float(
        np.mean([log_power[0, centre], log_power[centre, 0], log_power[0, 0]]) - np.median(log_power[idx >= config.radial_bins // 2])
    )
    peaks = [peak(0.25, 0.6), peak(0.6, 1.0), nyquist]

    lap = -4.0 * gray[1:-1, 1:-1] + gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:]
    std = lap.std() + 1e-8
    kurt = float(np.mean((lap - lap.mean()) ** 4) / std**4)
    coarse = gray[::2, ::2]
    lap2 = -4.0 * coarse[1:-1, 1:-1] + coarse[:-2, 1:-1] + coarse[2:, 1:-1] + coarse[1:-1, :-2] + coarse[1:-1, 2:]
    residual = [np.log(std), np.log1p(kurt), np.log(std) - np.log(lap2.std() + 1e-8)]

    b = config.block
    hh, ww = (lap.shape[0] // b) * b, (lap.shape[1] // b) * b
    blocks = lap[:hh, :ww].reshape(hh // b, b, ww // b, b).std(axis=(1, 3)).ravel() + 1e-8
    regions = [blocks.std() / blocks.mean(), np.log(np.quantile(blocks, 0.9) / np.quantile(blocks, 0.1))]
    return np.asarray([*shape, *peaks, *residual, *regions], dtype=np.float64)
