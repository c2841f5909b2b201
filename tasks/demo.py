"""The embedded demo benchmark: a smoke test of the whole pipeline, not a measure of detection skill.

Built on first use into ``$FDRBENCH_DATA/demo`` (or the user cache) by
:mod:`fdrbench.tasks.demo_synth`; the same seed gives the same bytes. Each split holds three
sets (``gan``, ``diffusion``, ``tampered``) of real and fake images in MMFR's layout, so
``--task mmfr_eval --data-dir <demo>/test`` reads the test split as well. ``fdrbench demo``
(fitting the CPU baseline on it and running it) is :mod:`fdrbench.adapters.baselines.demo`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from fdrbench.pathsafe import inside
from fdrbench.protocols import Aggregate
from fdrbench.tasks import demo_synth
from fdrbench.tasks.mmfr import MMFREval, evaluation_root, set_names
from fdrbench.types import Sample


class DemoTask(MMFREval):
    name = "demo"
    version = demo_synth.DEMO_VERSION
    description = "Embedded smoke benchmark from scikit-image photos: GAN-like, diffusion-like and tampered fakes"
    label_space = "ternary"
    group_keys = ("generator",)
    aggregates = {
        "synthetic": Aggregate("generator", ("gan", "diffusion"), description="mean of the two fully synthetic sets"),
        "AVG": Aggregate("generator", demo_synth.SETS, description="mean of all three sets"),
    }
    splits = ("train", "test")
    default_split = "test"
    download_hint = "the demo builds itself; delete the folder to rebuild it"
    has_masks = True

    def ensure_data(self, data_dir: Path) -> Path:
        """Build the demo on first use (or when the generator version changed)."""
        if not demo_synth.is_current(data_dir):
            demo_synth.build(data_dir, show_progress=sys.stderr.isatty())
        return data_dir

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        split_root = data_dir / split
        eval_root = evaluation_root(split_root)
        for set_name in set_names(eval_root):
            for key, label, path, attributes in self.iter_set(eval_root, set_name):
                sample = self.make_sample(key, label, path, attributes, split_root, set_name)
                if label == 0:
                    sample.cls = "real"
                elif set_name == "tampered":
                    sample.cls = "tampered"
                    mask = eval_root / set_name / "masks" / f"{path.stem}_mask.png"
                    sample.mask = inside(eval_root, mask, record=key) if mask.exists() else mask
                else:
                    sample.cls = "full_synthetic"
                yield sample
