"""The ``fakeclue`` task: FakeClue's test (and training) split with FakeVLM's prompt and protocol."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fdrbench.protocols import Protocol
from fdrbench.tasks.common.loading import DatasetTask, as_choice
from fdrbench.tasks.fakeclue.loader import DOWNLOAD_HINT, split_samples
from fdrbench.types import Sample

PROMPT = "Does the image looks real/fake?"
#: the question as the released records hold it
RAW_PROMPT = "<image>" + PROMPT


class FakeClue(DatasetTask):
    name = "fakeclue"
    version = "1"
    description = "FakeClue test set (FakeVLM): 5,000 images in 7 categories, with explanation references"
    label_space = "binary"
    has_reference_text = True
    prompt = PROMPT
    group_keys = ("category", "source")
    splits = ("test", "train")
    default_split = "test"
    download_hint = DOWNLOAD_HINT
    extra_options = {"reference": "answer"}

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: FakeVLM's evaluation (first-sentence verdict, F1 with real positive)."""
        from fdrbench.tasks.fakeclue.paper import fakevlm_paper

        return {**super().protocols(), "paper": fakevlm_paper()}

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        reference = as_choice(self.option("reference"), "reference", ("answer", "explanation"))
        yield from split_samples(self.context, data_dir, split, reference)
