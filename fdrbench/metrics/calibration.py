"""Calibration of ``p_fake``: calibration errors, Brier score, log loss, reliability diagrams.

ECE here is the binary, positive-class reliability gap: samples are binned by ``p_fake`` and
each bin's mean ``p_fake`` is compared with its share of fake images, weighted by bin size.
``ece`` bins ``uniform``ly (equal-width, 15 bins by default, as torchmetrics); ``ece_em`` uses
equal-mass (``quantile``) bins, 10 by default, as HELM's ECE-10; ``mce`` is the largest gap of
any non-empty ``ece`` bin. The scores file states the binning and bin count of each, and keeps
the per-bin confidence, fake share and count for plotting reliability diagrams.

``nll`` is reported as ``1 - exp(-mean log loss)``, one minus the geometric mean of the
probability given to the true label, so that it stays in [0, 1] like every other value (lower
is better; the mean log loss in nats is in the details, and ``-ln(1 - v)`` converts any value or
interval bound back).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from fdrbench.metrics.frame import Frame, Metric, family
from fdrbench.metrics.options import FamilyOptions

DEFAULT_BINS = 15
DEFAULT_BINNING = "uniform"
DEFAULT_EM_BINS = 10
NLL_EPS = 1e-15


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


def mce(y_true: np.ndarray, p_fake: np.ndarray, n_bins: int = DEFAULT_BINS, binning: str = DEFAULT_BINNING) -> np.ndarray:
    """Maximum calibration error: the largest |mean p_fake - fake share| of any non-empty bin."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(p_fake, dtype=float)
    if p.shape[-1] == 0:
        return np.full(p.shape[:-1], np.nan)
    bins = bin_index(p, n_bins, binning)
    counts = _bin_sums(np.ones_like(p), bins, n_bins)
    gaps = np.abs(_bin_sums(p, bins, n_bins) - _bin_sums(y, bins, n_bins)) / np.maximum(counts, 1)
    return np.max(np.where(counts > 0, gaps, 0.0), axis=-1).reshape(p.shape[:-1])


def log_loss(y_true: np.ndarray, p_fake: np.ndarray, eps: float = NLL_EPS) -> np.ndarray:
    """Mean negative log-likelihood (nats) of the truth under ``p_fake``, clipped to [eps, 1 - eps]."""
    y = np.asarray(y_true, dtype=float)
    p = np.clip(np.asarray(p_fake, dtype=float), eps, 1.0 - eps)
    if p.shape[-1] == 0:
        return np.full(p.shape[:-1], np.nan)
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p), axis=-1)


def nll(y_true: np.ndarray, p_fake: np.ndarray, eps: float = NLL_EPS) -> np.ndarray:
    """Log loss mapped into [0, 1]: ``1 - exp(-log_loss)`` (0 for a perfect, certain detector)."""
    return -np.expm1(-log_loss(y_true, p_fake, eps))


@dataclass(frozen=True)
class CalibrationOptions(FamilyOptions):
    """``ece_bins`` / ``ece_binning`` for ``ece`` and ``mce``; ``ece_em_bins`` for ``ece_em``."""

    ece_bins: int = DEFAULT_BINS
    ece_binning: Literal["uniform", "quantile"] = DEFAULT_BINNING
    ece_em_bins: int = DEFAULT_EM_BINS


def _binning(frame: Frame, metric: str) -> tuple[int, str]:
    """(bin count, binning) of ``ece``/``mce`` or ``ece_em`` from the protocol options."""
    opts = frame.family_options(CalibrationOptions)
    if metric == "ece_em":
        return int(opts.ece_em_bins), "quantile"
    return int(opts.ece_bins), str(opts.ece_binning)


def _binned(fn, metric: str):
    def compute(frame: Frame, idx: np.ndarray) -> np.ndarray:
        n_bins, binning = _binning(frame, metric)
        return fn(frame.y[idx], frame.p[idx], n_bins, binning)

    return compute


def _reliability_details(metric: str):
    def details(frame: Frame, rows: np.ndarray) -> dict:
        n_bins, binning = _binning(frame, metric)
        out = {"binning": "equal-width" if binning == "uniform" else "equal-mass", "n_bins": n_bins}
        if metric != "mce":  # mce shares ece's bins; they are stored once, under ece
            out["reliability"] = reliability(frame.y[rows], frame.p[rows], n_bins, binning)
        return out

    return details


def _nll_details(frame: Frame, rows: np.ndarray) -> dict:
    return {"log_loss_nats": float(log_loss(frame.y[rows], frame.p[rows])), "eps": NLL_EPS, "value": "1 - exp(-log_loss_nats)"}


def _lower_is_better(name: str, fn, description: str, details, **facts) -> Metric:
    return Metric(name, fn, description, needs_p=True, higher_is_better=False, details=details, **facts)


METRICS = family(
    "calibration",
    (
        *(
            _lower_is_better(name, _binned(fn, name), description, _reliability_details(name))
            for name, fn, description in (
                ("ece", ece, "expected calibration error of p_fake, equal-width bins (count in the details)"),
                ("ece_em", ece, "expected calibration error of p_fake, equal-mass bins (count in the details)"),
                ("mce", mce, "largest calibration gap of any ece bin"),
            )
        ),
        _lower_is_better(
            "nll",
            lambda frame, idx: nll(frame.y[idx], frame.p[idx]),
            "log loss of p_fake as 1 - exp(-nats), in [0, 1]",
            _nll_details,
            bounded=False,
            display="raw",
            digits=3,
        ),
        _lower_is_better("brier", lambda frame, idx: brier(frame.y[idx], frame.p[idx]), "Brier score of p_fake", None),
    ),
    CalibrationOptions,
)
