"""``evaluate`` metric modules of fdrbench's families; load one with ``evaluate.load(folder)``.

Each module wraps :mod:`fdrbench.score_arrays`, so its values, null rules and intervals are
those of ``scores.json``. ``judge_score`` has none: it needs stored judgements of an LLM.
"""

from __future__ import annotations

from pathlib import Path

from fdrbench.errors import RegistryError

#: families computed from plain predictions and references, published as ``evaluate`` modules
EVALUATE_FAMILIES = ("detection", "calibration", "ternary", "localization", "text")


def evaluate_module_path(family: str) -> str:
    """Folder of the ``evaluate`` metric module of a family: ``evaluate.load(path)`` works offline."""
    if family not in EVALUATE_FAMILIES:
        raise RegistryError(f"unknown metric family {family!r} for evaluate; families: {', '.join(EVALUATE_FAMILIES)}")
    return str(Path(__file__).resolve().parent / f"fdrbench_{family}")
