"""The common ``strict`` protocol every task gets, with a metric list that follows the task.

A binary task gets detection and calibration metrics; a three-way task adds the per-class
figures; a task with reference explanations adds the text metrics; one with tampering masks
adds localization. Metrics that need something a detector does not give (``p_fake``, a class,
an explanation, a mask) are null for that detector, never 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fdrbench.task import DETECTION_METRICS as BASE_DETECTION_METRICS
from fdrbench.task import STRICT_DESCRIPTION, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from fdrbench.task import Task

CALIBRATION_METRICS = ("ece", "ece_em", "mce", "brier", "nll")
#: the engine's first detection list (accuracy ... roc_auc) and the threshold-free rates added since
DETECTION_METRICS = (
    *(m for m in BASE_DETECTION_METRICS if m not in CALIBRATION_METRICS and m != "failure_rate"),
    "eer",
    "tpr_at_1pct_fpr",
    "tpr_at_5pct_fpr",
)
BINARY_METRICS = (*DETECTION_METRICS, *CALIBRATION_METRICS, "failure_rate")
TERNARY_METRICS = (
    "ternary_accuracy",
    "macro_recall",
    "macro_f1",
    "real_recall",
    "full_synthetic_recall",
    "tampered_recall",
    "real_f1",
    "full_synthetic_f1",
    "tampered_f1",
)
LOCALIZATION_METRICS = ("giou", "ciou", "pixel_f1", "pixel_auc")
TEXT_METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l", "css", "meteor", "cider")
#: text settings of the strict protocol: case-insensitive, Treebank tokens, smoothed BLEU
STRICT_TEXT_OPTIONS: dict[str, Any] = {
    "text_lowercase": True,
    "bleu_tokenizer": "treebank",
    "bleu_smoothing": "method1",
    "rouge_stemmer": True,
    "css_encoder": "minilm",
}


def strict_metrics(label_space: str = "binary", references: bool = False, masks: bool = False, extra: tuple[str, ...] = ()) -> tuple:
    """The strict metric list for a task of this shape (``extra`` appended, e.g. ``bertscore_f1``)."""
    metrics = list(BINARY_METRICS)
    if label_space == "ternary":
        metrics += TERNARY_METRICS
    if masks:
        metrics += LOCALIZATION_METRICS
    if references:
        metrics += TEXT_METRICS
    metrics += [m for m in extra if m not in metrics]
    return tuple(metrics)


def strict_protocol(task: Task, extra_metrics: tuple[str, ...] = (), **options: Any) -> Protocol:
    """``strict`` for ``task``: failures count as wrong, metric list from the task's shape."""
    metrics = strict_metrics(task.label_space, task.has_reference_text, task.has_masks, extra_metrics)
    merged = {**(STRICT_TEXT_OPTIONS if task.has_reference_text else {}), **options}
    return Protocol("strict", STRICT_DESCRIPTION, metrics=metrics, options=merged)
