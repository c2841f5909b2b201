"""The infer stage: open or create the run's manifest, predict what is missing, record the session.

Safe to interrupt and re-run: finished samples are read back from the prediction files and
skipped, whatever the number of processes before and after; a run stopped by its failure
budget keeps what it predicted and says so in its manifest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdrbench.api.detector import RunContext
from fdrbench.distributed import barrier
from fdrbench.errors import FdrbenchError, RunAborted
from fdrbench.manifest import adapter_account, new_manifest, now_iso
from fdrbench.paths import cache_root
from fdrbench.progress import progress_bar
from fdrbench.redact import scrub_settings as scrub
from fdrbench.registry import ADAPTERS, TASKS
from fdrbench.resolve import RunPlan, budget
from fdrbench.results import Manifest, RunDir
from fdrbench.runner import InferStats, infer, record_line, shard
from fdrbench.store import PredictionWriter, completed_ids, write_json_atomic
from fdrbench.types import Prediction, Sample


@dataclass
class Inferred:
    manifest: Manifest
    seconds: float
    stats: InferStats | None


@dataclass
class Outputs:
    """Where the infer stage keeps a run: its manifest file, the line stored per sample, and which
    samples are finished. A run folder's (:func:`run_outputs`) unless a blind run says otherwise."""

    manifest: Path
    line: Callable[[Sample, Prediction], Any]
    done: Callable[[bool], set[str]]
    #: applied to a new manifest before it is first written
    prepare: Callable[[Manifest], Manifest] = field(default=lambda manifest: manifest)

    def write(self, manifest: Manifest) -> None:
        write_json_atomic(self.manifest, manifest.to_json())


def run_outputs(p: RunPlan) -> Outputs:
    """A run folder's files: ``manifest.json`` and prediction lines with their truth."""
    return Outputs(RunDir(p.run_dir).manifest_path, record_line, lambda retry: completed_ids(p.run_dir, retry_failed=retry))


def _check_compatible(where: Path, manifest: Manifest, settings: dict) -> None:
    old = manifest.config
    diffs = sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
    if diffs:
        raise FdrbenchError(
            f"{where} holds a run with different settings ({', '.join(diffs)} differ); "
            f"choose another --run-id, or delete that folder to start over"
        )


def open_manifest(p: RunPlan, outputs: Outputs | None = None) -> Manifest:
    """The run's manifest: the stored one when resuming (checked to match), else a new one."""
    out = outputs or run_outputs(p)
    if p.info.is_main:
        if out.manifest.is_file():
            manifest = Manifest.read(out.manifest)
            _check_compatible(p.run_dir, manifest, p.settings)
        else:
            c = p.config
            manifest = new_manifest(
                task=p.task,
                task_target=TASKS.target(c.task),
                registered=TASKS.registered(c.task) is not None,
                detector=p.detector,
                model=p.label,
                adapter=(c.model, ADAPTERS.target(c.model), scrub(c.model_args)),
                run_id=p.run_id,
                split=p.split,
                limit=c.limit,
                n_samples=len(p.samples),
                fingerprint=p.fingerprint,
                config=p.settings,
                data_dir=c.data_dir,
                settings={
                    "seed": c.seed,
                    "batch_size": c.batch_size,
                    "device": p.device,
                    "world_size": p.info.world_size,
                    "max_failures": c.max_failures,
                    "n_boot": c.n_boot,
                    "protocols": c.protocols or list(p.task.protocols()),
                },
                perturbation=p.perturbation,
            )
            manifest = out.prepare(manifest)
            out.write(manifest)
    barrier(p.info)
    return manifest if p.info.is_main else Manifest.read(out.manifest)


def infer_missing(p: RunPlan, manifest: Manifest, writer: PredictionWriter, outputs: Outputs | None = None) -> Inferred:
    """Predict this rank's samples that are not finished yet, appending to ``writer`` (whose lock the
    caller took before anything was read); raises RunAborted past the budget."""
    out = outputs or run_outputs(p)
    started = time.perf_counter()
    done = out.done(p.config.retry_failed)
    mine = [s for s in shard(p.samples, p.info.rank, p.info.world_size) if s.id not in done]
    failure_budget = budget(p.config.max_failures, len(mine))
    session = {"started": now_iso(), "rank": p.info.rank, "world_size": p.info.world_size, "device": p.device, "n_predicted": 0}
    stats = None
    if mine:
        ctx = RunContext(
            task=p.task,
            device=p.device,
            seed=p.config.seed,
            batch_size=p.config.batch_size,
            rank=p.info.rank,
            world_size=p.info.world_size,
            data_dir=p.config.data_dir,
            cache_dir=cache_root(),
        )
        p.detector.setup(ctx)
        if p.info.is_main:
            manifest.adapter.describe, manifest.prompt, manifest.prompt_sha256 = adapter_account(p.detector, p.task)
            out.write(manifest)
        try:
            what = f"{p.label} on {p.task.name}" + (f" ({p.perturbation['name'] or p.perturbation['spec']})" if p.perturbation else "")
            with progress_bar(len(mine), what, enabled=p.config.show_progress and p.info.is_main) as bar:
                stats = infer(p.detector, mine, writer, p.config.batch_size, failure_budget, bar, p.task.label_space, out.line)
        except RunAborted as exc:
            if p.info.is_main:
                manifest.updated, manifest.abort_reason = now_iso(), str(exc)
                out.write(manifest)
            raise
        finally:
            p.detector.close()
    barrier(p.info)
    seconds = time.perf_counter() - started
    session.update(ended=now_iso(), n_predicted=stats.n_predicted if stats else 0, wall_s=round(seconds, 3))
    manifest.sessions.append(session)
    manifest.abort_reason = None
    return Inferred(manifest, seconds, stats)
