"""The resolve stage: from a command line's names and settings to a task, a detector and a run folder.

Names are looked up in the registry (``module:Class`` and ``file.py:Class`` targets are allowed
here, because the user typed them); the run id is derived from everything that determines the
predictions, so re-running the same command finds the same folder and resumes it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdrbench.api.detector import Detector, as_detector
from fdrbench.api.task import Task
from fdrbench.distributed import DistInfo, dist_info, resolve_device
from fdrbench.errors import FdrbenchError
from fdrbench.fingerprints import fingerprint_samples
from fdrbench.hashing import config_hash
from fdrbench.kvargs import construct
from fdrbench.paths import writable_folder
from fdrbench.redact import scrub_settings as scrub
from fdrbench.registry import ADAPTERS, TASKS
from fdrbench.types import Sample

DEFAULT_MAX_FAILURES = "10%"


@dataclass
class RunConfig:
    model: str
    task: str
    model_args: dict[str, Any] = field(default_factory=dict)
    task_args: dict[str, Any] = field(default_factory=dict)
    data_dir: Path | None = None
    split: str | None = None
    limit: int | None = None
    batch_size: int = 8
    out: Path = Path("results")
    run_id: str | None = None
    name: str | None = None
    seed: int = 0
    device: str = "auto"
    max_failures: int | str | None = DEFAULT_MAX_FAILURES
    protocols: list[str] | None = None
    n_boot: int = 1000
    show_progress: bool = True
    retry_failed: bool = False


@dataclass
class RunPlan:
    """Everything the later stages need, decided before any prediction is made."""

    config: RunConfig
    task: Task
    detector: Detector
    samples: list[Sample]
    split: str
    fingerprint: str
    settings: dict[str, Any]
    label: str
    run_id: str
    run_dir: Path
    device: str
    info: DistInfo


def make_task(name: str, options: dict[str, Any] | None = None) -> Task:
    """A task by registered name or, on the command line only, by ``module:Class`` / ``file.py:Class``."""
    cls = TASKS.load(name)
    task = cls(**(options or {}))
    if not task.name:
        # a class given as 'module:Class' or 'file.py:Class' without a name of its own
        task.name = safe_name(name.rpartition(":")[2] or name)
    return task


def make_detector(name: str, args: dict[str, Any]) -> Detector:
    cls = ADAPTERS.load(name)
    return as_detector(construct(cls, args, what=f"adapter {name!r}"), what=repr(name))


def budget(max_failures: int | str | None, n: int) -> int | None:
    """``--max-failures`` as a count: an integer, a percentage of ``n`` (``"10%"``) or None (no limit)."""
    if max_failures is None:
        return None
    if isinstance(max_failures, str):
        text = max_failures.strip()
        if text.endswith("%"):
            try:
                share = float(text[:-1]) / 100.0
            except ValueError as exc:
                raise FdrbenchError(f"--max-failures must be a count or a percentage, got {max_failures!r}") from exc
            return max(0, math.floor(share * n))
        try:
            max_failures = int(text)
        except ValueError as exc:
            raise FdrbenchError(f"--max-failures must be a count or a percentage, got {max_failures!r}") from exc
    if max_failures < 0:
        raise FdrbenchError("--max-failures must not be negative")
    return int(max_failures)


def safe_name(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return cleaned or "model"


def model_label(config: RunConfig, detector: Detector) -> str:
    if config.name:
        return safe_name(config.name)
    if detector.name:
        return safe_name(detector.name)
    return safe_name(config.model.rpartition(":")[2] or config.model)


def plan(config: RunConfig) -> RunPlan:
    """Make the task and detector, load the samples and decide the run folder."""
    from fdrbench.stages.score import task_groups

    task = make_task(config.task, config.task_args)
    task_groups(task)  # a released_after cutoff on a task without generator metadata fails before any work
    detector = make_detector(config.model, config.model_args)
    split = config.split or task.default_split
    data_dir = Path(config.data_dir) if config.data_dir else None
    samples = task.load(data_dir, split, config.limit, config.seed)
    fingerprint = fingerprint_samples(samples)
    settings = {
        "model": config.model,
        "model_args": scrub(config.model_args),
        "task": task.name,
        "task_version": task.version,
        "task_args": scrub(config.task_args),
        "split": split,
        "limit": config.limit,
        "seed": config.seed,
        "data_fingerprint": fingerprint,
        "model_identity": scrub(detector.identity(task) or {}),
    }
    label = model_label(config, detector)
    limit_tag = "all" if config.limit is None else f"n{config.limit}"
    run_id = config.run_id or f"{split}-{limit_tag}-s{config.seed}-{config_hash(settings)[:8]}"
    run_dir = writable_folder(Path(config.out), "--out") / safe_name(task.name) / label / safe_name(run_id)
    info = dist_info()
    device = resolve_device(config.device, info) if detector.uses_device else "cpu"
    return RunPlan(config, task, detector, samples, split, fingerprint, settings, label, run_id, run_dir, device, info)
