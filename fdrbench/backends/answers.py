"""Reading a general model's free-text answer with the task's rules, and packing it as a Prediction.

Binary tasks read the verdict with ``task.parse_answer(text, sample)`` (so yes/no questions of
either polarity work). Three-way tasks use ``task.parse_class(text, sample)`` when the task
defines one, else :func:`generic_ternary`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fdrbench.backends.verdict_site import BINARY_WORDS, TERNARY_WORDS, Verdict
from fdrbench.task import Task
from fdrbench.types import FAKE, REAL, Prediction, Sample, label_of_class

_CLASS_WORDS = {
    "real": "real",
    "authentic": "real",
    "genuine": "real",
    "tampered": "tampered",
    "manipulated": "tampered",
    "edited": "tampered",
    "altered": "tampered",
    "spliced": "tampered",
    "inpainted": "tampered",
    "full synthetic": "full_synthetic",
    "fully synthetic": "full_synthetic",
    "full_synthetic": "full_synthetic",
    "synthetic": "full_synthetic",
    "generated": "full_synthetic",
    "ai-generated": "full_synthetic",
}
_WORDS = "|".join(sorted((re.escape(w).replace(r"\ ", r"\s+") for w in _CLASS_WORDS), key=len, reverse=True))
_TERNARY_STATEMENT = re.compile(
    rf"\b(?:image|photo|picture|it)\s+(?:is|looks|appears(?:\s+to\s+be)?|was)\s+(not\s+)?(?:a\s+|an\s+)?(?:classified\s+as\s+)?({_WORDS})(?![\w-])",
    re.I,
)
_TERNARY_WORD = re.compile(rf"(?<![\w-])({_WORDS}|fake)(?![\w-])", re.I)


def _class_of(word: str) -> str | None:
    return _CLASS_WORDS.get(re.sub(r"\s+", " ", word.lower()))


def generic_ternary(text: str | None) -> Verdict:
    """(label, class) from free text: the last explicit statement ("the image is tampered", "it
    looks fully synthetic", "the image is not real"), else the first class word of the first
    sentence. A negated class other than real gives no class ("not tampered" does not say which)."""
    text = text or ""
    statements = _TERNARY_STATEMENT.findall(text)
    if statements:
        negated, word = statements[-1]
        cls = _class_of(word)
        if not negated:
            return (label_of_class(cls), cls) if cls else (None, None)
        return (FAKE, None) if cls == "real" else (None, None)
    first = text.split(".", 1)[0]
    match = _TERNARY_WORD.search(first)
    if match is None:
        return None, None
    word = match.group(1)
    if word.lower() == "fake":
        return FAKE, None
    cls = _class_of(word)
    return (label_of_class(cls), cls) if cls else (None, None)


def task_verdict_reader(task: Task, sample: Sample) -> Callable[[str], Verdict]:
    """The function that reads a (label, class) verdict from an answer to ``sample``."""
    if task.label_space == "ternary":
        parse_class = getattr(task, "parse_class", None)

        def read(text: str) -> Verdict:
            cls = parse_class(text, sample) if callable(parse_class) else generic_ternary(text)[1]
            label = task.parse_answer(text, sample)
            if cls is not None:
                return label_of_class(cls), cls
            if label is None and not callable(parse_class):
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
