"""Community Forensics' own scoring: its evaluation thresholds the sigmoid output at 0.5 for accuracy
(``BinaryAccuracy``) and ranks by it for average precision."""

from __future__ import annotations

from dataclasses import replace

from fdrbench.protocols import Protocol
from fdrbench.record import Truth
from fdrbench.types import FAKE, REAL, Prediction

PAPER_DESCRIPTION = (
    "Community Forensics' evaluation: accuracy with p_fake thresholded at 0.5 (its sigmoid output, "
    "BinaryAccuracy) where the detector gives p_fake, else the detector's verdict, and average precision of p_fake."
)


def threshold_half(pred: Prediction, truth: Truth) -> Prediction:
    if pred.p_fake is None or pred.error is not None:
        return pred
    return replace(pred, label=FAKE if pred.p_fake >= 0.5 else REAL, cls=None, parse_ok=True)


threshold_half.__qualname__ = "p_fake_at_0.5"


def commfor_paper() -> Protocol:
    """Accuracy at p_fake 0.5 (the verdict where a detector gives no p_fake) and average precision."""
    return Protocol(
        "paper",
        PAPER_DESCRIPTION,
        metrics=("accuracy", "ap", "real_accuracy", "fake_accuracy", "failure_rate"),
        reparse=threshold_half,
    )
