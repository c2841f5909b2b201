"""``--task folder --data-dir D``: a folder of one's own images, read in the layouts people already use.

See :mod:`fdrbench.tasks.folder.loader` for the layouts. Group ``generator`` is the generator
folder's name (reals inside it are paired with it); aggregate ``AVG`` is the mean over generators.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fdrbench.protocols import Aggregate
from fdrbench.tasks.common.own_data import OwnDataTask, sample_of
from fdrbench.tasks.folder import loader
from fdrbench.types import FAKE, Reference, Sample

DOWNLOAD_HINT = "pass --data-dir, a folder with real/ and fake/ (or 0_real/ and 1_fake/) image folders, or one such pair per generator"


class FolderTask(OwnDataTask):
    """A folder of one's own images: ``{real,fake}/``, ``{0_real,1_fake}/`` or ``<generator>/{0_real,1_fake}/``."""

    name = "folder"
    version = "1"
    description = (
        "your own images: D/{real,fake}/, D/{0_real,1_fake}/ or D/<generator>/{0_real,1_fake}/, optional masks/ and explanations.jsonl"
    )
    prompt = "Is this image real or fake?"
    group_keys = ("generator",)
    aggregates = {"AVG": Aggregate("generator", (), description="mean over the generator folders")}
    download_hint = DOWNLOAD_HINT
    extra_options = {**OwnDataTask.extra_options, "subdir": None, "real_dirs": None, "fake_dirs": None}

    def samples(self, data_dir: Path, split: str) -> Iterator[Sample]:
        real = loader.names(self.option("real_dirs"), loader.REAL_DIRS, "real_dirs")
        fake = loader.names(self.option("fake_dirs"), loader.FAKE_DIRS, "fake_dirs")
        subdir = self.option("subdir")
        folders = loader.discover(data_dir, real, fake, str(subdir) if subdir else None, self.report)
        explanations = loader.read_explanations(data_dir)
        used: set[str] = set()
        for folder, image in loader.walk(data_dir, folders, self.report):
            sample_id = image.relative_to(data_dir).as_posix()
            mask_path = loader.find_mask(folder, image)
            mask = None
            if mask_path is not None and folder.label == FAKE:
                mask = self.mask_for(mask_path, sample_id, image)
            elif mask_path is not None:
                self.report.add("masks_of_real_images_ignored", sample_id)
            text = explanations.get(sample_id)
            if text is not None:
                used.add(sample_id)
            yield sample_of(
                self,
                sample_id,
                folder.label,
                None,
                image,
                data_dir,
                group={"generator": folder.generator} if folder.generator else {},
                mask=mask,
                reference=Reference(text=text) if text is not None else Reference(),
            )
        for missing in sorted(set(explanations) - used):
            self.report.add("explanations_without_image", missing)
