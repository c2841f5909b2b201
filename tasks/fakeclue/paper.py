"""FakeVLM's evaluation, published with FakeClue: its verdict rule and its scoring protocol.

The FakeVLM adapter reads verdicts with these rules and the ``paper`` protocol re-derives them
from the stored ``raw_output``, so a rule is written once and both agree. DD-VQA's paper
protocol is this one too (FakeVLM evaluated DD-VQA with the same script).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from fdrbench.protocols import Protocol
from fdrbench.record import Truth
from fdrbench.types import Prediction
from fdrbench.verdicts import first_sentences_verdict


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


FAKEVLM_DESCRIPTION = (
    "FakeVLM's evaluation: the text after the echoed question's last '?', first sentence lower-cased, 'real' "
    "checked before 'fake', then the second sentence; where neither states a verdict a deterministic coin keyed "
    "on the sample id replaces the scripts' random pick (counted in failure_rate); F1 with real as the positive "
    "class, as the published numbers imply; ROUGE-L with stemming and CSS with the encoder in the options "
    "(the paper names neither)."
)


def fakevlm_verdict(pred: Prediction, strip_prompt: bool = True, seed: int = 0) -> Prediction:
    """FakeVLM's first-sentence rule on the raw answer, with :func:`coin` as the fallback."""
    if pred.raw_output is None:
        return pred
    text = strip_echoed_prompt(pred.raw_output) if strip_prompt else pred.raw_output
    label = fakevlm(text)
    explanation = text.strip() or None
    if label is None:
        return replace(pred, label=coin(pred.sample_id, seed), cls=None, explanation=explanation, parse_ok=False)
    return replace(pred, label=label, cls=None, explanation=explanation, parse_ok=pred.error is None)


def fakevlm_paper(strip_prompt: bool = True, seed: int = 0, css_encoder: str = "minilm", css_model: str | None = None) -> Protocol:
    """FakeClue / DD-VQA paper protocol (FakeVLM's Acc, F1 with real positive, ROUGE-L, CSS)."""

    def reparse(pred: Prediction, truth: Truth) -> Prediction:
        return fakevlm_verdict(pred, strip_prompt, seed)

    reparse.__qualname__ = f"fakevlm_verdict(strip_prompt={strip_prompt}, seed={seed})"
    return Protocol(
        "paper",
        FAKEVLM_DESCRIPTION,
        failure_policy="fallback",
        positive_class="real",
        metrics=("accuracy", "f1", "real_accuracy", "fake_accuracy", "failure_rate", "rouge_l", "css"),
        reparse=reparse,
        options={"rouge_stemmer": True, "css_encoder": css_encoder, "css_model": css_model},
    )
