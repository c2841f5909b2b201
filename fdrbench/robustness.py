"""``robustness.json``: one detector's clean run against the runs of a perturbation preset's conditions.

For every headline metric of every protocol the file holds each condition's value with its
interval (the run's own ``scores.json``) and the paired difference to the clean run on the same
samples, with its bootstrap interval, p-value and the metric's paired test (McNemar for
accuracy), all from :mod:`fdrbench.paired`, the engine ``fdrbench compare`` uses. For the
explanations it adds their stability (:mod:`fdrbench.stability`).

The file lives beside the runs it reads, ``<results>/<task>/<model>/robustness/<preset>-<hash>.json``
(the hash is of the clean run id and the members' specs, so another sweep of the same detector
never overwrites it), and names them by run id only. It is derived data: :func:`analyse` on the
same runs gives the same file but its ``created`` time, which is how ``fdrbench validate`` checks it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fdrbench.errors import ResultsError
from fdrbench.paired import compare_metric, load_scored
from fdrbench.pathsafe import join_names
from fdrbench.results import (
    ROBUSTNESS_DIR,
    Change,
    ConditionRun,
    MetricRobustness,
    ProtocolRobustness,
    Robustness,
    RunDir,
    ScoreInfo,
    Scores,
)
from fdrbench.scoring import CI_METHOD, ScoredFrame
from fdrbench.stability import stability
from fdrbench.store import SCORES, write_json_atomic

SCHEMA_VERSION = 1
CLEAN = "clean"


@dataclass(frozen=True)
class Sweep:
    """What a robustness file is computed from: the model folder, the preset, the runs and the settings."""

    model_dir: Path  # <results>/<task>/<model>
    preset: str
    description: str
    readings: str
    clean_run_id: str
    conditions: tuple[tuple[str, str], ...]  # (condition name, run id), in the preset's order
    n_boot: int
    seed: int = 0
    level: float = 0.95


def file_name(preset: str, clean_run_id: str, specs: list[str]) -> str:
    """``<preset>-<hash>.json``: the hash of the clean run id and the members' canonical specs."""
    digest = hashlib.sha256("\n".join([clean_run_id, *specs]).encode()).hexdigest()[:8]
    return f"{preset}-{digest}.json"


def run_dir(model_dir: Path, run_id: str) -> RunDir:
    """A run named by a robustness file: a plain folder name inside the model folder, nothing else."""
    if run_id == ROBUSTNESS_DIR:
        raise ResultsError(f"run id {run_id!r} names the robustness folder, not a run")
    return RunDir(join_names(Path(model_dir), run_id, what="run id"))


