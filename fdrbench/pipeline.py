"""One evaluation end to end: resolve, load, infer (resumable, sharded), score, record provenance.

``run`` is what ``fdrbench run`` and ``fdrbench demo`` call; ``score_run_dir`` is ``fdrbench
score``. A run folder is ``<out>/<task>/<model>/<run_id>/``; the default run id is derived from
everything that determines the predictions, so re-running the same command finds the same
folder and resumes it.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdrbench import __version__
from fdrbench.detector import Detector, RunContext, as_detector, construct
from fdrbench.distributed import DistInfo, barrier, dist_info, resolve_device, shutdown
from fdrbench.errors import FdrbenchError, RunAborted, os_error_text
from fdrbench.judge.store import attach_judgements
from fdrbench.manifest import (
    SCHEMA_VERSION,
    config_hash,
    environment_info,
    fingerprint_samples,
    git_state,
    now_iso,
    scrub,
    sha256_text,
)
from fdrbench.paths import cache_root, writable_folder
from fdrbench.progress import progress_bar
from fdrbench.registry import ADAPTERS, TASKS
from fdrbench.run_task import task_for_run
from fdrbench.runner import infer, shard
from fdrbench.scoring import ScoreSettings, score_records
from fdrbench.store import (
    MANIFEST,
    SCORES,
    PredictionWriter,
    completed_ids,
    load_records,
    predictions_path,
    read_manifest,
    write_json_atomic,
)
from fdrbench.task import Task

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
class RunResult:
    run_dir: Path
    manifest: dict
    scores: dict | None


def make_task(name: str, options: dict[str, Any] | None = None) -> Task:
    cls = TASKS.load(name)
    task = cls(**(options or {}))
    if not task.name:
        # a class given as 'module:Class' or 'file.py:Class' without a name of its own
        task.name = _safe_name(name.rpartition(":")[2] or name)
    return task


def make_detector(name: str, args: dict[str, Any]) -> Detector:
    """The adapter ``name`` built with ``args``: a Detector, or any object with ``predict(batch)``."""
    cls = ADAPTERS.load(name)
    return as_detector(construct(cls, args, what=f"adapter {name!r}"), what=f"adapter {name!r}")


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


def _safe_name(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return cleaned or "model"


def _model_label(config: RunConfig, detector: Detector) -> str:
    if config.name:
        return _safe_name(config.name)
    if getattr(detector, "name", ""):
        return _safe_name(detector.name)
    return _safe_name(config.model.rpartition(":")[2] or config.model)


def _check_compatible(run_dir: Path, manifest: dict, config_dict: dict) -> None:
    old = manifest.get("config") or {}
    diffs = sorted(k for k in set(old) | set(config_dict) if old.get(k) != config_dict.get(k))
    if diffs:
        raise FdrbenchError(
            f"{run_dir} holds a run with different settings ({', '.join(diffs)} differ); "
            f"choose another --run-id, or delete that folder to start over"
        )


def _new_manifest(
    config: RunConfig,
    task: Task,
    detector: Detector,
    label: str,
    run_id: str,
    n_samples: int,
    fingerprint: str,
    config_dict: dict,
    data_dir: Path | None,
    device: str,
    info: DistInfo,
    failure_budget: int | str | None,
) -> dict:
    created = now_iso()
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "task": task.name,
        "model": label,
        "run_id": run_id,
        "created": created,
        "updated": created,
        "status": "running",
        "task_info": {
            **task.info(),
            "target": TASKS.target(config.task),
            # a task given as file.py:Class re-scores only once that class is registered under this name
            "registered": TASKS.registered(config.task) is not None,
            "split": config.split or task.default_split,
            "limit": config.limit,
            "n_samples": n_samples,
            "data_dir": str(data_dir) if data_dir else None,
        },
        "data_fingerprint": fingerprint,
        "adapter": {"name": config.model, "target": ADAPTERS.target(config.model), "args": scrub(config.model_args)},
        "config": config_dict,
        "config_hash": config_hash(config_dict),
        "settings": {
            "seed": config.seed,
            "batch_size": config.batch_size,
            "device": device,
            "world_size": info.world_size,
            "max_failures": failure_budget,
            "n_boot": config.n_boot,
            "protocols": config.protocols or list(task.protocols()),
        },
        "fdrbench": {"version": __version__, **git_state()},
        "environment": environment_info(device),
        "sessions": [],
        "timing": {},
        "usage": {},
    }
    _record_adapter(manifest, detector, task)
    return manifest


def _record_adapter(manifest: dict, detector: Detector, task: Task) -> None:
    """The adapter's own account of itself and the prompt it uses; refreshed once its model is loaded."""
    describe = scrub(detector.describe() or {})
    if not isinstance(describe, dict):
        raise FdrbenchError(f"adapter {detector.name!r}: describe() must return a dict, got {type(describe).__name__}")
    prompt = describe.get("prompt", task.prompt)  # an explicit None: the detector reads no prompt
    manifest["adapter"]["describe"] = describe
    manifest["prompt"] = prompt
    manifest["prompt_sha256"] = sha256_text(prompt) if prompt else None


