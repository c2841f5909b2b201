"""DeepfakeJudge's scoring, as its published tables imply (no scoring code is released).

Detection (Table 1 on DFJ-Detect): accuracy over all 2,000 images, and the F1 of each class as
the positive one (``f1_real``, ``f1_fake``), edits counted as fake; four of the five printed rows
are reproduced exactly by a confusion matrix on 1,000 real and 1,000 fake images with no
abstention (SIDA-13B: 273 fakes and 689 reals right give 48.1 / 57.0 / 34.5, and no other
matrix does). The verdict is read
from ``<answer>real|fake|edited</answer>`` when the output has one, else the detector's own verdict
stands (SIDA's class, for instance); an output with neither is wrong.

Reasoning (DFJ-Reason): BLEU-3 and BERTScore of the explanation against the gold rationale,
and the mean 1-5 score of the DFJ-3B pointwise judge (``fdrbench judge`` with that model
served behind an OpenAI-compatible endpoint). The BLEU tokenisation and smoothing, the
BERTScore model and which text is the reference are not published: fdrbench's strict text
settings are used, and the protocol says so.
"""

from __future__ import annotations

import re
from dataclasses import replace

from fdrbench.protocols import STRICT_TEXT_OPTIONS, Protocol
from fdrbench.record import Truth
from fdrbench.tasks.dfj.loader import VALUES
from fdrbench.types import Prediction
from fdrbench.verdicts import generic_binary

_ANSWER = re.compile(r"<answer>\s*(real|fake|edited)\s*\.?\s*</answer>", re.I)
DETECT_DESCRIPTION = (
    "DeepfakeJudge's detection table: accuracy over every image, F1 with real and with fake as the positive class "
    "(edits are fake); the verdict from <answer>real|fake|edited</answer> where the output has one, else the "
    "detector's own verdict; unparsed outputs are wrong."
)
REASON_DESCRIPTION = (
    "DeepfakeJudge's reasoning table: BLEU-3 and BERTScore F1 of the explanation against the gold rationale "
    "(their tokenisation, smoothing and BERTScore model are not published: fdrbench's strict text settings), "
    "and judge_score once the run is judged; the verdict read as in detection."
)


def answer_tag(text: str | None) -> int | None:
    """The verdict of DeepfakeJudge's answer format ``<answer>real|fake|edited</answer>`` (the last one), or None."""
    found = _ANSWER.findall(text or "")
    return VALUES[found[-1].lower()] if found else None


def parse(text: str | None) -> int | None:
    """The answer tag, else fdrbench's generic reading of the text."""
    tagged = answer_tag(text)
    return tagged if tagged is not None else generic_binary(text)


def reparse(pred: Prediction, truth: Truth) -> Prediction:
    if pred.raw_output is None:
        return pred
    label = answer_tag(pred.raw_output)
    if label is None:
        return pred
    return replace(pred, label=label, cls=None, parse_ok=pred.error is None)


reparse.__qualname__ = "dfj_answer_tag_else_stored"


def detect_protocol() -> Protocol:
    return Protocol(
        "paper",
        DETECT_DESCRIPTION,
        metrics=("accuracy", "f1_real", "f1_fake", "real_accuracy", "fake_accuracy", "failure_rate"),
        reparse=reparse,
    )


def reason_protocol() -> Protocol:
    return Protocol(
        "paper",
        REASON_DESCRIPTION,
        metrics=("accuracy", "f1_real", "f1_fake", "failure_rate", "bleu3", "bertscore_f1"),
        reparse=reparse,
        options=dict(STRICT_TEXT_OPTIONS),
    )
