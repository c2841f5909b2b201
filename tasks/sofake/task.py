"""The ``sofake_ood`` task: So-Fake-OOD's three-way test split with masks, from local parquet or the Hub.

``--task-arg label_names=real,tampered,full_synthetic`` gives the class map where the files do
not carry it; ``hub=true`` (and ``revision=<commit>``) reads the Hub dataset. The files are read
by :mod:`fdrbench.tasks.sofake.loader`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fdrbench.protocols import Protocol
from fdrbench.tasks.common.loading import SplitNotFound
from fdrbench.tasks.common.parquet import ParquetSourceTask
from fdrbench.tasks.sofake.loader import DOWNLOAD_HINT, HUB_REPO, class_names, rows
from fdrbench.tasks.sofake.paper import sofake_answer
from fdrbench.types import Sample, label_of_class
from fdrbench.verdicts import generic_binary

#: the visible part of So-Fake-R1's prompt, verbatim (the paper's figure elides the middle with "...")
PROMPT = (
    "Please carefully describe the content of this image and classify it as REAL, TAMPERED, or FULL_SYNTHETIC..."
    "Additionally, if the image is TAMPERED, output the one bbox to depict the tampered area"
)


class SoFakeOOD(ParquetSourceTask):
    name = "sofake_ood"
    version = "2"  # 2: mask foreground decided from each mask's values (was > 127)
    description = "So-Fake-OOD: Reddit reals, commercial-generator fakes and tampered images (three-way, masks)"
    label_space = "ternary"
    has_masks = True
    prompt = PROMPT
    group_keys = ("generator",)
    headline_metrics = ("accuracy", "macro_f1", "balanced_accuracy", "f1", "ap", "roc_auc", "giou", "ciou", "failure_rate")
    splits = ("test",)
    default_split = "test"
    download_hint = DOWNLOAD_HINT
    hub_repo = HUB_REPO
    extra_options = {**ParquetSourceTask.extra_options, "label_names": None}

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: So-Fake's evaluation (its answer format, per-class figures, both IoUs)."""
        from fdrbench.tasks.sofake.paper import sofake_paper

        return {**super().protocols(), "paper": sofake_paper()}

    def parse_answer(self, text: str | None, sample: Sample) -> int | None:
        """So-Fake-R1's ``<answer>CLASS...</answer>``, else a generic verdict."""
        cls, _ = sofake_answer(text)
        return label_of_class(cls) if cls else generic_binary(text)

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        root, files = self.parquet_source(data_dir, split)
        if not files:
            raise SplitNotFound(f"no parquet files for split {split!r} (expected data/{split}-*.parquet)", path=root, hint=DOWNLOAD_HINT)
        names, source = class_names(root, files, self.option("label_names"))
        yield from rows(self.context, root, files, names, source)
