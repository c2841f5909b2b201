"""``fdrbench demo``: build the embedded demo benchmark, fit the spectral baseline if needed, run and score it.

It lives beside the baseline because it joins an adapter to a task (an adapter may use a task;
a task never uses an adapter), and the ``demo`` command starts it.
"""

from __future__ import annotations

from pathlib import Path

from fdrbench.adapters.baselines.spectral import SpectralDetector, SpectralModel, default_weights
from fdrbench.api.detector import TrainContext
from fdrbench.fingerprints import fingerprint_samples
from fdrbench.pipeline import RunConfig, RunResult, run
from fdrbench.tasks.demo import DemoTask
from fdrbench.tasks.demo import synth as demo_synth


def run_demo(out: Path = Path("results"), rebuild: bool = False, n_boot: int = 1000, show_progress: bool = True) -> RunResult:
    """Build the data, fit the spectral baseline if needed, run and score it."""
    task = DemoTask()
    data_dir = task.default_data_dir()
    if rebuild or not demo_synth.is_current(data_dir):
        demo_synth.build(data_dir, show_progress=show_progress)
    weights = default_weights(task.name)
    train_fingerprint = fingerprint_samples(task.load(data_dir, "train"))
    fitted = None
    if weights.is_file() and not rebuild:
        try:
            fitted = SpectralModel.from_file(weights).meta.get("trained_on", {}).get("data_fingerprint")
        except Exception:  # an unreadable or outdated weights file is simply re-fitted
            fitted = None
    if fitted != train_fingerprint:
        SpectralDetector.train(TrainContext(task=task, data_dir=data_dir, split="train", out=weights, show_progress=show_progress))
    return run(
        RunConfig(model="spectral", task=task.name, out=Path(out), batch_size=16, device="cpu", n_boot=n_boot, show_progress=show_progress)
    )
