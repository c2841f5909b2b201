"""``fdrbench score-submission``: the organiser's side of a blind benchmark.

A submission (``submission.jsonl`` and its ``submission-manifest.json``) is a stranger's file.
It is checked in full against the organiser's labelled copy of the data before anything is
written: the manifest (the contract's types, the task, its version and split, a finished run),
the public fingerprint (the submission was made on these samples), and every line
(:func:`~fdrbench.blind.submission.read_submission`). Any problem rejects it with every reason
listed. An accepted submission becomes a normal run folder: each prediction joined with its
sample's truth, scored under every protocol of the task, then filed by ``fdrbench submit``'s
own path (validated again in full, sanitised, staged and moved), so nothing in the results
folder changes unless all of it passed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdrbench.blind.submission import SUBMISSION_MANIFEST, Limits, read_submission
from fdrbench.checks import Check, Report
from fdrbench.errors import FdrbenchError, ResultsError
from fdrbench.fingerprints import fingerprint_samples, public_fingerprint
from fdrbench.hashing import config_hash, sha256_file
from fdrbench.manifest import now_iso
from fdrbench.results import Manifest, RunDir, SubmissionInfo, TaskInfo
from fdrbench.scoring import ScoreSettings
from fdrbench.stages.score import score_run
from fdrbench.store import PREDICTIONS, write_jsonl_atomic
from fdrbench.submit import Submission, SubmissionRejected, submit_run
from fdrbench.validate import is_safe_name


@dataclass
class Scoring:
    """What the organiser chose: the task and its labelled data, and how the run is filed."""

    task: str
    data_dir: Path
    results: Path = Path("results")
    split: str | None = None
    task_args: dict[str, Any] = field(default_factory=dict)
    manifest: Path | None = None
    name: str | None = None
    run_id: str | None = None
    n_boot: int = 1000
    seed: int | None = None
    replace: bool = False
    limits: Limits = Limits()
    show_progress: bool = False


def _check_manifest(path: Path, task, split: str, limits: Limits, report: Report) -> Manifest | None:
    """The submission's manifest when it can be read (its problems go into ``report``)."""
    with Check(report, "manifest") as check:
        if not path.is_file():
            check.fail(f"{path.name} is missing (the participant's run writes it beside submission.jsonl); pass --manifest")
            return None
        size = path.stat().st_size
        if size > limits.max_manifest_bytes:
            check.fail(f"{path.name} is {size:,} bytes, more than the {limits.max_manifest_bytes:,} accepted")
            return None
        try:
            manifest = Manifest.read(path)
        except ResultsError as exc:
            check.fail(str(exc).replace(str(path), path.name))
            return None
        if manifest.submission is None or manifest.submission.role != "submission":
            check.fail(f"{path.name} is not a blind submission's manifest (no 'submission' with role 'submission')")
        if manifest.task != task.name:
            check.fail(f"the submission was made on task {manifest.task!r}, not {task.name!r}")
        if manifest.task_info.version != task.version:
            check.fail(
                f"the submission was made on {task.name} version {manifest.task_info.version!r}; the current version is {task.version!r}"
            )
        if manifest.task_info.split != split:
            check.fail(f"the submission covers split {manifest.task_info.split!r}, not {split!r}")
        if manifest.task_info.limit is not None:
            check.fail(f"the submission covers a subset of {manifest.task_info.limit} samples; only whole splits are scored")
        for key in ("model", "run_id"):
            if not is_safe_name(getattr(manifest, key)):
                check.fail(f"'{key}' {getattr(manifest, key)!r} is not a safe folder name (letters, digits, '.', '_', '-')")
        if manifest.status != "complete":
            check.fail("the participant's run did not finish (status 'running'); re-run the same command to complete it")
        return manifest


