"""Reading a general model's free-text answer with the task's rules, and packing it as a Prediction.

Binary tasks read the verdict with ``task.parse_answer(text, sample)`` (so yes/no questions of
either polarity work). Three-way tasks also read ``task.parse_class(text, sample)``; when a
task keeps the default class rule, that rule's verdict fills in where ``parse_answer`` has none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fdrbench.api.task import Task
from fdrbench.backends.verdict_site import BINARY_WORDS, TERNARY_WORDS
from fdrbench.types import FAKE, REAL, Prediction, Sample, label_of_class
from fdrbench.verdicts import Verdict, generic_ternary


def task_verdict_reader(task: Task, sample: Sample) -> Callable[[str], Verdict]:
    """The function that reads a (label, class) verdict from an answer to ``sample``."""
    if task.label_space == "ternary":
        default_rule = type(task).parse_class is Task.parse_class

        def read(text: str) -> Verdict:
            cls = task.parse_class(text, sample)
            label = task.parse_answer(text, sample)
            if cls is not None:
                return label_of_class(cls), cls
            if label is None and default_rule:
                label = generic_ternary(text)[0]
            return label, None

        return read
    return lambda text: (task.parse_answer(text, sample), None)


def default_words(label_space: str) -> tuple[str, ...]:
    return TERNARY_WORDS if label_space == "ternary" else BINARY_WORDS


def build_prediction(
    sample: Sample,
    text: str,
    verdict: Verdict,
    p_fake: float | None,
    class_probs: dict[str, float] | None,
    n_tokens: int | None,
    extra: dict[str, Any],
) -> Prediction:
    """A Prediction from an answer: unparsed answers keep their text and get ``parse_ok=False``."""
    label, cls = verdict
    if label not in (REAL, FAKE):
        label = None
    return Prediction(
        sample_id=sample.id,
        label=label,
        cls=cls,
        p_fake=p_fake,
        class_probs=class_probs,
        explanation=text.strip() or None,
        raw_output=text,
        parse_ok=label is not None,
        n_tokens=n_tokens,
        extra=extra,
    )
