"""Generic rules for reading a verdict out of any model's free text (fake = 1, real = 0, None).

The engine's defaults, used by ``Task.parse_answer`` / ``Task.parse_class`` when a benchmark
defines no rule of its own; a benchmark's published rules live with the benchmark.
"""

from __future__ import annotations

import re

from fdrbench.types import FAKE, REAL, label_of_class

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