def run(config: RunConfig) -> RunResult:
    """Infer what is missing, then score; safe to interrupt and re-run."""
    task = make_task(config.task, config.task_args)
    detector = make_detector(config.model, config.model_args)
    split = config.split or task.default_split
    data_dir = Path(config.data_dir) if config.data_dir else None
    samples = task.load(data_dir, split, config.limit, config.seed)
    fingerprint = fingerprint_samples(samples)
    config_dict = {
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
    label = _model_label(config, detector)
    limit_tag = "all" if config.limit is None else f"n{config.limit}"
    run_id = config.run_id or f"{split}-{limit_tag}-s{config.seed}-{config_hash(config_dict)[:8]}"
    run_dir = writable_folder(Path(config.out), "--out") / _safe_name(task.name) / label / _safe_name(run_id)
    info = dist_info()
    device = resolve_device(config.device, info) if getattr(detector, "uses_device", True) else "cpu"
    manifest_path = run_dir / MANIFEST

    started = time.perf_counter()
    # the lock comes first: a second run on this folder stops here, before it reads what is finished
    writer = PredictionWriter(predictions_path(run_dir, info.rank, info.world_size))
    aborted: RunAborted | None = None
    stats = None
    try:
        if info.is_main:
            if manifest_path.exists():
                manifest = read_manifest(run_dir)
                _check_compatible(run_dir, manifest, config_dict)
            else:
                manifest = _new_manifest(
                    config,
                    task,
                    detector,
                    label,
                    run_id,
                    len(samples),
                    fingerprint,
                    config_dict,
                    data_dir,
                    device,
                    info,
                    config.max_failures,
                )
                write_json_atomic(manifest_path, manifest)
        barrier(info)
        if not info.is_main:
            manifest = read_manifest(run_dir)

        done = completed_ids(run_dir, retry_failed=config.retry_failed)
        mine = [s for s in shard(samples, info.rank, info.world_size) if s.id not in done]
        failure_budget = budget(config.max_failures, len(mine))
        session = {"started": now_iso(), "rank": info.rank, "world_size": info.world_size, "device": device, "n_predicted": 0}
        if mine:
            ctx = RunContext(
                task=task,
                device=device,
                seed=config.seed,
                batch_size=config.batch_size,
                rank=info.rank,
                world_size=info.world_size,
                data_dir=data_dir,
                cache_dir=cache_root(),
            )
            detector.setup(ctx)
            if info.is_main:
                _record_adapter(manifest, detector, task)
                write_json_atomic(manifest_path, manifest)
            try:
                with progress_bar(len(mine), f"{label} on {task.name}", enabled=config.show_progress and info.is_main) as bar:
                    stats = infer(detector, mine, writer, config.batch_size, failure_budget, bar, task.label_space)
            except RunAborted as exc:
                aborted = exc
            finally:
                detector.close()
    except OSError as exc:
        raise FdrbenchError(
            f"{os_error_text(exc)}; the predictions written before are kept - fix that and re-run the same command to resume"
        ) from exc
    finally:
        writer.close()
    if aborted is not None:
        if info.is_main:
            manifest.update(updated=now_iso(), abort_reason=str(aborted))
            write_json_atomic(manifest_path, manifest)
        raise aborted
    barrier(info)
    scores = None
    if info.is_main:
        infer_s = time.perf_counter() - started
        session.update(ended=now_iso(), n_predicted=stats.n_predicted if stats else 0, wall_s=round(infer_s, 3))
        manifest.setdefault("sessions", []).append(session)
        manifest.pop("abort_reason", None)
        scores, manifest = _score_and_finish(
            run_dir, manifest, task, config.protocols, ScoreSettings(config.n_boot, seed=config.seed), infer_s
        )
    shutdown(info)
    return RunResult(run_dir, manifest, scores)


def _score_and_finish(
    run_dir: Path, manifest: dict, task: Task, protocols: list[str] | None, settings: ScoreSettings, infer_s: float | None
) -> tuple[dict, dict]:
    records, duplicates = load_records(run_dir)
    judged = attach_judgements(run_dir, records)
    expected = int(manifest.get("task_info", {}).get("n_samples") or len(records))
    t0 = time.perf_counter()
    scores = assemble_scores(manifest, task, list(records.values()), protocols, settings, ("judge_score",) if judged else ())
    score_s = time.perf_counter() - t0
    complete = len(records) >= expected
    timing = manifest.setdefault("timing", {})
    if infer_s is not None:
        timing["infer_s"] = round(timing.get("infer_s", 0.0) + infer_s, 3)
    timing["score_s"] = round(score_s, 3)
    latencies = [r["latency_s"] for r in records.values() if r.get("latency_s") is not None]
    if timing.get("infer_s"):
        timing["samples_per_s"] = round(len(records) / timing["infer_s"], 3)
    timing["mean_latency_s"] = round(sum(latencies) / len(latencies), 6) if latencies else None
    manifest["usage"] = {
        "n_tokens": sum(int(r.get("n_tokens") or 0) for r in records.values()),
        "n_errors": sum(1 for r in records.values() if r.get("error") is not None),
        "n_duplicates_superseded": duplicates,
    }
    manifest["status"] = "complete" if complete else "running"
    manifest["updated"] = now_iso()
    write_json_atomic(run_dir / SCORES, scores)
    write_json_atomic(run_dir / MANIFEST, manifest)
    return scores, manifest


def assemble_scores(
    manifest: dict,
    task: Task,
    records: list[dict],
    protocols: list[str] | None,
    settings: ScoreSettings,
    extra_metrics: tuple[str, ...] = (),
) -> dict:
    """The ``scores.json`` object: identical for identical predictions, whatever the run history."""
    expected = int(manifest.get("task_info", {}).get("n_samples") or len(records))
    return {
        "task": manifest.get("task", task.name),
        "task_version": task.version,
        "model": manifest.get("model"),
        "run_id": manifest.get("run_id"),
        "data_fingerprint": manifest.get("data_fingerprint"),
        "n_expected": expected,
        "partial": len(records) < expected,
        "settings": settings.to_dict(),
        "headline_metrics": [*task.headline_metrics, *(m for m in extra_metrics if m not in task.headline_metrics)],
        "protocols": score_records(records, task, protocols, settings, extra_metrics),
    }


def score_run_dir(
    run_dir: Path, protocols: list[str] | None = None, n_boot: int | None = None, seed: int | None = None
) -> tuple[dict, dict]:
    """Re-score a run folder from its stored predictions; returns (scores, manifest)."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    task = task_for_run(manifest, run_dir)
    stored = manifest.get("settings") or {}
    settings = ScoreSettings(
        n_boot=int(n_boot if n_boot is not None else stored.get("n_boot", 1000)),
        seed=int(seed if seed is not None else stored.get("seed", 0)),
    )
    return _score_and_finish(run_dir, manifest, task, protocols or stored.get("protocols"), settings, None)
