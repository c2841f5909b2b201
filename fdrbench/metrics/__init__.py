"""Metric families and their registry.

Each family module (``detection``, ``calibration``, ``ternary``, ``localization``, ``text``)
defines a ``METRICS`` dict of :class:`~fdrbench.metrics.frame.Metric`. For scoring in your own
loops, :mod:`fdrbench.metrics.api` takes plain lists or arrays (``detection_scores``,
``calibration_scores``, ``ternary_scores``, ``localization_scores``, ``text_scores``), and
``evaluate_module_path(family)`` gives a folder that ``evaluate.load`` reads offline. Heavy
libraries are imported inside the functions that use them, so importing a family is cheap.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from fdrbench.errors import RegistryError
from fdrbench.metrics.api import calibration_scores, detection_scores, localization_scores, ternary_scores, text_scores
from fdrbench.metrics.frame import Frame, Metric

FAMILIES = ("detection", "calibration", "ternary", "localization", "text", "judge")
#: families computed from plain predictions and references, published as ``evaluate`` modules
#: (``judge`` needs stored judgements of an LLM, so it has none)
EVALUATE_FAMILIES = ("detection", "calibration", "ternary", "localization", "text")
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


def evaluate_module_path(family: str) -> str:
    """Folder of the ``evaluate`` metric module of a family: ``evaluate.load(path)`` works offline."""
    if family not in EVALUATE_FAMILIES:
        raise RegistryError(f"unknown metric family {family!r} for evaluate; families: {', '.join(EVALUATE_FAMILIES)}")
    return str(Path(__file__).resolve().parent / "hf_evaluate" / f"fdrbench_{family}")


__all__ = [
    "EVALUATE_FAMILIES",
    "FAMILIES",
    "Frame",
    "Metric",
    "all_metrics",
    "calibration_scores",
    "detection_scores",
    "evaluate_module_path",
    "get_metric",
    "localization_scores",
    "ternary_scores",
    "text_scores",
]
