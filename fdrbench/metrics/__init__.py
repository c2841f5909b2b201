"""Metric families and their registry.

Each family module (``detection``, ``calibration``, ...) defines a ``METRICS`` dict of
:class:`~fdrbench.metrics.frame.Metric`; the array functions in those modules are the plain
Python API for scoring in your own loops. Heavy libraries are imported inside the functions
that use them, so importing a family is cheap.
"""

from __future__ import annotations

import importlib

from fdrbench.errors import RegistryError
from fdrbench.metrics.frame import Frame, Metric

FAMILIES = ("detection", "calibration", "judge")
_CACHE: dict[str, Metric] = {}


def all_metrics() -> dict[str, Metric]:
    if not _CACHE:
        for family in FAMILIES:
            module = importlib.import_module(f"fdrbench.metrics.{family}")
            for name, metric in module.METRICS.items():
                if name in _CACHE:
                    raise RegistryError(f"metric {name!r} is defined twice (in {family} and earlier)")
                _CACHE[name] = metric
    return _CACHE


def get_metric(name: str) -> Metric:
    metrics = all_metrics()
    if name not in metrics:
        import difflib

        close = difflib.get_close_matches(name, list(metrics), n=3)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        raise RegistryError(f"unknown metric {name!r}.{hint} Known: {', '.join(sorted(metrics))}")
    return metrics[name]


__all__ = ["FAMILIES", "Frame", "Metric", "all_metrics", "get_metric"]
