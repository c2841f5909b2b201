"""Metric families and their registry: the bottom layer of scoring.

Each family module (``detection``, ``calibration``, ``ternary``, ``localization``, ``text``,
``judge``) defines a ``METRICS`` dict of :class:`~fdrbench.metrics.frame.Metric`, each metric
carrying every fact about itself; families are found through the entry-point group
``fdrbench.metrics`` (:mod:`fdrbench.metrics.registry`), the same way as plugin metrics.
This package imports nothing of fdrbench above it; scoring plain lists or arrays is
:mod:`fdrbench.score_arrays`. Heavy libraries are imported inside the functions that use them,
so importing a family is cheap.
"""

from __future__ import annotations

from fdrbench.metrics.frame import Frame, Metric
from fdrbench.metrics.registry import all_metrics, families, get_metric

_MOVED = frozenset({"detection_scores", "calibration_scores", "ternary_scores", "localization_scores", "text_scores"})


def __getattr__(name: str):
    if name in _MOVED:
        raise AttributeError(f"fdrbench.metrics.{name} moved to fdrbench.score_arrays.{name} (from fdrbench import {name} works too)")
    raise AttributeError(f"module 'fdrbench.metrics' has no attribute {name!r}")


__all__ = ["Frame", "Metric", "all_metrics", "families", "get_metric"]
