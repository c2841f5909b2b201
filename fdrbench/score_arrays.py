"""Score plain lists or arrays with fdrbench's metrics, outside the CLI and run folders.

Every function here builds the same per-sample records a run folder holds and scores them with
the engine's own code, so values, null rules, details and bootstrap intervals are those of
``scores.json``. Labels are fake = 1, real = 0; a verdict of ``None`` is an unparsed output.
It sits above the scoring layer (it builds records and protocols), so it is not part of
:mod:`fdrbench.metrics`; ``from fdrbench import detection_scores`` reaches it too.

    >>> from fdrbench.score_arrays import detection_scores
    >>> detection_scores([1, 0, 1, 0], [1, 0, 0, 0], p_fake=[0.9, 0.2, 0.4, 0.1])["accuracy"]
    0.75
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fdrbench.errors import FdrbenchError
from fdrbench.protocols import CALIBRATION_METRICS, DETECTION_METRICS, LOCALIZATION_METRICS, TERNARY_METRICS, TEXT_METRICS, Protocol
from fdrbench.record import Record, Truth
from fdrbench.scoring import ScoreSettings, build_frame, score_protocol
from fdrbench.types import Reference, encode_mask, label_of_class

DETECTION = (*DETECTION_METRICS, "failure_rate")
CALIBRATION = CALIBRATION_METRICS
TERNARY = TERNARY_METRICS
LOCALIZATION = LOCALIZATION_METRICS
TEXT = TEXT_METRICS


def _column(values: Sequence | None, n: int, name: str) -> list:
    if values is None:
        return [None] * n
    values = list(values)
    if len(values) != n:
        raise FdrbenchError(f"{name} has {len(values)} entries, expected {n} (one per sample)")
    return values


def _optional_float(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)


def _reference(value: str | Sequence[str] | None) -> Reference:
    if value is None:
        return Reference()
    if isinstance(value, str):
        return Reference(text=value)
    texts = [str(v) for v in value]
    return Reference(text=texts[0] if texts else None, texts=texts)


def build_records(
    y_true: Sequence[int],
    y_pred: Sequence[int | None] | None = None,
    p_fake: Sequence[float | None] | None = None,
    cls_true: Sequence[str | None] | None = None,
    cls_pred: Sequence[str | None] | None = None,
    explanations: Sequence[str | None] | None = None,
    references: Sequence[str | Sequence[str] | None] | None = None,
    true_masks: Sequence[np.ndarray | None] | None = None,
    pred_masks: Sequence[np.ndarray | None] | None = None,
) -> list[Record]:
    """Prediction records with their ``truth``, as a run's ``predictions.jsonl`` holds them."""
    n = len(y_true)
    y_pred_col = _column(y_pred, n, "y_pred")
    if y_pred is None and p_fake is not None:
        y_pred_col = [None if p is None else int(float(p) >= 0.5) for p in _column(p_fake, n, "p_fake")]
    cols = {
        "p_fake": _column(p_fake, n, "p_fake"),
        "cls_true": _column(cls_true, n, "cls_true"),
        "cls_pred": _column(cls_pred, n, "cls_pred"),
        "explanation": _column(explanations, n, "explanations"),
        "reference": _column(references, n, "references"),
        "true_mask": _column(true_masks, n, "true_masks"),
        "pred_mask": _column(pred_masks, n, "pred_masks"),
    }
    records = []
    for i in range(n):
        label = int(y_true[i])
        pred_cls = cols["cls_pred"][i]
        verdict = y_pred_col[i]
        if verdict is None and pred_cls is not None:
            verdict = label_of_class(pred_cls)
        true_mask = cols["true_mask"][i]
        pred_mask = cols["pred_mask"][i]
        truth = Truth(
            label=label,
            cls=cols["cls_true"][i],
            reference=_reference(cols["reference"][i]),
            mask=None if true_mask is None else encode_mask(np.asarray(true_mask)),
        )
        records.append(
            Record(
                sample_id=f"{i:09d}",
                truth=truth,
                label=None if verdict is None else int(verdict),
                p_fake=_optional_float(cols["p_fake"][i]),
                cls=pred_cls,
                explanation=cols["explanation"][i],
                mask=None if pred_mask is None else encode_mask(np.asarray(pred_mask)),
                parse_ok=verdict is not None,
            )
        )
    return records


