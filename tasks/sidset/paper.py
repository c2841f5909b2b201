"""SIDA's evaluation on SID-Set: its class rule for stated text and its scoring protocol.

SIDA's class head decides where the prediction carries it (``Prediction.extra`` names the
source); otherwise the class is read from the text with :func:`sida_class`, which the SIDA
adapter and ``SIDSet.parse_answer`` use as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fdrbench.protocols import THREE_WAY_METRICS, Protocol
from fdrbench.record import Truth
from fdrbench.types import Prediction
from fdrbench.verdicts import class_reparse

_SIDA_CLS = re.compile(r"(?:classified as|the image is)\s+(real|full synthetic|tampered)", re.I)
#: ``Prediction.extra`` key naming where a three-way class came from (``head`` or ``text``)
CLASS_SOURCE = "class_source"


def sida_class(text: str | None) -> str | None:
    """SIDA's stated class from ``[CLS] The image is ...`` or the canned ``classified as ...`` text."""
    match = _SIDA_CLS.search(text or "")
    if not match:
        return None
    return match.group(1).lower().replace(" ", "_")


SIDSET_DESCRIPTION = (
    "SIDA's evaluation on SID-Set: three-way class from SIDA's class head whenever the prediction has one "
    "(extra.class_source = head, in either mode), otherwise the class the output states; per-class accuracy "
    "(= recall) and one-vs-rest F1, 0 for a class with an empty denominator (test.py's zero division), overall "
    "accuracy as the mean class accuracy (macro_recall) and overall F1 as their macro mean over the three "
    "classes; localization on every ground-truth tampered image whatever its predicted class, masks compared "
    "at longest side 1024 (ground truth resized there before keeping 255), both per-image (giou) and "
    "cumulative (ciou) IoU. Unparsed outputs are wrong."
)


def sida_reparse() -> Callable[[Prediction, Truth], Prediction]:
    """SIDA's class head decides when it gave the class; text-only predictions are re-read."""
    from_text = class_reparse(sida_class, "sida_class")

    def reparse(pred: Prediction, truth: Truth) -> Prediction:
        if (pred.extra or {}).get(CLASS_SOURCE) == "head" and pred.cls is not None:
            return pred
        return from_text(pred, truth)

    reparse.__qualname__ = "sida_class_head_else_text"
    return reparse


def sidset_paper(mask_size: int | None = 1024) -> Protocol:
    """SID-Set paper protocol (SIDA's ``test.py`` metrics and the paper's table arithmetic)."""
    return Protocol(
        "paper",
        SIDSET_DESCRIPTION,
        metrics=THREE_WAY_METRICS,
        reparse=sida_reparse(),
        options={"mask_size": mask_size, "zero_division": 0},
    )
