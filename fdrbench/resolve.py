"""The resolve stage: from a command line's names and settings to a task, a detector and a run folder.

Names are looked up in the registry (``module:Class`` and ``file.py:Class`` targets are allowed
here, because the user typed them); the run id is derived from everything that determines the
predictions, so re-running the same command finds the same folder and resumes it.

With ``--perturb`` the samples are wrapped lazily (:mod:`fdrbench.perturb`): the detector sees the
perturbed image, the stored truths carry the mask and regions moved with it. Such a run's data
fingerprint is :func:`~fdrbench.perturb.perturbed_fingerprint` of the clean samples' fingerprint,
so it is never ranked with clean runs or other perturbations; the clean fingerprint and the
fingerprint of the perturbed truths are kept in its manifest for ``fdrbench validate``. Its run
id is the clean run's with the perturbation appended, so the conditions of a sweep sit side by side.
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
from fdrbench.fingerprints import fingerprint_samples, public_fingerprint
from fdrbench.hashing import config_hash
from fdrbench.kvargs import construct
from fdrbench.paths import writable_folder
from fdrbench.redact import scrub_settings as scrub
from fdrbench.registry import ADAPTERS, TASKS
from fdrbench.results import ROBUSTNESS_DIR
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
    #: a blind run: the detector sees no truth and a submission is written instead of scores
    predict_only: bool = False
    #: a perturbation spec or preset member (``jpeg:q=70``, ``fakevlm_t7/jpeg70``), None for clean images
    perturb: str | None = None


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
    #: the manifest's ``perturbation`` section (:class:`fdrbench.results.PerturbationInfo`), None when clean
    perturbation: dict[str, Any] | None = None


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


def blind_samples(task: Task, samples: list[Sample], config: RunConfig) -> tuple[list[Sample], str]:
    """The samples a blind run predicts (the task's :meth:`~fdrbench.api.task.Task.blind_sample`
    view, without truth) and their public fingerprint; refused where a blind run cannot be made."""
    if not config.predict_only:
        raise FdrbenchError(
            f"task {task.name!r}: this data holds no labels (a held-out benchmark's public release); "
            "run with --predict-only to write a submission for the benchmark's organiser to score"
        )
    if config.limit is not None:
        raise FdrbenchError("--predict-only covers the whole split: a submission is scored on every sample, so --limit is refused")
    if config.protocols:
        raise FdrbenchError("--protocol has no effect with --predict-only: the organiser scores the submission under every protocol")
    public = [task.blind_sample(s) for s in samples]
    for sample in public:
        if sample.label is not None or sample.cls is not None or sample.group or sample.reference.all_texts() or sample.mask is not None:
            raise FdrbenchError(f"task {task.name!r}: blind_sample() kept the truth of sample {sample.id!r}; it must drop it")
    return public, public_fingerprint(public)


def plan(config: RunConfig) -> RunPlan:
    """Make the task and detector, load the samples and decide the run folder."""
    from fdrbench import perturb
    from fdrbench.stages.score import task_groups

    pert = perturb.parse(config.perturb) if config.perturb else None  # a bad spec stops here, before any work
    task = make_task(config.task, config.task_args)
    task_groups(task)  # a released_after cutoff on a task without generator metadata fails before any work
    detector = make_detector(config.model, config.model_args)
    split = config.split or task.default_split
    data_dir = Path(config.data_dir) if config.data_dir else None
    samples = task.load(data_dir, split, config.limit, config.seed)
    if config.predict_only or any(s.label is None for s in samples):
        samples, fingerprint = blind_samples(task, samples, config)
    else:
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
        **({"predict_only": True} if config.predict_only else {}),
    }
    label = model_label(config, detector)
    limit_tag = "all" if config.limit is None else f"n{config.limit}"
    run_id = config.run_id or f"{split}-{limit_tag}-s{config.seed}-{config_hash(settings)[:8]}"
    section = None
    if pert is not None:
        samples, section = perturbed(samples, pert, config.seed, fingerprint)
        fingerprint = section["data_fingerprint"]
        settings["data_fingerprint"] = fingerprint
        settings["perturbation"] = {"spec": pert.canonical, "hash": pert.hash, "seed": section["info"]["seed"]}
        run_id = config.run_id or f"{run_id}__{perturb.run_id_part(pert)}"
    if safe_name(run_id) == ROBUSTNESS_DIR:
        raise FdrbenchError(f"--run-id {ROBUSTNESS_DIR!r} is reserved for the folder of robustness sweeps; choose another")
    run_dir = writable_folder(Path(config.out), "--out") / safe_name(task.name) / label / safe_name(run_id)
    info = dist_info()
    device = resolve_device(config.device, info) if detector.uses_device else "cpu"
    return RunPlan(
        config, task, detector, samples, split, fingerprint, settings, label, run_id, run_dir, device, info, section and section["info"]
    )


def perturbed(samples: list[Sample], pert: Any, seed: int, clean_fingerprint: str) -> tuple[list[Sample], dict[str, Any]]:
    """The samples seen through ``pert`` (lazily: nothing is decoded here), the run's data
    fingerprint and its manifest section.

    The truths' fingerprint differs from the clean one only when a geometric step moves annotated
    regions; computing it reads those samples' image headers, so a broken image stops the run here
    with its name rather than halfway through.
    """
    from fdrbench import perturb

    wrapped = list(perturb.perturb_samples(samples, pert, seed))
    truths = fingerprint_samples(wrapped) if pert.geometric else clean_fingerprint
    info = {**perturb.describe(pert, seed), "clean_fingerprint": clean_fingerprint, "truths_fingerprint": truths}
    return wrapped, {"data_fingerprint": perturb.perturbed_fingerprint(clean_fingerprint, pert, seed), "info": info}
