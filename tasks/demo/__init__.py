"""The embedded demo benchmark: a smoke test of the whole pipeline, not a measure of detection skill.

Built on first use into ``$FDRBENCH_DATA/demo`` (or the user cache) by ``synth``; the same seed
gives the same bytes. Each split holds three sets (``gan``, ``diffusion``, ``tampered``) of real
and fake images in MMFR's layout, so ``--task mmfr_eval --data-dir <demo>/test`` reads the test
split as well, and ``task`` reads it with MMFR's loader. The demo is its own miniature release:
``synth.build`` is what the tests load. ``fingerprints.json`` holds its official fingerprints.
``fdrbench demo`` (fitting the CPU baseline on it and running it) is
:mod:`fdrbench.adapters.baselines.demo`.
"""

from fdrbench.tasks.demo.task import DemoTask

__all__ = ["DemoTask"]
