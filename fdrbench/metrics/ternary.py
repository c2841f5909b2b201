"""Three-way metrics (real / full synthetic / tampered): per-class recall and F1, macro F1.

Classes are coded 0, 1, 2 in :data:`~fdrbench.types.TERNARY_CLASSES` order; a prediction with
no class (unparsed, or a binary detector) is -1, which is wrong for every true class and a false
positive for none. F1 is one-vs-rest; ``macro_f1`` averages the classes whose F1 is defined
(present in the truth or the predictions), as scikit-learn's ``average="macro"`` does with
``zero_division=np.nan``. ``macro_recall`` is the mean per-class accuracy (the "overall
accuracy" of three-way papers on a balanced test set). The metrics are null when the truth has no classes (a
binary task) or the detector never states a class.

Protocol option ``zero_division`` (default None): with ``0``, a per-class figure whose
denominator is empty is 0 and the macro means take all three classes, as some papers' evaluation scripts
does (a class absent from truth and predictions scores F1 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fdrbench.metrics.frame import Frame, Metric, family
from fdrbench.metrics.options import FamilyOptions
from fdrbench.types import TERNARY_CLASSES

NO_CLASS = -1


def encode_classes(names: Sequence[str | None]) -> np.ndarray:
    """Class names -> codes (``-1`` for None); unknown names are an error naming them."""
    index = {name: i for i, name in enumerate(TERNARY_CLASSES)}
    out = np.full(len(names), NO_CLASS, dtype=np.int8)
    for i, name in enumerate(names):
        if name is None:
            continue
        if name not in index:
            raise ValueError(f"unknown class {name!r} at position {i}; expected one of {TERNARY_CLASSES} or None")
        out[i] = index[name]
    return out


def _ratio(num: np.ndarray, den: np.ndarray, zero_division: float = np.nan) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), zero_division)


def _counts(t: np.ndarray, p: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t_c = t == c
    p_c = p == c
    return np.sum(t_c & p_c, axis=-1), np.sum(~t_c & p_c, axis=-1), np.sum(t_c & ~p_c, axis=-1)


def class_recall(cls_true: np.ndarray, cls_pred: np.ndarray, c: int, zero_division: float = np.nan) -> np.ndarray:
    tp, _, fn = _counts(np.asarray(cls_true), np.asarray(cls_pred), c)
    return _ratio(tp, tp + fn, zero_division)


def class_precision(cls_true: np.ndarray, cls_pred: np.ndarray, c: int, zero_division: float = np.nan) -> np.ndarray:
    tp, fp, _ = _counts(np.asarray(cls_true), np.asarray(cls_pred), c)
    return _ratio(tp, tp + fp, zero_division)


def class_f1(cls_true: np.ndarray, cls_pred: np.ndarray, c: int, zero_division: float = np.nan) -> np.ndarray:
    tp, fp, fn = _counts(np.asarray(cls_true), np.asarray(cls_pred), c)
    return _ratio(2 * tp, 2 * tp + fp + fn, zero_division)


def _nanmean_rows(values: np.ndarray) -> np.ndarray:
    """Mean over axis 0 of the finite entries; NaN where none is finite."""
    finite = np.isfinite(values)
    return _ratio(np.where(finite, values, 0.0).sum(axis=0), finite.sum(axis=0))


def macro_f1(cls_true: np.ndarray, cls_pred: np.ndarray, zero_division: float = np.nan) -> np.ndarray:
    return _nanmean_rows(np.stack([class_f1(cls_true, cls_pred, c, zero_division) for c in range(len(TERNARY_CLASSES))]))


def macro_recall(cls_true: np.ndarray, cls_pred: np.ndarray, zero_division: float = np.nan) -> np.ndarray:
    return _nanmean_rows(np.stack([class_recall(cls_true, cls_pred, c, zero_division) for c in range(len(TERNARY_CLASSES))]))


def ternary_accuracy(cls_true: np.ndarray, cls_pred: np.ndarray, zero_division: float = np.nan) -> np.ndarray:
    t = np.asarray(cls_true)
    if t.shape[-1] == 0:
        return np.full(t.shape[:-1], np.nan)
    return np.mean(t == np.asarray(cls_pred), axis=-1)


def confusion_matrix(cls_true: np.ndarray, cls_pred: np.ndarray) -> list[list[int]]:
    """Rows: true class; columns: predicted class, then "no class" (unparsed)."""
    t = np.asarray(cls_true)
    p = np.asarray(cls_pred)
    k = len(TERNARY_CLASSES)
    matrix = np.zeros((k, k + 1), dtype=np.int64)
    for i in range(k):
        for j, code in enumerate([*range(k), NO_CLASS]):
            matrix[i, j] = int(np.sum((t == i) & (p == code)))
    return matrix.tolist()


# --------------------------------------------------------------------------- registry entries

_CODES = "ternary_codes"


def _prepare(frame: Frame) -> None:
    """Code the frame's classes once; mark the family unavailable when it cannot apply."""
    if _CODES in frame.columns or any(name in frame.unavailable for name in METRICS):
        return
    true_names = list(frame.cls_true) if frame.cls_true is not None else [None] * len(frame)
    pred_names = list(frame.cls_pred) if frame.cls_pred is not None else [None] * len(frame)
    reason = None
    if not any(name is not None for name in true_names):
        reason = "the task's samples carry no three-way class"
    elif not any(name is not None for name in pred_names):
        reason = "the detector states no three-way class"
    if reason is not None:
        for name in METRICS:
            frame.unavailable[name] = reason
        return
    if any(name is None for name in true_names):
        missing = next(str(frame.ids[i]) for i, name in enumerate(true_names) if name is None)
        for name in METRICS:
            frame.unavailable[name] = f"sample {missing!r} has no three-way class in its truth"
        return
    frame.columns[_CODES + "_true"] = encode_classes(true_names)
    frame.columns[_CODES + "_pred"] = encode_classes(pred_names)
    frame.columns[_CODES] = np.ones(len(frame), dtype=bool)


