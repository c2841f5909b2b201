"""Every prediction a detector returns is checked the moment it is returned.

A detector is code the engine does not control (a plugin, a user's class, a model's free text).
A prediction that breaks the results contract would otherwise be stored and only fail later,
when the run is scored or validated, so the run could never be submitted. Here each one is
normalised (NumPy scalars to Python numbers), its long texts are cut to the stored caps, and it
is checked against the results contract (:class:`fdrbench.record.PredictionFields`) and the task's label
space. A bad one becomes that sample's error, with the reason; the other samples and the run go on.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import msgspec

from fdrbench.record import PredictionFields, validation_message
from fdrbench.types import MAX_ERROR_CHARS, MAX_TEXT_CHARS, TERNARY_CLASSES, Prediction, Sample

CLASS_NAMES = (*TERNARY_CLASSES, "fake")

_TEXT_CAPS = {"explanation": MAX_TEXT_CHARS, "raw_output": MAX_TEXT_CHARS, "error": MAX_ERROR_CHARS}


class InvalidPrediction(ValueError):
    """A prediction that breaks the results contract; the message says which field and why."""


def _python_number(value: Any) -> Any:
    """A NumPy scalar as the plain Python value it holds (``np.int64(1)`` -> ``1``); anything else unchanged."""
    if value is None or isinstance(value, str) or type(value) in (bool, int, float):
        return value
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value


def _normalised_mask(mask: Any) -> Any:
    if isinstance(mask, dict) and set(mask) == {"size", "counts"} and isinstance(mask["size"], (list, tuple)):
        counts = mask["counts"]
        if hasattr(counts, "tolist"):
            counts = counts.tolist()
        if isinstance(counts, (list, tuple)):
            return {"size": [_python_number(v) for v in mask["size"]], "counts": [_python_number(c) for c in counts]}
    return mask


def _classes(label_space: str) -> tuple[str, ...]:
    """Classes a prediction may name: the three-way ones for a ternary task, any fdrbench class for a binary one."""
    return TERNARY_CLASSES if label_space == "ternary" else CLASS_NAMES


def checked(pred: Any, sample: Sample, label_space: str = "binary") -> Prediction:
    """``pred`` made fit to store for ``sample``; :class:`InvalidPrediction` with the reason if it is not."""
    if not isinstance(pred, Prediction):
        raise InvalidPrediction(f"the detector returned a {type(pred).__name__}, expected a Prediction")
    label = _python_number(pred.label)
    if isinstance(label, bool):
        raise InvalidPrediction(f"'label' must be 0, 1 or None, got the boolean {label!r}")
    updates: dict[str, Any] = {
        "label": label,
        "p_fake": _python_number(pred.p_fake),
        "latency_s": _python_number(pred.latency_s),
        "n_tokens": _python_number(pred.n_tokens),
        "parse_ok": _python_number(pred.parse_ok),
        "mask": _normalised_mask(pred.mask),
    }
    if isinstance(pred.class_probs, dict):
        updates["class_probs"] = {k: _python_number(v) for k, v in pred.class_probs.items()}
    cut = {}
    for field, cap in _TEXT_CAPS.items():
        text = getattr(pred, field)
        if isinstance(text, str) and len(text) > cap:
            updates[field] = text[:cap]
            cut[field] = len(text)
    try:
        fixed = replace(pred, **updates)
        if cut and isinstance(fixed.extra, dict):
            fixed.extra = {**fixed.extra, "truncated_chars": cut}
        record = fixed.to_dict()
    except Exception as exc:  # a field the dataclass rejects, or a value that cannot even be copied
        raise InvalidPrediction(f"{type(exc).__name__}: {exc}") from exc
    try:  # the prediction half of the contract: a blind run's samples have no truth to check it with
        checked_fields = msgspec.convert(record, PredictionFields)
    except msgspec.ValidationError as exc:
        raise InvalidPrediction(validation_message(exc, record, PredictionFields)) from exc
    problems = checked_fields.field_problems()
    if problems:
        raise InvalidPrediction(problems[0])
    allowed = _classes(label_space)
    if fixed.cls is not None and fixed.cls not in allowed:
        raise InvalidPrediction(f"class {fixed.cls!r} is not in the {label_space} label space of the task ({', '.join(allowed)})")
    if fixed.class_probs and not set(fixed.class_probs) <= set(allowed):
        raise InvalidPrediction(
            f"class_probs names {sorted(set(fixed.class_probs) - set(allowed))}, outside the task's classes ({', '.join(allowed)})"
        )
    return fixed


def checked_or_error(pred: Any, sample: Sample, label_space: str = "binary") -> Prediction:
    """:func:`checked`, or the sample's error prediction naming what was wrong."""
    try:
        return checked(pred, sample, label_space)
    except InvalidPrediction as exc:
        return Prediction.from_error(sample.id, f"InvalidPrediction: {exc}")