def score(
    metrics: Sequence[str],
    records: list[Record],
    *,
    positive: str = "fake",
    failure_policy: str = "wrong",
    options: dict | None = None,
    n_boot: int = 0,
    seed: int = 0,
    level: float = 0.95,
) -> dict:
    """Score records with the named metrics: ``{metric: value, ..., "ci": {...}, "details": {...}}``."""
    if not records:
        raise FdrbenchError("there is nothing to score: no samples")
    protocol = Protocol(
        "plain",
        "metrics on plain arrays",
        failure_policy=failure_policy,
        positive_class=positive,
        metrics=tuple(metrics),
        options=options or {},
    )
    block = score_protocol(build_frame(records, protocol), protocol, ScoreSettings(n_boot=n_boot, level=level, seed=seed))
    out: dict[str, Any] = {name: entry["value"] for name, entry in block["overall"].items()}
    if n_boot > 0:
        out["ci"] = {name: entry["ci"] for name, entry in block["overall"].items()}
    out["details"] = block["details"]
    return out


def detection_scores(
    y_true: Sequence[int],
    y_pred: Sequence[int | None] | None = None,
    p_fake: Sequence[float | None] | None = None,
    positive: str = "fake",
    n_boot: int = 0,
    seed: int = 0,
) -> dict:
    """Binary detection metrics; ``y_pred`` defaults to ``p_fake >= 0.5``; None = unparsed (counted wrong)."""
    return score(DETECTION, build_records(y_true, y_pred, p_fake), positive=positive, n_boot=n_boot, seed=seed)


def calibration_scores(
    y_true: Sequence[int], p_fake: Sequence[float], n_bins: int = 15, em_bins: int = 10, n_boot: int = 0, seed: int = 0
) -> dict:
    """ECE (equal-width and equal-mass), MCE, Brier, NLL and the reliability diagrams."""
    options = {"ece_bins": n_bins, "ece_em_bins": em_bins}
    return score(CALIBRATION, build_records(y_true, None, p_fake), options=options, n_boot=n_boot, seed=seed)


def ternary_scores(cls_true: Sequence[str], cls_pred: Sequence[str | None], n_boot: int = 0, seed: int = 0) -> dict:
    """Three-way metrics and the confusion matrix; classes ``real``, ``full_synthetic``, ``tampered``."""
    y_true = [label_of_class(c) for c in cls_true]
    return score(TERNARY, build_records(y_true, cls_true=cls_true, cls_pred=cls_pred), n_boot=n_boot, seed=seed)


def localization_scores(
    true_masks: Sequence[np.ndarray],
    pred_masks: Sequence[np.ndarray | None],
    mask_size: int | None = None,
    n_boot: int = 0,
    seed: int = 0,
) -> dict:
    """giou, ciou, pixel F1 and AUC of predicted masks on tampered images (None = no mask predicted)."""
    n = len(true_masks)
    records = build_records([1] * n, [1] * n, cls_true=["tampered"] * n, true_masks=true_masks, pred_masks=pred_masks)
    return score(LOCALIZATION, records, options={"mask_size": mask_size}, n_boot=n_boot, seed=seed)


def text_scores(
    explanations: Sequence[str | None],
    references: Sequence[str | Sequence[str]],
    metrics: Sequence[str] = TEXT,
    n_boot: int = 0,
    seed: int = 0,
    **options: Any,
) -> dict:
    """Explanation-quality metrics; ``options`` are the text settings (see :mod:`fdrbench.metrics.text`)."""
    n = len(explanations)
    records = build_records([1] * n, [1] * n, explanations=explanations, references=references)
    return score(metrics, records, options=options, n_boot=n_boot, seed=seed)


__all__ = ["build_records", "calibration_scores", "detection_scores", "localization_scores", "score", "ternary_scores", "text_scores"]
