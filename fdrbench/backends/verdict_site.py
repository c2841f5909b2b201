"""Where an answer states its verdict, and the verdict probability the model's scores give there.

A generative detector writes its verdict as a word ("... this image is *fake*", "*Yes*", "This is
a *real* image"). The word that decides the verdict is found with the task's own parse rule:
each occurrence of a verdict word is replaced in turn by every other verdict word, and the first
occurrence whose replacement changes what the rule reads is the verdict site. The same
substitutions say which verdict each candidate word would have stated there, so the model's
scores for those words at that position become a distribution over verdicts. This works for any
parse rule: "real" checked before "fake" in the first sentence, the last explicit statement, a
verdict inside a tag, yes/no questions of either polarity, and negations ("the image is not real").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from fdrbench.types import FAKE, TERNARY_CLASSES
from fdrbench.verdicts import Verdict

BINARY_WORDS = ("real", "fake", "authentic", "genuine", "synthetic", "generated", "yes", "no")
TERNARY_WORDS = (*BINARY_WORDS, "tampered", "manipulated", "edited", "full synthetic", "fully synthetic", "full_synthetic")


@dataclass(frozen=True)
class VerdictSite:
    """The occurrence of a verdict word that decides the parsed verdict."""

    start: int
    end: int
    text: str
    verdict: Verdict
    #: candidate word (cased as it would appear here) -> the verdict the answer would state with it
    outcomes: dict[str, Verdict]


def match_case(template: str, word: str) -> str:
    """``word`` written in the case style of ``template`` (lower, Capitalised or UPPER)."""
    if len(template) > 1 and template.isupper():
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word.lower()


def _pattern(words: Iterable[str]) -> re.Pattern:
    ordered = sorted({w.lower() for w in words}, key=len, reverse=True)
    body = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered)
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.IGNORECASE)


def has_verdict(verdict: Verdict | None) -> bool:
    return verdict is not None and (verdict[0] is not None or verdict[1] is not None)


def find_verdict_site(text: str, parse: Callable[[str], Verdict], words: Sequence[str]) -> VerdictSite | str:
    """The deciding occurrence of a verdict word in ``text``, or the reason there is none."""
    verdict = parse(text)
    if not has_verdict(verdict):
        return "the answer states no verdict the parse rule can read"
    for match in _pattern(words).finditer(text):
        found = match.group(0)
        outcomes: dict[str, Verdict] = {}
        for word in words:
            written = match_case(found, word)
            outcomes[written] = parse(text[: match.start()] + written + text[match.end() :])
        if any(outcome != verdict for outcome in outcomes.values()):
            return VerdictSite(match.start(), match.end(), found, verdict, outcomes)
    return "no verdict word in the answer decides the parsed verdict"


def verdict_probabilities(scored: Sequence[tuple[Verdict, float]], temperature: float = 1.0) -> dict[Verdict, float]:
    """Softmax over the candidates' scores (logits or log-probabilities) divided by ``temperature``,
    summed per verdict. Candidates that state no verdict must be left out by the caller."""
    if temperature <= 0:
        raise ValueError(f"verdict temperature must be positive, got {temperature}")
    if not scored:
        return {}
    top = max(score for _, score in scored) / temperature
    weights = [(verdict, math.exp(score / temperature - top)) for verdict, score in scored]
    total = sum(w for _, w in weights)
    out: dict[Verdict, float] = {}
    for verdict, w in weights:
        out[verdict] = out.get(verdict, 0.0) + w / total
    return out


def summarize(probs: Mapping[Verdict, float], with_classes: bool) -> tuple[float | None, dict[str, float] | None]:
    """``(p_fake, class_probs)`` from a distribution over verdicts.

    ``p_fake`` is the mass of verdicts whose label is fake. ``class_probs`` (three-way tasks whose
    answer names a class at the site) is the distribution over the classes named by the candidates
    that name one, renormalised; None when fewer than two classes were candidates.
    """
    if not probs:
        return None, None
    p_fake = sum(p for (label, _), p in probs.items() if label == FAKE)
    class_probs = None
    if with_classes:
        by_class: dict[str, float] = {}
        for (_, cls), p in probs.items():
            if cls is not None:
                by_class[cls] = by_class.get(cls, 0.0) + p
        total = sum(by_class.values())
        if len(by_class) >= 2 and total > 0:
            class_probs = {cls: by_class.get(cls, 0.0) / total for cls in TERNARY_CLASSES}
    return min(max(p_fake, 0.0), 1.0), class_probs


def wants_classes(site: VerdictSite, label_space: str) -> bool:
    """Class probabilities are read only where a three-way answer names a class at the site."""
    return label_space == "ternary" and site.verdict[1] is not None