@dataclass(frozen=True)
class TernaryOptions(FamilyOptions):
    """``zero_division``: the value of a per-class figure whose denominator is empty (None: undefined)."""

    zero_division: float | None = None


def zero_division(frame: Frame) -> float:
    """The protocol's value for a figure with an empty denominator (NaN: undefined, left out)."""
    value = frame.family_options(TernaryOptions).zero_division
    return np.nan if value is None else float(value)


def _on_codes(fn):
    def compute(frame: Frame, idx: np.ndarray) -> np.ndarray:
        return fn(frame.columns[_CODES + "_true"][idx], frame.columns[_CODES + "_pred"][idx], zero_division(frame))

    return compute


def _per_class(fn, c: int):
    def compute(frame: Frame, idx: np.ndarray) -> np.ndarray:
        return fn(frame.columns[_CODES + "_true"][idx], frame.columns[_CODES + "_pred"][idx], c, zero_division(frame))

    return compute


def _details(frame: Frame, rows: np.ndarray) -> dict:
    t = frame.columns[_CODES + "_true"][rows]
    p = frame.columns[_CODES + "_pred"][rows]
    zero = zero_division(frame)
    per_class = {}
    for c, name in enumerate(TERNARY_CLASSES):
        values = {"precision": class_precision(t, p, c, zero), "recall": class_recall(t, p, c, zero), "f1": class_f1(t, p, c, zero)}
        per_class[name] = {k: (float(v) if np.isfinite(v) else None) for k, v in values.items()}
        per_class[name]["support"] = int(np.sum(t == c))
    return {
        "classes": list(TERNARY_CLASSES),
        "predicted_columns": [*TERNARY_CLASSES, "no_class"],
        "confusion_matrix": confusion_matrix(t, p),
        "per_class": per_class,
        "zero_division": None if np.isnan(zero) else zero,
    }


def _metric(name: str, fn, description: str, details=None) -> Metric:
    return Metric(name, fn, description, prepare=_prepare, details=details)


METRICS: dict[str, Metric] = family(
    "ternary",
    (
        _metric("ternary_accuracy", _on_codes(ternary_accuracy), "share of samples whose three-way class is right"),
        _metric("macro_recall", _on_codes(macro_recall), "mean per-class accuracy over the three classes"),
        _metric("macro_f1", _on_codes(macro_f1), "mean one-vs-rest F1 over the three classes", details=_details),
        *(
            _metric(f"{name}_recall", _per_class(class_recall, c), f"recall (per-class accuracy) of {name}")
            for c, name in enumerate(TERNARY_CLASSES)
        ),
        *(_metric(f"{name}_f1", _per_class(class_f1, c), f"one-vs-rest F1 of {name}") for c, name in enumerate(TERNARY_CLASSES)),
    ),
    TernaryOptions,
)
