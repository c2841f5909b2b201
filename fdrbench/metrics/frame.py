"""The per-sample arrays every metric reads, and the metric record with every fact about a metric.

A metric is a function of a :class:`Frame` and an index array. For the point value the index
is ``arange(n)``; for the bootstrap it is a ``(B, n)`` matrix of resampled rows, so metrics
written with ``axis=-1`` numpy give all replicates in one call. Metrics that cannot be
vectorised set ``batched=False`` and are called once per replicate. A metric that cannot be
computed at all (a library or data file missing, nothing to compare) is marked in
``Frame.unavailable`` with the reason, and is reported as null with that reason, never as 0.

Everything the rest of fdrbench needs to know about a metric is on its :class:`Metric`:
its family and typed options, its value range, which rows it reads, which paired test decides
a difference, how it is displayed and which direction is better. Nothing else keeps a list of
metric names with a property.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np


@dataclass
class Frame:
    """Scored rows of one run under one protocol.

    ``y`` is the truth (fake = 1), ``yhat`` the verdict after the protocol's failure policy,
    ``p`` the fake probability (``NaN`` only where none is known; ``has_p`` False when the
    detector never gives one), ``failed`` marks samples without a usable verdict.
    ``predictions`` are the rows' predictions after the protocol's re-parse and failure policy
    (what text and mask metrics read); ``records`` are the stored lines with their ``truth``
    (:class:`fdrbench.record.Record`).
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
    records: list[Any] = field(default_factory=list)
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    predictions: list[Any] = field(default_factory=list)
    #: metric name -> why it cannot be computed on this frame (reported instead of a value)
    unavailable: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def all_rows(self) -> np.ndarray:
        return np.arange(len(self))

    def family_options(self, cls: type) -> Any:
        """The protocol's options for one family, as that family's typed options (cached)."""
        typed = self.__dict__.setdefault("_typed_options", {})
        if cls not in typed:
            typed[cls] = cls.of(self.options)
        return typed[cls]


MetricFn = Callable[[Frame, np.ndarray], Any]


@dataclass(frozen=True)
class Metric:
    """A named metric: how to compute it, and every fact the engine, validate and leaderboard need.

    - ``family``: the module family it belongs to (``detection``, ``text``, ...), set by the family.
    - ``options``: the family's typed options class (protocol options are checked against it).
    - ``bounded``: values (and interval ends) lie in [0, 1]; otherwise only non-negative.
    - ``rows``: ``scored`` (rows the protocol keeps) or ``all`` (every row, e.g. ``failure_rate``).
    - ``outcome``: a per-sample binary outcome (right/wrong, failed/not); when present, paired
      comparisons use McNemar's test on it, otherwise a paired bootstrap of the difference.
    - ``display``: ``percent`` (x100) or ``raw``, with ``digits`` decimals.
    - ``higher_is_better``: the direction ranks and comparisons read.
    - ``version``: bumped when the definition changes, so stored scores are known to be stale.
    """

    name: str
    fn: MetricFn
    description: str = ""
    family: str = ""
    batched: bool = True
    needs_p: bool = False
    higher_is_better: bool = True
    bounded: bool = True
    rows: Literal["scored", "all"] = "scored"
    outcome: Callable[[Frame], np.ndarray] | None = None
    display: Literal["percent", "raw"] = "percent"
    digits: int = 1
    options: type | None = None
    version: str = "1"
    #: fills per-sample columns the metric averages (e.g. text similarity), run once per frame
    prepare: Callable[[Frame], None] | None = None
    #: structured output stored beside the values (confusion matrix, reliability bins, settings)
    details: Callable[[Frame, np.ndarray], dict] | None = None

    @property
    def paired_test(self) -> str:
        return "McNemar" if self.outcome is not None else "paired bootstrap"

    def shown(self, value: float | None) -> float | None:
        """The value as displayed: x100 for percentages, rounded to ``digits``."""
        if value is None:
            return None
        return round((100.0 if self.display == "percent" else 1.0) * float(value), self.digits)

    def text(self, value: float | None, signed: bool = False) -> str:
        shown = self.shown(value)
        if shown is None:
            return "--"
        return f"{shown:+.{self.digits}f}" if signed else f"{shown:.{self.digits}f}"

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


def family(name: str, metrics: tuple[Metric, ...], options: type | None = None) -> dict[str, Metric]:
    """A family module's ``METRICS``: its metrics stamped with the family name and options class."""
    from dataclasses import replace

    return {m.name: replace(m, family=name, options=options) for m in metrics}