def _scores_sha(run: RunDir) -> str:
    try:
        return hashlib.sha256(run.scores_path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ResultsError(f"{run.path}: no readable {SCORES} (score the run first)") from exc


def _condition(name: str, run: RunDir) -> ConditionRun:
    manifest = run.manifest()
    info = manifest.perturbation
    if name == CLEAN:
        if info is not None:
            raise ResultsError(f"{run.path}: the clean condition's run is perturbed ({info.spec})")
        return ConditionRun(condition=CLEAN, run_id=manifest.run_id, scores_sha256=_scores_sha(run))
    if info is None:
        raise ResultsError(f"{run.path}: condition {name!r} names a run on clean images")
    return ConditionRun(
        condition=name, name=info.name, spec=info.spec, hash=info.hash, run_id=manifest.run_id, scores_sha256=_scores_sha(run)
    )


def _same_samples(clean: RunDir, runs: list[RunDir]) -> str:
    """The clean data fingerprint every condition must share (same task, split, subset and seed)."""
    base = clean.manifest()
    for run in runs:
        manifest = run.manifest()
        info = manifest.perturbation
        if manifest.task != base.task or info.clean_fingerprint != base.data_fingerprint:
            raise ResultsError(f"{run.path} was not made on the clean run's samples ({clean.path.name}): the conditions cannot be paired")
    return base.data_fingerprint


def _entry(scores: Scores, protocol: str, metric: str, where: Path):
    block = scores.protocols.get(protocol)
    if block is None:
        raise ResultsError(f"{where}: not scored under protocol {protocol!r} (run `fdrbench score RUN_DIR -p {protocol}`)")
    return block.overall.get(metric)


def _paired(metric: str, base: ScoredFrame, other: ScoredFrame, sweep: Sweep) -> dict:
    """The paired comparison of one metric; with no sample scored by both runs (a protocol that
    excludes failures, and every sample failed in one of them) there is nothing to pair."""
    from fdrbench.metrics.registry import get_metric

    rule = get_metric(metric)
    if not set(base.frame.ids[base.rows_for(rule)]) & set(other.frame.ids[other.rows_for(rule)]):
        return {"n": 0, "diff": None, "ci": None, "p_value": None, "test": rule.paired_test, "separated": False}
    return compare_metric(metric, base, other, n_boot=sweep.n_boot, seed=sweep.seed, level=sweep.level)


def analyse(sweep: Sweep, created: str, protocols: list[str] | None = None, progress: bool = False) -> Robustness:
    """The robustness file of ``sweep``: headline metrics per condition, paired differences, stability."""
    from fdrbench.progress import progress_bar

    clean = run_dir(sweep.model_dir, sweep.clean_run_id)
    runs = [run_dir(sweep.model_dir, run_id) for _, run_id in sweep.conditions]
    if not runs:
        raise ResultsError(f"preset {sweep.preset!r}: a sweep needs at least one perturbed condition")
    fingerprint = _same_samples(clean, runs)
    refs = [_condition(CLEAN, clean)] + [_condition(name, run) for (name, _), run in zip(sweep.conditions, runs, strict=True)]
    manifest, clean_scores = clean.manifest(), clean.scores()
    if clean_scores is None:
        raise ResultsError(f"{clean.path}: the clean run has no {SCORES}")
    all_scores = [run.scores() for run in runs]
    chosen = protocols or list(clean_scores.protocols)
    with progress_bar(len(chosen) * len(runs), f"robustness of {manifest.model} to {sweep.preset}", "condition", progress) as bar:
        out = {protocol: _protocol(sweep, clean, clean_scores, runs, all_scores, protocol, bar) for protocol in chosen}
    return Robustness(
        schema_version=SCHEMA_VERSION,
        task=manifest.task,
        task_version=manifest.task_info.version,
        model=manifest.model,
        preset=sweep.preset,
        description=sweep.description,
        readings=sweep.readings,
        data_fingerprint=fingerprint,
        created=created,
        settings=ScoreInfo(n_boot=sweep.n_boot, ci_level=sweep.level, seed=sweep.seed, ci_method=f"paired {CI_METHOD}"),
        headline_metrics=list(clean_scores.headline_metrics),
        runs=refs,
        protocols=out,
    )


def sweep_of(path: Path, robustness: Robustness) -> Sweep:
    """The sweep a stored file describes (its model folder is two levels above it)."""
    return Sweep(
        model_dir=Path(path).parent.parent,
        preset=robustness.preset,
        description=robustness.description,
        readings=robustness.readings,
        clean_run_id=robustness.runs[0].run_id,
        conditions=tuple((r.condition, r.run_id) for r in robustness.runs[1:]),
        n_boot=robustness.settings.n_boot,
        seed=robustness.settings.seed,
        level=robustness.settings.ci_level,
    )


def write(sweep: Sweep, robustness: Robustness) -> Path:
    """Write the file into ``<model folder>/robustness/``; returns its path."""
    specs = [r.spec or "" for r in robustness.runs[1:]]
    path = Path(sweep.model_dir) / ROBUSTNESS_DIR / file_name(sweep.preset, sweep.clean_run_id, specs)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, robustness.to_json())
    return path


def _protocol(
    sweep: Sweep, clean: RunDir, clean_scores: Scores, runs: list[RunDir], all_scores: list[Scores | None], protocol: str, bar
) -> ProtocolRobustness:
    """One protocol's part of the file: every headline metric per condition, and each condition's stability."""
    stored = clean_scores.protocols.get(protocol)
    if stored is None:
        raise ResultsError(f"{clean.path}: not scored under protocol {protocol!r}")
    base = load_scored(clean.path, protocol)
    headline = [m for m in clean_scores.headline_metrics if m in stored.overall]
    changes: dict[str, dict[str, Change]] = {metric: {} for metric in headline}
    steady = {}
    for (name, _), run, scores in zip(sweep.conditions, runs, all_scores, strict=True):
        if scores is None:
            raise ResultsError(f"{run.path}: the run has no {SCORES} (score it first)")
        other = load_scored(run.path, protocol)
        for metric in headline:
            own = _entry(scores, protocol, metric, run.path)
            paired = _paired(metric, base, other, sweep)
            changes[metric][name] = Change(
                value=own.value if own else None,
                ci=own.ci if own else None,
                n=paired["n"],
                diff=paired["diff"],
                diff_ci=paired["ci"],
                p_value=paired["p_value"],
                test=paired["test"],
                significant=bool(paired["separated"]),
            )
        steady[name] = stability(base, other, sweep.n_boot, sweep.seed, sweep.level, f"{protocol}/{name}")
        bar.advance()
    metrics = {metric: MetricRobustness(clean=stored.overall[metric], conditions=changes[metric]) for metric in headline}
    return ProtocolRobustness(metrics=metrics, stability=steady)
