"""The options ``fdrbench run`` and ``fdrbench robustness`` share, declared once, and the run settings they make.

A sweep is a series of runs, so it takes the very options of ``fdrbench run`` (with the same
meaning and defaults); declaring them here keeps the two commands from drifting apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # pragma: no cover
    from fdrbench.resolve import RunConfig

MODEL = typer.Option(..., "--model", "-m", help="Adapter name (fdrbench list models), 'pkg.module:Class' or 'file.py:Class'.")
TASK = typer.Option(..., "--task", "-t", help="Task name (fdrbench list tasks).")
DATA_DIR = typer.Option(None, "--data-dir", "-d", help="Dataset folder; default $FDRBENCH_DATA/<task> or the user cache.")
SPLIT = typer.Option(None, help="Split to evaluate; the task's default when omitted.")
LIMIT = typer.Option(None, help="Evaluate a seeded, label-stratified subset of this many samples.")
BATCH_SIZE = typer.Option(8, "--batch-size", "-b", min=1, help="Samples per predict() call.")
OUT = typer.Option(Path("results"), "--out", "-o", help="Results root; the run goes to <out>/<task>/<model>/<run_id>/.")
RUN_ID = typer.Option(None, help="Run folder name; default derived from the settings, so a re-run resumes.")
NAME = typer.Option(None, help="Model name for the results folder and leaderboard (default: the adapter's).")
SEED = typer.Option(0, help="Seed for sampling, subsets, perturbations that draw, and bootstrap intervals.")
DEVICE = typer.Option("auto", help="auto, cpu, cuda, cuda:N or mps.")
MODEL_ARG = typer.Option(None, "--model-arg", "-M", help="Adapter setting key=value (repeatable).")
TASK_ARG = typer.Option(None, "--task-arg", "-T", help="Task option key=value (repeatable).")
MAX_FAILURES = typer.Option("10%", help="Stop after more failed samples than this count or percentage; 'none' for no limit.")
PROTOCOL = typer.Option(None, "--protocol", "-p", help="Scoring protocol(s); default all the task defines.")
N_BOOT = typer.Option(1000, min=0, help="Bootstrap resamples for confidence intervals (0 disables them).")
RETRY_FAILED = typer.Option(False, help="Predict again the samples that failed with an error in an earlier session.")
SKIP_MISSING = typer.Option(False, help="Skip samples whose image file is missing (counted and reported) instead of stopping.")
PROGRESS = typer.Option(True, help="Show a progress bar.")


def run_config(
    *,
    model: str,
    task: str,
    data_dir: Path | None,
    split: str | None,
    limit: int | None,
    batch_size: int,
    out: Path,
    run_id: str | None,
    name: str | None,
    seed: int,
    device: str,
    model_arg: list[str] | None,
    task_arg: list[str] | None,
    max_failures: str,
    protocol: list[str] | None,
    n_boot: int,
    retry_failed: bool,
    skip_missing: bool,
    progress: bool,
    perturb: str | None = None,
) -> RunConfig:
    """The :class:`~fdrbench.resolve.RunConfig` of the shared options as typed on the command line."""
    from fdrbench.kvargs import parse_kv_args
    from fdrbench.resolve import RunConfig

    task_args = parse_kv_args(task_arg, "--task-arg")
    if skip_missing:
        task_args["skip_missing"] = True
    return RunConfig(
        model=model,
        task=task,
        model_args=parse_kv_args(model_arg),
        task_args=task_args,
        data_dir=data_dir,
        split=split,
        limit=limit,
        batch_size=batch_size,
        out=out,
        run_id=run_id,
        name=name,
        seed=seed,
        device=device,
        max_failures=None if max_failures.lower() == "none" else max_failures,
        protocols=protocol or None,
        n_boot=n_boot,
        show_progress=progress,
        retry_failed=retry_failed,
        perturb=perturb,
    )
