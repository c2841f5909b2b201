"""FakeReasoning's evaluation on MMFR: its verdict rule and its scoring protocol.

The rule is used twice and written once: the FakeReasoning adapter fills ``Prediction.label``
with it, and the ``paper`` protocol re-derives every verdict from the stored ``raw_output``
with it, so any stored run is scored as the paper's script would score it, next to ``strict``.
A prediction without ``raw_output`` (a detector that states no text) keeps its own verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from fdrbench.protocols import Protocol
from fdrbench.record import Truth
from fdrbench.tasks.mmfr.loader import tag_content
from fdrbench.types import FAKE, REAL, Prediction


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
    conclusion = tag_content(text, "CONCLUSION")
    label = None
    if conclusion is not None:
        if "This image is fake." in conclusion:
            label = FAKE
        elif "This image is real." in conclusion:
            label = REAL
    return FakeReasoningParse(label, tag_content(text, "REASONING"), conclusion)


MMFR_DESCRIPTION = (
    "FakeReasoning's evaluation on MMFR: the verdict is 'This image is fake.' / 'This image is real.' inside "
    "<CONCLUSION> and a <REASONING> tag must exist, otherwise the sample is a failure and left out of every "
    "metric but failure_rate; the explanation is the REASONING content, an empty one included (BLEU and "
    "ROUGE 0, CSS the cosine with the empty string's embedding); a sample whose attributes are all null "
    "has the empty reference and counts in the text means; BLEU-1 on whitespace tokens without smoothing, "
    "ROUGE-L F-measure with stemming, CSS = cosine of CLIP text embeddings truncated at 77 tokens; "
    "DM / GAN / AVG are plain means of the generator sets."
)


def fakereasoning_reparse(pred: Prediction, truth: Truth) -> Prediction:
    """Verdict from ``<CONCLUSION>``, explanation from ``<REASONING>``; unparsed unless both exist."""
    if pred.raw_output is None:
        return pred
    parsed = fakereasoning(pred.raw_output)
    return replace(pred, label=parsed.label, cls=None, explanation=parsed.reasoning, parse_ok=parsed.ok)


def mmfr_paper(clip_path: str | None = None) -> Protocol:
    """MMFR paper protocol; ``clip_path`` is a CLIP folder (the paper used clip-vit-large-patch14-336)."""
    return Protocol(
        "paper",
        MMFR_DESCRIPTION,
        failure_policy="exclude",
        metrics=("accuracy", "real_accuracy", "fake_accuracy", "failure_rate", "bleu1", "rouge_l", "css"),
        reparse=fakereasoning_reparse,
        options={
            "text_lowercase": False,
            "bleu_tokenizer": "whitespace",
            "bleu_smoothing": None,
            "rouge_stemmer": True,
            "css_encoder": "clip",
            "css_model": clip_path,
            "css_max_tokens": 77,
            "score_empty_text": True,
        },
    )
