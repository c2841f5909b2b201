"""FakeBench's scoring: keyword verdicts read against the question asked, and its accuracy table.

The paper reports accuracy on fakes, on reals, on the "what" questions and on the yes/no ones,
per generator and overall, where Overall is the mean of the fake and real accuracies (equal to
plain accuracy on its balanced set: GPT-4V (59.87 + 96.20) / 2 = 78.03). How an answer was
matched is described only as keyword matching; fdrbench reads a "what" answer by the first of
``fake`` / ``real`` it contains and a yes/no answer by the ``yes`` or ``no`` it starts with,
turned into a verdict with the polarity of the question; anything else is a miss, counted wrong.
"""

from __future__ import annotations

import re
from dataclasses import replace

from fdrbench.protocols import Aggregate, Protocol
from fdrbench.record import Truth
from fdrbench.tasks.fakebench.loader import question_kind
from fdrbench.types import FAKE, REAL, Prediction

_FIRST = re.compile(r"\b(fake|real)\b", re.I)
_LEADING = re.compile(r"^\W*(yes|no)\b", re.I)
DESCRIPTION = (
    "FakeBench's FakeClass accuracy: a 'what' answer's verdict is the first of fake/real it contains; a yes/no "
    "answer must start with yes or no, read against the question asked (yes to 'Is this a fake image' is fake, "
    "yes to 'Is this a real image' is real); misses count as wrong. Overall = balanced_accuracy (mean of the "
    "fake and real accuracies); the 'question' group and the pooled 'yes_no' aggregate give the What and "
    "Yes-or-No columns, the generator group the per-generator ones."
)


def verdict(text: str | None, question: str | None) -> int | None:
    """The verdict an answer to ``question`` states under FakeBench's keyword rule (None: a miss)."""
    kind = question_kind(question or "") or "what"
    if kind == "what":
        match = _FIRST.search(text or "")
        return None if match is None else (FAKE if match.group(1).lower() == "fake" else REAL)
    match = _LEADING.match(text or "")
    if match is None:
        return None
    says_yes = match.group(1).lower() == "yes"
    return FAKE if says_yes == (kind == "is_fake") else REAL


def reparse(pred: Prediction, truth: Truth) -> Prediction:
    if pred.raw_output is None:
        return pred
    label = verdict(pred.raw_output, truth.question)
    return replace(pred, label=label, cls=None, parse_ok=label is not None and pred.error is None)


reparse.__qualname__ = "fakebench_keyword_verdict"


def paper_protocol() -> Protocol:
    return Protocol(
        "paper",
        DESCRIPTION,
        metrics=("balanced_accuracy", "accuracy", "fake_accuracy", "real_accuracy", "failure_rate"),
        reparse=reparse,
        aggregates={"yes_no": Aggregate("question", ("is_fake", "is_real"), "pooled", "the yes/no questions together")},
    )


INTERPRETATION_DESCRIPTION = (
    "FakeBench's interpretation and reasoning scores where references exist: BLEU-1, BLEU-2, ROUGE-L and sentence "
    "similarity (CSS; the paper does not name its embedding model, MiniLM here) of the answer against the "
    "released telltale clues; the GPT-assisted completeness / preciseness / relevance ratings are not reproduced "
    "(the rubric is not released). The released FakeClue.json has empty references, so these are null until "
    "references are published."
)


def interpretation_protocol() -> Protocol:
    return Protocol(
        "paper",
        INTERPRETATION_DESCRIPTION,
        metrics=("bleu1", "bleu2", "rouge_l", "css", "fake_accuracy", "failure_rate"),
        options={"rouge_stemmer": True, "css_encoder": "minilm"},
    )
