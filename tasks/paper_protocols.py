"""Each paper's own scoring protocol, as a factory a task module calls in ``protocols()``.

A paper protocol re-derives verdicts from the stored ``raw_output`` with the paper's own parse
rule (:mod:`fdrbench.tasks.verdicts`), handles failures the paper's way and uses its metric
definitions, so any stored run can be scored as the paper would have, next to ``strict``.
A prediction without ``raw_output`` (a detector that states no text) keeps its own verdict.
Facts and their sources are in the README's metrics section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from fdrbench.protocols import LOCALIZATION_METRICS, TERNARY_METRICS, Aggregate, Protocol
from fdrbench.record import Truth
from fdrbench.tasks import verdicts
from fdrbench.types import Prediction, label_of_class

# --------------------------------------------------------------------------- MMFR (FakeReasoning)

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
    parsed = verdicts.fakereasoning(pred.raw_output)
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


# --------------------------------------------------------------------------- FakeClue and DD-VQA (FakeVLM)

FAKEVLM_DESCRIPTION = (
    "FakeVLM's evaluation: the text after the echoed question's last '?', first sentence lower-cased, 'real' "
    "checked before 'fake', then the second sentence; where neither states a verdict a deterministic coin keyed "
    "on the sample id replaces the scripts' random pick (counted in failure_rate); F1 with real as the positive "
    "class, as the published numbers imply; ROUGE-L with stemming and CSS with the encoder in the options "
    "(the paper names neither)."
)


def fakevlm_verdict(pred: Prediction, strip_prompt: bool = True, seed: int = 0) -> Prediction:
    """FakeVLM's first-sentence rule on the raw answer, with :func:`verdicts.coin` as the fallback."""
    if pred.raw_output is None:
        return pred
    text = verdicts.strip_echoed_prompt(pred.raw_output) if strip_prompt else pred.raw_output
    label = verdicts.fakevlm(text)
    explanation = text.strip() or None
    if label is None:
        return replace(pred, label=verdicts.coin(pred.sample_id, seed), cls=None, explanation=explanation, parse_ok=False)
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


# --------------------------------------------------------------------------- LOKI

LOKI_DESCRIPTION = (
    "LOKI's judgement protocol: per category, accuracy on fake-image and on real-image questions; the category "
    "accuracy is their mean (balanced_accuracy of the category group); the total is the mean of the category "
    "accuracies weighted by each category's number of fake-image questions (aggregate 'total'). Unparsed "
    "answers are wrong."
)


def loki_paper(category_key: str = "category", asks_fake: Callable[[Truth], bool] | None = None) -> Protocol:
    """LOKI paper protocol over the group key ``category_key``.

    With ``asks_fake`` (truth record -> True when the question asks whether the image is
    AI-generated) the verdict is re-derived with LOKI's yes/no parse; without it the adapter's
    verdict is used as stored.
    """
    reparse = None
    if asks_fake is not None:

        def reparse(pred: Prediction, truth: Truth) -> Prediction:
            if pred.raw_output is None:
                return pred
            label = verdicts.loki_label(verdicts.loki_yes_no(pred.raw_output), asks_fake(truth))
            return replace(pred, label=label, cls=None, parse_ok=label is not None and pred.error is None)

        reparse.__qualname__ = "loki_yes_no"
    return Protocol(
        "paper",
        LOKI_DESCRIPTION,
        metrics=("accuracy", "balanced_accuracy", "real_accuracy", "fake_accuracy", "failure_rate"),
        reparse=reparse,
        aggregates={
            "total": Aggregate(category_key, (), weighting="fakes", description="categories weighted by their fake-image questions")
        },
    )


# --------------------------------------------------------------------------- SID-Set (SIDA) and So-Fake

THREE_WAY_METRICS = (*TERNARY_METRICS, "failure_rate", *LOCALIZATION_METRICS)
SIDSET_DESCRIPTION = (
    "SIDA's evaluation on SID-Set: three-way class from SIDA's class head whenever the prediction has one "
    "(extra.class_source = head, in either mode), otherwise the class the output states; per-class accuracy "
    "(= recall) and one-vs-rest F1, 0 for a class with an empty denominator (test.py's zero division), overall "
    "accuracy as the mean class accuracy (macro_recall) and overall F1 as their macro mean over the three "
    "classes; localization on every ground-truth tampered image whatever its predicted class, masks compared "
    "at longest side 1024 (ground truth resized there before keeping 255), both per-image (giou) and "
    "cumulative (ciou) IoU. Unparsed outputs are wrong."
)
#: ``Prediction.extra`` key naming where a three-way class came from (``head`` or ``text``)
CLASS_SOURCE = "class_source"
SOFAKE_DESCRIPTION = (
    "So-Fake's evaluation: class from <answer>CLASS[,(x1,y1),(x2,y2)]</answer>, detection accuracy and F1, "
    "per-class figures and macro F1, localization F1 and both IoU variants (the paper leaves per-image vs "
    "cumulative open), ROUGE-L and CSS of the explanation (encoder in the options). Unparsed outputs are wrong."
)


def _class_reparse(parse: Callable[[str], str | None], name: str) -> Callable[[Prediction, Truth], Prediction]:
    def reparse(pred: Prediction, truth: Truth) -> Prediction:
        if pred.raw_output is None:
            return pred
        cls = parse(pred.raw_output)
        if cls is None:
            return replace(pred, cls=None, label=None, parse_ok=False)
        return replace(pred, cls=cls, label=label_of_class(cls), parse_ok=pred.error is None)

    reparse.__qualname__ = name
    return reparse


def sida_reparse() -> Callable[[Prediction, Truth], Prediction]:
    """SIDA's class head decides when it gave the class; text-only predictions are re-read."""
    from_text = _class_reparse(verdicts.sida_class, "sida_class")

    def reparse(pred: Prediction, truth: Truth) -> Prediction:
        if (pred.extra or {}).get(CLASS_SOURCE) == "head" and pred.cls is not None:
            return pred
        return from_text(pred, truth)

    reparse.__qualname__ = "sida_class_head_else_text"
    return reparse


def sidset_paper(mask_size: int | None = 1024) -> Protocol:
    """SID-Set paper protocol (SIDA's ``test.py`` metrics and the paper's table arithmetic)."""
    return Protocol(
        "paper",
        SIDSET_DESCRIPTION,
        metrics=THREE_WAY_METRICS,
        reparse=sida_reparse(),
        options={"mask_size": mask_size, "zero_division": 0},
    )


def sofake_paper(mask_size: int | None = None, css_encoder: str = "minilm", css_model: str | None = None) -> Protocol:
    """So-Fake paper protocol (So-Fake-R1's answer format)."""
    return Protocol(
        "paper",
        SOFAKE_DESCRIPTION,
        metrics=("accuracy", "f1", *THREE_WAY_METRICS, "rouge_l", "css"),
        reparse=_class_reparse(lambda text: verdicts.sofake_answer(text)[0], "sofake_answer"),
        options={"mask_size": mask_size, "rouge_stemmer": True, "css_encoder": css_encoder, "css_model": css_model},
    )
