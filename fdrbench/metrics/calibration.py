"""Calibration of ``p_fake``: expected calibration error and Brier score.

ECE here is the binary, positive-class reliability gap: samples are binned by ``p_fake`` and
each bin's mean ``p_fake`` is compared with its share of fake images, weighted by bin size.
Binning is ``uniform`` (equal-width, default 15 bins as torchmetrics) or ``quantile``
(equal-mass, as HELM's ECE-10). The scores file states which was used.
"""

from __future__ import annotations

import numpy as np

from fdrbench.metrics.frame import Frame, Metric

DEFAULT_BINS = 15
DEFAULT_BINNING = "uniform"


def bin_index(p: np.ndarray, n_bins: int = DEFAULT_BINS, binning: str = DEFAULT_BINNING) -> np.ndarray:
    """Bin of every probability along the last axis."""
    p = np.asarray(p, dtype=float)
    if binning == "uniform":
        return np.clip(np.floor(p * n_bins).astype(np.int64), 0, n_bins - 1)
    if binning == "quantile":
        n = p.shape[-1]
        order = np.argsort(p, axis=-1, kind="stable")
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(n), axis=-1)
        return (ranks * n_bins) // max(n, 1)
    raise ValueError(f"binning must be 'uniform' or 'quantile', got {binning!r}")


def _bin_sums(values: np.ndarray, bins: np.ndarray, n_bins: int) -> np.ndarray:
    """Per-row, per-bin sums of ``values`` as a ``(rows, n_bins)`` array."""
    rows = int(np.prod(bins.shape[:-1], dtype=np.int64))
    flat_bins = bins.reshape(rows, -1)
    offsets = (np.arange(rows) * n_bins)[:, None]
    sums = np.bincount(
        (flat_bins + offsets).ravel(), weights=np.broadcast_to(values, bins.shape).reshape(rows, -1).ravel(), minlength=rows * n_bins
    )
    return sums.reshape(rows, n_bins)


def ece(y_true: np.ndarray, p_fake: np.ndarray, n_bins: int = DEFAULT_BINS, binning: str = DEFAULT_BINNING) -> np.ndarray:
    """Expected calibration error of ``p_fake`` against the fake share, per row of the last axis."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(p_fake, dtype=float)
    n = p.shape[-1]
    if n == 0:
        return np.full(p.shape[:-1], np.nan)
    bins = bin_index(p, n_bins, binning)
    gap = np.abs(_bin_sums(p, bins, n_bins) - _bin_sums(y, bins, n_bins)).sum(axis=-1) / n
    return gap.reshape(p.shape[:-1])


def brier(y_true: np.ndarray, p_fake: np.ndarray) -> np.ndarray:
    """Mean squared difference between ``p_fake`` and the truth."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(p_fake, dtype=float)
    if p.shape[-1] == 0:
        return np.full(p.shape[:-1], np.nan)
    return np.mean((p - y) ** 2, axis=-1)


def reliability(y_true: np.ndarray, p_fake: np.ndarray, n_bins: int = DEFAULT_BINS, binning: str = DEFAULT_BINNING) -> list[dict]:
    """Per-bin mean ``p_fake`` (confidence), fake share (accuracy) and count: a reliability diagram."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(p_fake, dtype=float)
    bins = bin_index(p, n_bins, binning)
    out = []
    for b in range(n_bins):
        sel = bins == b
        count = int(sel.sum())
        out.append(
            {
                "bin": b,
                "confidence": float(p[sel].mean()) if count else None,
                "accuracy": float(y[sel].mean()) if count else None,
                "count": count,
            }
        )
    return out


def _ece_metric(frame: Frame, idx: np.ndarray) -> np.ndarray:
    return ece(
        frame.y[idx],
        frame.p[idx],
        int(frame.options.get("ece_bins", DEFAULT_BINS)),
        str(frame.options.get("ece_binning", DEFAULT_BINNING)),
    )


METRICS = {
    m.name: m
    for m in (
        Metric(
            "ece",
            _ece_metric,
            "expected calibration error of p_fake (binning in the protocol options)",
            needs_p=True,
            higher_is_better=False,
        ),
        Metric(
            "brier", lambda frame, idx: brier(frame.y[idx], frame.p[idx]), "Brier score of p_fake", needs_p=True, higher_is_better=False
        ),
    )
}
