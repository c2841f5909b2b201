"""The ``sidset`` task: SID-Set's three-way classes and tampering masks, from the Drive folders or parquet.

``format=auto`` (default) reads a split folder when there is one, else the parquet files
(``format=folders`` / ``format=parquet`` insist on one); ``--task-arg hub=true`` reads the
parquet files of the Hub dataset. The files are read by :mod:`fdrbench.tasks.sidset.loader`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fdrbench.protocols import Protocol
from fdrbench.tasks.common.loading import SplitNotFound, as_choice
from fdrbench.tasks.common.parquet import ParquetSourceTask
from fdrbench.tasks.sidset.loader import DOWNLOAD_HINT, HUB_REPO, MISSING_MASK_POLICIES, folder_samples, parquet_samples, split_folder
from fdrbench.tasks.sidset.paper import sida_class
from fdrbench.types import Sample, label_of_class
from fdrbench.verdicts import generic_binary

PROMPT = "Can you identify if this image is real, full synthetic, or tampered image? Please mask the tampered regions if it is tampered."


class SIDSet(ParquetSourceTask):
    name = "sidset"
    version = "2"  # 2: ground-truth masks on SIDA's 1024 grid (resized, then == 255)
    description = "SID-Set (SIDA): real / fully synthetic / tampered images with tampering masks"
    label_space = "ternary"
    has_masks = True
    prompt = PROMPT
    group_keys = ()
    headline_metrics = ("accuracy", "macro_f1", "balanced_accuracy", "f1", "ap", "roc_auc", "giou", "ciou", "failure_rate")
    splits = ("train", "validation", "test")
    default_split = "test"
    download_hint = DOWNLOAD_HINT
    hub_repo = HUB_REPO
    extra_options = {**ParquetSourceTask.extra_options, "format": "auto", "missing_mask": "drop"}

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: SIDA's evaluation (per-class figures, macro F1, both IoUs at 1024)."""
        from fdrbench.tasks.sidset.paper import sidset_paper

        return {**super().protocols(), "paper": sidset_paper()}

    def parse_answer(self, text: str | None, sample: Sample) -> int | None:
        """SIDA's stated class (``[CLS] The image is ...`` / ``classified as ...``), else a generic verdict."""
        cls = sida_class(text)
        return label_of_class(cls) if cls else generic_binary(text)

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        form = as_choice(self.option("format"), "format", ("auto", "folders", "parquet"))
        missing_mask = as_choice(self.option("missing_mask"), "missing_mask", MISSING_MASK_POLICIES)
        if form != "parquet" and not self.hub_id():
            folder = split_folder(data_dir, split)
            if folder is not None:
                yield from folder_samples(self.context, folder, data_dir, split, missing_mask)
                return
            if form == "folders":
                raise SplitNotFound(f"no {split}/ folder (looked in the folder and in SID_Set/)", path=data_dir, hint=DOWNLOAD_HINT)
        root, files = self.parquet_source(data_dir, split)
        if not files:
            raise SplitNotFound(f"no {split}/ folder and no parquet files for split {split!r}", path=root, hint=DOWNLOAD_HINT)
        yield from parquet_samples(self.context, root, files, missing_mask)
