"""The LOKI tasks: ``loki`` (yes/no judgement questions) and ``loki_explain`` (open-ended explanations).

A model's yes/no answer becomes a verdict with LOKI's parse rule and the polarity of the
question asked; the files are read by :mod:`fdrbench.tasks.loki.loader`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fdrbench.protocols import Aggregate, Protocol
from fdrbench.tasks.common.loading import DatasetTask, as_choice
from fdrbench.tasks.loki.loader import ANSWER_SUFFIX, ASK_FAKE_QUESTION, CATEGORIES, DOWNLOAD_HINT, explain_samples, judgement_samples
from fdrbench.tasks.loki.paper import loki_label, loki_yes_no
from fdrbench.types import Sample


class LokiTask(DatasetTask):
    """What both LOKI tasks share: the data folder and its one split."""

    download_hint = DOWNLOAD_HINT
    splits = ("test",)
    default_split = "test"


class Loki(LokiTask):
    name = "loki"
    version = "1"
    description = "LOKI image judgement: 4,434 yes/no questions on 2,217 real and AI-generated images in 7 categories"
    label_space = "binary"
    prompt = ASK_FAKE_QUESTION + ANSWER_SUFFIX
    group_keys = ("category", "asks")
    aggregates = {
        "total": Aggregate(
            "category",
            CATEGORIES,
            weighting="fakes",
            description=(
                "LOKI's total: per-category balanced accuracy (mean of fake- and real-image accuracy) "
                "weighted by each category's number of fake-image questions; read its balanced_accuracy"
            ),
        ),
    }

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: LOKI's own judgement scoring (its yes/no parse on the raw answer,
        category accuracy = mean of fake and real accuracy, total weighted by fake-image questions)."""
        from fdrbench.tasks.loki.paper import loki_paper

        return {
            **super().protocols(),
            "paper": loki_paper("category", asks_fake=lambda truth: truth.group.get("asks") == "fake"),
        }

    def prompt_for(self, sample: Sample) -> str:
        """The question as LOKI's evaluation sends it: the item's question plus the yes/no instruction."""
        return (sample.question or ASK_FAKE_QUESTION) + sample.meta.get("answer_suffix", ANSWER_SUFFIX)

    def parse_answer(self, text: str | None, sample: Sample) -> int | None:
        """LOKI's yes/no parse, then the polarity of the question asked: "yes" to "AI-generated?" is fake."""
        return loki_label(loki_yes_no(text), bool(sample.meta.get("asks_fake", True)))

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        yield from judgement_samples(self.context, data_dir)


class LokiExplain(LokiTask):
    """The 229 fake images with human global and regional annotations of what looks wrong.

    ``reference=all`` (default): the reference text is the global description followed by the
    regional ones, space-joined, and ``Reference.texts`` lists each description;
    ``reference=global`` uses the global description alone. Regions (pixels, ``[x, y, w, h]``)
    and their descriptions are in the reference parts, for judges that crop them.
    """

    name = "loki_explain"
    version = "1"
    description = "LOKI abnormal-explanation items: 229 AI-generated images with human global and regional annotations"
    label_space = "binary"
    has_reference_text = True
    group_keys = ()
    headline_metrics = ("accuracy", "failure_rate", "rouge_l", "css", "judge_score")
    extra_options = {"reference": "all"}

    #: every item carries its own (long) instruction, read from the data file; there is no task-wide one
    prompt = ""

    def judge_rubric(self, references: list) -> str | None:
        """LOKI's human annotations (a global note and regions with notes) are what the judge grades
        against: the annotation rubric, which shows the judge each region."""
        return "loki_explanation"

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        reference = as_choice(self.option("reference"), "reference", ("all", "global"))
        yield from explain_samples(self.context, data_dir, reference)
