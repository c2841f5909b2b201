"""The MMFR tasks: ``mmfr_eval`` (the ten evaluation sets) and ``mmfr_train`` (the training split).

What each declares (prompt, groups, aggregates, options, protocols, prepare step); the files are
read by :mod:`fdrbench.tasks.mmfr.loader`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from fdrbench.protocols import HEADLINE_METRICS, Aggregate, Protocol
from fdrbench.tasks.common.loading import DatasetTask, as_choice
from fdrbench.tasks.mmfr import loader
from fdrbench.tasks.mmfr.loader import DM_SETS, DOWNLOAD_HINT, GAN_SETS, MMFR_SETS
from fdrbench.tasks.mmfr.prepare import prepare_mmfr
from fdrbench.types import Sample

PROMPT = (
    "Is this image real or fake? Please describe the image, reasoning step-by-step and conclude with "
    "'this image is real' or 'this image is fake'."
)


class MMFREval(DatasetTask):
    name = "mmfr_eval"
    version = "2"
    description = "MMFR evaluation sets: 1,000 real + 1,000 fake per generator, with GPT-4o attribute reasoning"
    label_space = "binary"
    prompt = PROMPT
    group_keys = ("generator",)
    aggregates = {
        "DM": Aggregate("generator", DM_SETS, description="mean of the 8 diffusion/autoregressive sets"),
        "GAN": Aggregate("generator", GAN_SETS, description="mean of StyleGAN-XL and GigaGAN"),
        "AVG": Aggregate("generator", MMFR_SETS, description="mean of all 10 sets"),
    }
    splits = ("test",)
    default_split = "test"
    download_hint = DOWNLOAD_HINT
    extra_options = {"unannotated": "skip", "clip_path": None}
    local_options = ("clip_path",)
    has_reference_text = True
    headline_metrics = (*HEADLINE_METRICS, "bleu1", "rouge_l", "css")

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: FakeReasoning's own evaluation. Its CSS needs a CLIP folder:
        the ``clip_path`` option, else ``$FDRBENCH_CLIP_PATH`` (so a stored run can be re-scored
        with CLIP without re-running it); the folder used is recorded in the protocol's options."""
        from fdrbench.tasks.mmfr.paper import mmfr_paper

        clip_path = self.option("clip_path") or os.environ.get("FDRBENCH_CLIP_PATH") or None
        return {**super().protocols(), "paper": mmfr_paper(clip_path=clip_path)}

    #: ``fdrbench data prepare mmfr_eval --arg parts_dir=<folder of dataset.part*.tar> --arg out=<data dir>``
    prepare = staticmethod(prepare_mmfr)

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        yield from loader.evaluation_samples(self.context, data_dir, self.option("unannotated"))


class MMFRTrain(DatasetTask):
    """MMFR's training split (DiffusionDB fakes, LAION reals), for training recipes.

    ``source=cot`` (default) reads ``forgery_reasoning_cot.json``: one sample per conversation,
    labelled by the paper's rule on the ``<CONCLUSION>`` tag, with the CoT answer as reference
    and the matching attribute entry (if the reasoning files are present) in its parts.
    ``source=reasoning`` reads the two ``*_reasoning.json`` files: DiffusionDB entries are fake,
    LAION entries real, and the reference is built as for evaluation.
    """

    name = "mmfr_train"
    version = "1"
    description = "MMFR training split: DiffusionDB fakes and LAION reals with CoT and attribute reasoning"
    label_space = "binary"
    prompt = PROMPT
    group_keys = ("source",)
    splits = ("train",)
    default_split = "train"
    download_hint = DOWNLOAD_HINT
    extra_options = {"source": "cot", "reasoning_keys": "auto"}
    #: the training split comes from the same archive
    prepare = staticmethod(prepare_mmfr)

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        source = as_choice(self.option("source"), "source", ("cot", "reasoning"))
        read = loader.cot_samples if source == "cot" else loader.reasoning_samples
        yield from read(self.context, data_dir, self.option("reasoning_keys"))
