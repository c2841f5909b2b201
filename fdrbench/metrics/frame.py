"""The per-sample arrays every metric reads, and the metric interface.

A metric is a function of a :class:`Frame` and an index array. For the point value the index
is ``arange(n)``; for the bootstrap it is a ``(B, n)`` matrix of resampled rows, so metrics
written with ``axis=-1`` numpy give all replicates in one call. Metrics that cannot be
vectorised set ``batched=False`` and are called once per replicate. A metric that cannot be
computed at all (a library or data file missing, nothing to compare) is marked in
``Frame.unavailable`` with the reason, and is reported as null with that reason, never as 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Frame:
    """Scored rows of one run under one protocol.

    ``y`` is the truth (fake = 1), ``yhat`` the verdict after the protocol's failure policy,
    ``p`` the fake probability (``NaN`` only where none is known; ``has_p`` False when the
    detector never gives one), ``failed`` marks samples without a usable verdict.
    ``predictions`` are the rows' predictions after the protocol's re-parse and failure policy
    (what text and mask metrics read); ``records`` are the stored lines with their ``truth``.
    """

    ids: np.ndarray
    y: np.ndarray
    yhat: np.ndarray
    p: np.ndarray
    failed: np.ndarray
    has_p: bool
    positive: int = 1
    cls_true: np.ndarray | None = None
    cls_pred: np.ndarray | None = None
    records: list[dict] = field(default_factory=list)
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    predictions: list[Any] = field(default_factory=list)
    #: metric name -> why it cannot be computed on this frame (reported instead of a value)
    unavailable: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def all_rows(self) -> np.ndarray:
        return np.arange(len(self))


MetricFn = Callable[[Frame, np.ndarray], Any]


@dataclass(frozen=True)
class Metric:
    """A named metric: how to compute it, and what it needs to be defined."""

    name: str
    fn: MetricFn
    description: str = ""
    batched: bool = True
    needs_p: bool = False
    higher_is_better: bool = True
    #: fills per-sample columns the metric averages (e.g. text similarity), run once per frame
    prepare: Callable[[Frame], None] | None = None
    #: structured output stored beside the values (confusion matrix, reliability bins, settings)
    details: Callable[[Frame, np.ndarray], dict] | None = None

    def value(self, frame: Frame, rows: np.ndarray) -> float | None:
        """The point value over ``rows``, or None when the metric is undefined there."""
        if self.needs_p and not frame.has_p:
            return None
        if self.name in frame.unavailable:
            return None
        if rows.size == 0:
            return None
        out = float(np.asarray(self.fn(frame, rows)))
        return out if np.isfinite(out) else None

    def replicates(self, frame: Frame, idx: np.ndarray) -> np.ndarray:
        """Values for each row of a ``(B, n)`` index matrix (``NaN`` where undefined)."""
        if self.batched:
            return np.asarray(self.fn(frame, idx), dtype=float).reshape(idx.shape[0])
        return np.array([float(np.asarray(self.fn(frame, row))) for row in idx], dtype=float)
