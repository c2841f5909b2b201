"""Generic rules for reading a verdict out of any model's free text (fake = 1, real = 0, None).

The engine's defaults, used by ``Task.parse_answer`` / ``Task.parse_class`` when a benchmark
defines no rule of its own; a benchmark's published rules live with the benchmark. Also here:
:func:`class_reparse`, which turns any benchmark's class rule into a protocol's re-parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from fdrbench.record import Truth
from fdrbench.types import FAKE, REAL, Prediction, label_of_class

#: (label, cls): label fake = 1 / real = 0 / None, cls a three-way class name or None
Verdict = tuple[int | None, str | None]

_STATEMENT = re.compile(
    r"\b(?:image|photo|picture)\s+(?:is|looks|appears(?:\s+to\s+be)?)\s+(not\s+)?(?:a\s+|an\s+)?"
    r"(real|fake|authentic|genuine|synthetic|ai-generated|generated)\b",
    re.I,
)
_LABEL_WORDS = {"real": REAL, "authentic": REAL, "genuine": REAL, "fake": FAKE, "synthetic": FAKE, "ai-generated": FAKE, "generated": FAKE}


def _sentence_verdict(sentence: str) -> int | None:
    lowered = sentence.lower()
    if "real" in lowered:
        return REAL
    if "fake" in lowered:
        return FAKE
    return None


def first_sentences_verdict(text: str | None, sentences: int = 2) -> int | None:
    """The first sentence (up to the first '.'), lower-cased, 'real' checked before 'fake'; then
    the same on the next sentence, up to ``sentences``; otherwise no verdict."""
    for sentence in (text or "").split(".")[:sentences]:
        verdict = _sentence_verdict(sentence)
        if verdict is not None:
            return verdict
    return None


def generic_binary(text: str | None) -> int | None:
    """A verdict from free text of any model: the last explicit statement ("this image is fake",
    "the photo looks real", "the image is not real"), else :func:`first_sentences_verdict`.
    None when neither finds one."""
    matches = _STATEMENT.findall(text or "")
    if matches:
        negated, word = matches[-1]
        label = _LABEL_WORDS[word.lower()]
        return 1 - label if negated else label
    return first_sentences_verdict(text)


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


def class_reparse(parse: Callable[[str], str | None], name: str) -> Callable[[Prediction, Truth], Prediction]:
    """A protocol's re-parse that reads the three-way class from the stored raw output with ``parse``
    (text -> ``real`` / ``full_synthetic`` / ``tampered`` or None) and derives the verdict from it.

    ``name`` is recorded as the rule in the protocol's settings. A prediction without raw output
    keeps its own class; an output ``parse`` finds no class in is unparsed, with no verdict.
    """

    def reparse(pred: Prediction, truth: Truth) -> Prediction:
        if pred.raw_output is None:
            return pred
        cls = parse(pred.raw_output)
        if cls is None:
            return replace(pred, cls=None, label=None, parse_ok=False)
        return replace(pred, cls=cls, label=label_of_class(cls), parse_ok=pred.error is None)

    reparse.__qualname__ = name
    return reparse
