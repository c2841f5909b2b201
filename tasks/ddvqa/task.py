"""The ``ddvqa`` task: DD-VQA's questions on FF++ frames, one sample per question or per image.

``questions=all`` (default): one sample per question, each on its own frame (label still the
image's), as FakeVLM's maintainers describe their DD-VQA evaluation (FakeVLM issue #3: every
question of a video was shown its own frame, in order from the first): the 1,323 test questions
its paper preset scores. ``questions=image``: one sample per key, the image-level question, all
its reference answers in ``Reference.texts`` (``Reference.text`` is the first) and every
question's answers in the parts. The files are read by :mod:`fdrbench.tasks.ddvqa.loader`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fdrbench.protocols import Protocol
from fdrbench.tasks.common.loading import DatasetTask, as_choice
from fdrbench.tasks.ddvqa.loader import split_samples
from fdrbench.tasks.ddvqa.prepare import prepare_ddvqa
from fdrbench.types import Sample

PROMPT = "Does the image looks real/fake?"
DOWNLOAD_HINT = (
    "clone github.com/Reality-Defender/Research-DD-VQA into <folder> (giving <folder>/DQ_FF++/), extract FF++ frames, "
    "then run `fdrbench data prepare ddvqa --arg data_dir=<folder> --arg frames_root=<FF++ frames root>` and pass --data-dir <folder>"
)


class DDVQA(DatasetTask):
    name = "ddvqa"
    version = "2"  # 2: per-question samples by default (was the image-level question)
    description = "DD-VQA: FF++ face frames with the image-level real/fake question and human-written reference answers"
    label_space = "binary"
    has_reference_text = True
    prompt = PROMPT
    group_keys = ("manipulation",)
    splits = ("test", "train")
    default_split = "test"
    download_hint = DOWNLOAD_HINT
    extra_options = {"questions": "all"}

    def __init__(self, **options):
        super().__init__(**options)
        if self.option("questions") == "all":
            self.group_keys = ("manipulation", "part")

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: FakeVLM's evaluation of DD-VQA (echoed prompt cut at its last '?' as its
        ``eval.py`` does, first-sentence verdict, F1 with real positive), on per-question samples."""
        from fdrbench.tasks.ddvqa.paper import ddvqa_paper

        return {**super().protocols(), "paper": ddvqa_paper(self.option("questions"))}

    #: ``fdrbench data prepare ddvqa``: place the FF++ frame of every question (see :mod:`.prepare`)
    prepare = staticmethod(prepare_ddvqa)

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        questions = as_choice(self.option("questions"), "questions", ("image", "all"))
        yield from split_samples(self.context, data_dir, split, questions)
