"""The demo task: MMFR's layout and protocols over the demo's three sets, with three-way classes and masks."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from fdrbench.pathsafe import inside
from fdrbench.protocols import Aggregate
from fdrbench.tasks.demo import synth
from fdrbench.tasks.mmfr import loader as mmfr_loader
from fdrbench.tasks.mmfr.task import MMFREval
from fdrbench.types import Sample


class DemoTask(MMFREval):
    name = "demo"
    version = synth.DEMO_VERSION
    description = "Embedded smoke benchmark from scikit-image photos: GAN-like, diffusion-like and tampered fakes"
    label_space = "ternary"
    group_keys = ("generator",)
    aggregates = {
        "synthetic": Aggregate("generator", ("gan", "diffusion"), description="mean of the two fully synthetic sets"),
        "AVG": Aggregate("generator", synth.SETS, description="mean of all three sets"),
    }
    splits = ("train", "test")
    default_split = "test"
    download_hint = "the demo builds itself; delete the folder to rebuild it"
    has_masks = True

    def ensure_data(self, data_dir: Path) -> Path:
        """Build the demo on first use (or when the generator version changed)."""
        if not synth.is_current(data_dir):
            synth.build(data_dir, show_progress=sys.stderr.isatty())
        return data_dir

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        split_root = data_dir / split
        eval_root = mmfr_loader.evaluation_root(split_root)
        for set_name in mmfr_loader.set_names(eval_root):
            for key, label, path, attributes in mmfr_loader.iter_set(self.context, eval_root, set_name, self.option("unannotated")):
                sample = mmfr_loader.evaluation_sample(key, label, path, attributes, split_root, set_name)
                if label == 0:
                    sample.cls = "real"
                elif set_name == "tampered":
                    sample.cls = "tampered"
                    mask = eval_root / set_name / "masks" / f"{path.stem}_mask.png"
                    sample.mask = inside(eval_root, mask, record=key) if mask.exists() else mask
                else:
                    sample.cls = "full_synthetic"
                yield sample
