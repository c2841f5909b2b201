"""LOKI's judgement evaluation: its yes/no parse rule and its scoring protocol.

``Loki.parse_answer`` and the ``paper`` protocol both read answers with :func:`loki_yes_no`
and :func:`loki_label`, so an adapter's verdict and a re-scored one agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from fdrbench.protocols import Aggregate, Protocol
from fdrbench.record import Truth
from fdrbench.types import FAKE, REAL, Prediction


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
            label = loki_label(loki_yes_no(pred.raw_output), asks_fake(truth))
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
