"""Each paper's rule for reading a verdict out of generated text, in one place.

Adapters use these to fill ``Prediction.label`` and paper protocols use them to re-derive
verdicts from stored raw output, so a rule is written once and both agree. Every rule returns
fdrbench's convention (fake = 1, real = 0) or None when the text states no verdict.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from fdrbench.types import FAKE, REAL
from fdrbench.verdicts import first_sentences_verdict

_CONCLUSION = re.compile(r"<CONCLUSION>(.*?)</CONCLUSION>", re.S)
_REASONING = re.compile(r"<REASONING>(.*?)</REASONING>", re.S)


@dataclass(frozen=True)
class FakeReasoningParse:
    label: int | None
    reasoning: str | None
    conclusion: str | None

    @property
    def ok(self) -> bool:
        """The paper counts a sample only when both the verdict and the REASONING tag are present."""
        return self.label is not None and self.reasoning is not None


def fakereasoning(text: str | None) -> FakeReasoningParse:
    """MMFR's evaluation rule: ``<CONCLUSION>`` must contain exactly ``This image is fake.`` or
    ``This image is real.`` (case-sensitive, with the period), and ``<REASONING>`` must exist."""
    text = text or ""
    c = _CONCLUSION.search(text)
    r = _REASONING.search(text)
    conclusion = c.group(1).strip() if c else None
    label = None
    if conclusion is not None:
        if "This image is fake." in conclusion:
            label = FAKE
        elif "This image is real." in conclusion:
            label = REAL
    return FakeReasoningParse(label, r.group(1).strip() if r else None, conclusion)


def fakevlm(text: str | None) -> int | None:
    """FakeVLM's rule: the first sentence (up to the first '.'), lower-cased, 'real' checked
    before 'fake'; then the same on the second sentence; otherwise no verdict. It is the
    engine's generic first-sentences rule, which it inspired.

    The released scripts then pick a label at random; see :func:`coin` for the deterministic
    stand-in used by the paper protocol.
    """
    return first_sentences_verdict(text, sentences=2)


def strip_echoed_prompt(text: str) -> str:
    """FakeVLM's HF evaluation keeps only the text after the last '?' (the echoed question)."""
    return text.rsplit("?", 1)[-1] if "?" in text else text


def coin(sample_id: str, seed: int = 0) -> int:
    """A fair, deterministic coin keyed on the sample id: same answer on every re-score."""
    return hashlib.sha256(f"{seed}:{sample_id}".encode()).digest()[0] & 1


def loki_yes_no(text: str | None) -> str | None:
    """LOKI's judgement parse: 'yes'/'no' exactly, a single y/n, or yes/no in the first 4 characters."""
    s = (text or "").lower().strip().replace(".", "")
    if s in ("yes", "no"):
        return s
    if len(s) == 1:
        return {"y": "yes", "n": "no"}.get(s)
    head = s[:4]
    if "yes" in head:
        return "yes"
    if "no" in head:
        return "no"
    return None


def loki_label(answer: str | None, asks_fake: bool) -> int | None:
    """Turn a yes/no answer into a verdict: 'yes' to "is it AI-generated?" means fake."""
    if answer is None:
        return None
    says_yes = answer == "yes"
    return FAKE if says_yes == asks_fake else REAL


_SIDA_CLS = re.compile(r"(?:classified as|the image is)\s+(real|full synthetic|tampered)", re.I)


def sida_class(text: str | None) -> str | None:
    """SIDA's stated class from ``[CLS] The image is ...`` or the canned ``classified as ...`` text."""
    match = _SIDA_CLS.search(text or "")
    if not match:
        return None
    return match.group(1).lower().replace(" ", "_")


_SOFAKE = re.compile(
    r"<answer>\s*(REAL|TAMPERED|FULL_SYNTHETIC)\s*(?:,\s*\((\d+(?:\.\d+)?),\s*(\d+(?:\.\d+)?)\)\s*,\s*\((\d+(?:\.\d+)?),\s*(\d+(?:\.\d+)?)\))?\s*\.?\s*</answer>",
    re.I,
)


def sofake_answer(text: str | None) -> tuple[str | None, tuple[float, float, float, float] | None]:
    """So-Fake-R1's ``<answer>CLASS[,(x1,y1),(x2,y2)]</answer>``: the class and the box, if any."""
    match = _SOFAKE.search(text or "")
    if not match:
        return None, None
    cls = match.group(1).lower()
    box = tuple(float(v) for v in match.groups()[1:]) if match.group(2) is not None else None
    return cls, box