def _scored_manifest(submitted: Manifest, task, samples: list, sub: Scoring, hashes: tuple[str, str]) -> Manifest:
    """The run's manifest: the participant's provenance, the organiser's task and data."""
    from fdrbench.registry import TASKS
    from fdrbench.resolve import safe_name

    split = submitted.task_info.split
    fingerprint = fingerprint_samples(samples)
    manifest = Manifest.from_json(submitted.to_json(), strict=False)
    if sub.seed is not None:
        manifest.settings.seed = sub.seed
    manifest.settings.n_boot, manifest.settings.protocols = sub.n_boot, list(task.protocols())
    config = {**submitted.config, "task": task.name, "task_version": task.version, "split": split, "limit": None}
    config["seed"], config["data_fingerprint"] = manifest.settings.seed, fingerprint
    manifest.model = safe_name(sub.name) if sub.name else submitted.model
    manifest.run_id = safe_name(sub.run_id) if sub.run_id else submitted.run_id
    manifest.task_info = TaskInfo(
        **{k: v for k, v in task.info().items() if k in TaskInfo.__struct_fields__},
        target=TASKS.target(sub.task),
        registered=True,
        split=split,
        limit=None,
        n_samples=len(samples),
        data_dir=None,
    )
    manifest.data_fingerprint = fingerprint
    manifest.config, manifest.config_hash = config, config_hash(config)
    manifest.status, manifest.updated = "complete", now_iso()
    manifest.submission = SubmissionInfo(
        role="scored", public_fingerprint=submitted.submission.public_fingerprint, sha256=hashes[0], manifest_sha256=hashes[1]
    )
    return manifest


def score_submission(path: Path, sub: Scoring, index: Callable[[Path], Path] | None = None) -> Submission:
    """Check ``path`` against the organiser's data and file it as a scored run; raises
    :class:`~fdrbench.submit.SubmissionRejected` with every reason when it is not accepted."""
    from fdrbench.progress import progress_bar
    from fdrbench.resolve import make_task

    path = Path(path)
    if not path.is_file():
        raise FdrbenchError(f"{path}: submission file not found")
    task = make_task(sub.task, sub.task_args)
    split = sub.split or task.default_split
    samples = task.load(sub.data_dir, split)
    if any(s.label is None for s in samples):
        raise FdrbenchError(f"{sub.data_dir}: this copy of {task.name!r} holds no labels; score submissions with the labelled copy")
    report = Report(path)
    manifest_path = sub.manifest or path.with_name(SUBMISSION_MANIFEST)
    submitted = _check_manifest(manifest_path, task, split, sub.limits, report)
    with Check(report, "data") as check:
        mine = public_fingerprint(task.blind_sample(s) for s in samples)
        theirs = submitted.submission.public_fingerprint if submitted is not None and submitted.submission else None
        if theirs is not None and theirs != mine:
            check.fail(
                f"the submission was made on other samples (public fingerprint {theirs[:16]}..., "
                f"this data's {mine[:16]}...): another release or split of the benchmark"
            )
    by_id = {s.id: s for s in samples}
    with progress_bar(len(samples), "checking the submission", unit="line", enabled=sub.show_progress) as bar:
        lines = read_submission(path, by_id, task.label_space, report, sub.limits, bar)
    if not report.ok or submitted is None:
        raise SubmissionRejected(report, stage="the submission")
    hashes = (sha256_file(path), sha256_file(manifest_path))
    manifest = _scored_manifest(submitted, task, samples, sub, hashes)
    scratch = Path(tempfile.mkdtemp(prefix="fdrbench-submission-"))
    try:
        run = RunDir(scratch / manifest.task / manifest.model / manifest.run_id)
        run.path.mkdir(parents=True)
        write_jsonl_atomic(run.path / PREDICTIONS, [lines[s.id].record(s.truth()) for s in samples])
        run.write_manifest(manifest)
        score_run(run, manifest, task, None, ScoreSettings(sub.n_boot, seed=manifest.settings.seed), None)
        return submit_run(run.path, sub.results, data_dir=sub.data_dir, replace=sub.replace, index=index)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
