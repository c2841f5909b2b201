"""How predictions become numbers: ``Protocol``, ``Aggregate`` and the one set of metric lists.

This module sits just above the metric families and below the task API: a task names its
protocols with these types, the score stage applies them, and nothing here knows a task.
The common ``strict`` protocol's metric list follows the task's shape: a binary task gets
detection and calibration metrics; a three-way task adds the per-class figures; a task with
reference explanations adds the text metrics; one with tampering masks adds localization.
Metrics that need something a detector does not give (``p_fake``, a class, an explanation, a
mask) are null for that detector, never 0.

A protocol's ``version`` is a hash of everything that decides its numbers (metric list and
each metric's own version, options, failure policy, re-parse rule, aggregates). ``scores.json``
records it, so a stored run scored before a metric joined a protocol is recognised as "not yet
scored" with that metric rather than as a mismatch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fdrbench.errors import FdrbenchError

#: threshold metrics of the verdict, then threshold-free metrics of p_fake
DETECTION_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "real_accuracy",
    "fake_accuracy",
    "precision",
    "recall",
    "f1",
    "ap",
    "roc_auc",
    "eer",
    "tpr_at_1pct_fpr",
    "tpr_at_5pct_fpr",
)
CALIBRATION_METRICS = ("ece", "ece_em", "mce", "brier", "nll")
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
#: what papers on three-way detection with tampering masks report: the per-class figures, failures, localization
THREE_WAY_METRICS = (*TERNARY_METRICS, "failure_rate", *LOCALIZATION_METRICS)
TEXT_METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l", "css", "meteor", "cider")
HEADLINE_METRICS = ("accuracy", "balanced_accuracy", "f1", "ap", "roc_auc", "ece", "failure_rate")
#: text settings of the strict protocol: case-insensitive, Treebank tokens, smoothed BLEU
STRICT_TEXT_OPTIONS: dict[str, Any] = {
    "text_lowercase": True,
    "bleu_tokenizer": "treebank",
    "bleu_smoothing": "method1",
    "rouge_stemmer": True,
    "css_encoder": "minilm",
}
STRICT_DESCRIPTION = (
    "fdrbench's common protocol: unparsed or failed outputs count as wrong and are reported as "
    "failure_rate; threshold-free metrics use p_fake and are null when the detector gives none; "
    "F1 with fake as the positive class."
)
FAILURE_POLICIES = ("wrong", "exclude", "fallback")


@dataclass(frozen=True)
class Aggregate:
    """A named summary over some groups of one key, e.g. a paper's mean over its generator sets.

    ``weighting`` is ``macro`` (plain mean of the member groups' metric values, as papers
    compute their summary columns), ``size`` (each member weighted by its sample count),
    ``fakes`` (weighted by its number of fake samples) or ``pooled`` (every metric computed
    afresh over the union of the members' samples: one slice of the data, with its own
    bootstrap interval). Empty ``members`` means every value of ``key`` present in the run.
    """

    key: str
    members: tuple[str, ...]
    weighting: Literal["macro", "size", "fakes", "pooled"] = "macro"
    description: str = ""

    def settings(self) -> dict:
        return {"key": self.key, "members": list(self.members), "weighting": self.weighting}


@dataclass(frozen=True)
class Protocol:
    """How predictions become numbers: failure handling, F1 positive class, metric list, re-parsing.

    ``reparse(prediction, truth)`` lets a paper protocol re-derive the verdict from the stored
    raw output with the paper's own rule (``truth`` is the sample's stored truth, for rules that
    depend on the question asked), so a protocol applies to any stored run without re-running a
    model. ``failure_policy``: ``wrong`` (a failed sample counts as wrong), ``exclude`` (left out
    of every metric but those that read all rows, e.g. ``failure_rate``) or ``fallback`` (a
    failed sample keeps the label the re-parse gave it, e.g. a deterministic coin, and is still
    counted as a failure). ``options`` are the metric families' settings, checked against the
    options those families declare. ``aggregates`` are added to (or replace) the task's.
    ``samples`` says which sample set the paper scored, where a task option decides it.
    """

    name: str
    description: str
    failure_policy: Literal["wrong", "exclude", "fallback"] = "wrong"
    positive_class: Literal["fake", "real"] = "fake"
    metrics: tuple[str, ...] = BINARY_METRICS
    reparse: Callable[..., Any] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    aggregates: Mapping[str, Aggregate] = field(default_factory=dict)
    #: which samples the protocol's paper scored, when the task's option decides it (recorded, not computed)
    samples: str = ""

    def __post_init__(self) -> None:
        if self.failure_policy not in FAILURE_POLICIES:
            raise FdrbenchError(f"protocol {self.name!r}: failure_policy must be one of {', '.join(FAILURE_POLICIES)}")
        if self.positive_class not in ("fake", "real"):
            raise FdrbenchError(f"protocol {self.name!r}: positive_class must be 'fake' or 'real'")
        from fdrbench.metrics.registry import check_options

        check_options(self.metrics, self.options, where=f"protocol {self.name!r}")

    def settings(self) -> dict:
        """The protocol as recorded in ``scores.json`` (everything but the callable)."""
        out = {
            "description": self.description,
            "failure_policy": self.failure_policy,
            "positive_class": self.positive_class,
            "metrics": list(self.metrics),
            "reparse": getattr(self.reparse, "__qualname__", None) if self.reparse else None,
            "options": dict(self.options),
        }
        if self.aggregates:
            out["aggregates"] = {k: a.settings() for k, a in self.aggregates.items()}
        if self.samples:
            out["samples"] = self.samples
        return out

    def version(self) -> str:
        """Hash of everything that decides this protocol's numbers (its description excluded)."""
        from fdrbench.metrics.registry import get_metric

        decided = {k: v for k, v in self.settings().items() if k != "description"}
        decided["metric_versions"] = {name: get_metric(name).version for name in self.metrics}
        text = json.dumps(decided, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def with_metrics(self, metrics: tuple[str, ...]) -> Protocol:
        """The same protocol over another metric list (extra metrics, or a stored run's list)."""
        from dataclasses import replace

        return replace(self, metrics=tuple(metrics))


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


def strict_protocol(
    label_space: str = "binary", references: bool = False, masks: bool = False, extra_metrics: tuple[str, ...] = (), **options: Any
) -> Protocol:
    """``strict`` for a task of this shape: failures count as wrong, metric list from the shape."""
    metrics = strict_metrics(label_space, references, masks, extra_metrics)
    merged = {**(STRICT_TEXT_OPTIONS if references else {}), **options}
    return Protocol("strict", STRICT_DESCRIPTION, metrics=metrics, options=merged)
