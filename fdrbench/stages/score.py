"""The score stage: a run folder's stored predictions -> ``scores.json`` (no model, no data needed).

``scores.json`` is identical for identical predictions, whatever the run's history (batching,
sharding, resumes). ``fdrbench score RUN_DIR`` re-creates the run's task from its registered
name (:meth:`fdrbench.results.RunDir.task`) and runs this stage and the finish stage alone.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import msgspec

from fdrbench.api.task import Task
from fdrbench.generators import GroupPlan, plan_groups
from fdrbench.judge.store import attach_judgements
from fdrbench.metrics.judge import COLUMN as JUDGE_SCORE
from fdrbench.record import Record
from fdrbench.results import Manifest, RunDir, Scores
from fdrbench.scoring import ScoreSettings, score_records
from fdrbench.stages.finish import finish


def assemble_scores(
    manifest: Manifest,
    task: Task,
    records: list[Record],
    protocols: Sequence[str] | None,
    settings: ScoreSettings,
    extra_metrics: tuple[str, ...] = (),
    metric_lists: dict[str, Sequence[str]] | None = None,
) -> Scores:
    """The ``scores.json`` of a run; ``metric_lists`` scores a protocol over another metric list
    (``validate`` re-scores a stored run over the metrics it was scored with)."""
    expected = manifest.task_info.n_samples or len(records)
    available = task.protocols()
    if metric_lists:
        available = {name: (p.with_metrics(tuple(metric_lists[name])) if name in metric_lists else p) for name, p in available.items()}
    groups = task_groups(task)
    aggregates = {**task.aggregates, **groups.aggregates()}
    blocks = score_records(records, available, protocols, settings, groups.keys, aggregates, extra_metrics, groups.derive)
    used = groups.used(record.truth for record in records)
    return Scores.from_json(
        {
            "task": manifest.task,
            "task_version": task.version,
            "model": manifest.model,
            "run_id": manifest.run_id,
            "data_fingerprint": manifest.data_fingerprint,
            "n_expected": expected,
            "partial": len(records) < expected,
            "settings": settings.to_dict(),
            "headline_metrics": [*task.headline_metrics, *(m for m in extra_metrics if m not in task.headline_metrics)],
            "protocols": blocks,
            **({"generators": msgspec.to_builtins(used)} if used is not None else {}),
        },
        strict=False,
    )


def task_groups(task: Task) -> GroupPlan:
    """The groups ``task``'s runs are scored over: its own keys and those its generator table adds."""
    return plan_groups(task.group_keys, task.generator_table(), task.options)


def score_run(
    run: RunDir, manifest: Manifest, task: Task, protocols: Sequence[str] | None, settings: ScoreSettings, infer_s: float | None
) -> tuple[Scores, Manifest]:
    """Score the run's stored predictions and record the finish; writes both files."""
    records, duplicates = run.records()
    judged = attach_judgements(run.path, records)
    t0 = time.perf_counter()
    scores = assemble_scores(manifest, task, list(records.values()), protocols, settings, (JUDGE_SCORE,) if judged else ())
    finish(manifest, records, duplicates, infer_s, time.perf_counter() - t0)
    run.write_scores(scores)
    run.write_manifest(manifest)
    return scores, manifest


def score_run_dir(
    run_dir: Path, protocols: list[str] | None = None, n_boot: int | None = None, seed: int | None = None
) -> tuple[Scores, Manifest]:
    """Re-score a run folder from its stored predictions; returns (scores, manifest)."""
    run = RunDir(run_dir)
    manifest = run.manifest()
    task = run.task(manifest)
    stored = manifest.settings
    settings = ScoreSettings(
        n_boot=int(n_boot if n_boot is not None else stored.n_boot), seed=int(seed if seed is not None else stored.seed)
    )
    return score_run(run, manifest, task, protocols or stored.protocols, settings, None)


def score_task(
    records: Sequence[Record], task: Task, protocols: Sequence[str] | None = None, settings: ScoreSettings | None = None
) -> dict[str, dict]:
    """The protocol blocks of ``records`` under ``task``'s protocols (all by default), its groups and aggregates."""
    groups = task_groups(task)
    return score_records(
        records, task.protocols(), protocols, settings, groups.keys, {**task.aggregates, **groups.aggregates()}, derive=groups.derive
    )
