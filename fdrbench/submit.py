"""``fdrbench submit``: validate a run, file a publishable copy into ``results/``, update the index.

The copy is what gets committed, so it is rewritten on the way in: local absolute paths and
secrets are removed (:mod:`fdrbench.sanitise`), per-rank prediction files are merged into one
``predictions.jsonl``, and only the three files of the results contract are kept. The copy is
assembled in a staging folder inside the results root, validated again there (with the
portability checks CI runs), and only then moved into ``<results>/<task>/<model>/<run_id>/``,
so a rejected submission never leaves a half-written run behind.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from fdrbench.errors import FdrbenchError
from fdrbench.record import Record
from fdrbench.results import Manifest, RunDir
from fdrbench.store import PREDICTIONS, SCORES, write_jsonl_atomic
from fdrbench.validate import Report, validate_run


class SubmissionRejected(FdrbenchError):
    """The run failed validation; ``report`` holds every reason."""

    def __init__(self, report: Report, stage: str = "the run"):
        self.report = report
        reasons = "\n".join(f"  - {r}" for r in report.reasons())
        super().__init__(f"{stage} at {report.run_dir} was rejected:\n{reasons}")


@dataclass
class Submission:
    run_dir: Path
    report: Report
    replaced: bool
    index: Path | None


def clean_manifest(manifest: Manifest) -> Manifest:
    """The manifest without local paths or secrets; ``config_hash`` follows a rewritten ``config``."""
    from fdrbench.hashing import config_hash
    from fdrbench.sanitise import clean

    cleaned = Manifest.from_json(clean(manifest.to_json()), strict=False)
    if cleaned.config != manifest.config:
        cleaned.config_hash = config_hash(cleaned.config)
    return cleaned


def clean_record(record: Record) -> Record:
    """The record with local paths and secrets removed from the fields that are never scored."""
    from fdrbench.sanitise import clean

    out = msgspec.structs.replace(record)
    if out.error is not None:
        out.error = clean(out.error)
    out.extra = clean(out.extra)
    if out.truth.image is not None:
        out.truth = msgspec.structs.replace(out.truth, image=clean(out.truth.image))
    return out


def stage_copy(run_dir: Path, staging: Path) -> None:
    """Write the sanitised three-file copy of ``run_dir`` into ``staging``."""
    run = RunDir(run_dir)
    staging.mkdir(parents=True)
    RunDir(staging).write_manifest(clean_manifest(run.manifest()))
    records, _ = run.records()  # one line per sample: a retried failure keeps only its retry
    write_jsonl_atomic(staging / PREDICTIONS, [clean_record(r) for r in records.values()])
    shutil.copyfile(run.scores_path, staging / SCORES)


def publishable_copy(run_dir: Path, staging: Path) -> None:
    """The sanitised copy of an already validated run, written into ``staging`` and checked fit to
    publish (what ``submit`` files and ``results pack`` bundles)."""
    stage_copy(run_dir, staging)
    staged = validate_run(staging, portable=True, rescore=False, official=False)
    if not staged.ok:
        raise SubmissionRejected(staged, stage="the sanitised copy")
    if (staging / SCORES).read_bytes() != (run_dir / SCORES).read_bytes():
        raise FdrbenchError(f"{run_dir / SCORES} changed while it was being copied; try again")


def submit_run(
    run_dir: Path,
    results_root: Path = Path("results"),
    data_dir: Path | None = None,
    replace: bool = False,
    index: Callable[[Path], Path] | None = None,
) -> Submission:
    """Validate ``run_dir`` and file it under ``results_root``; raises SubmissionRejected with the reasons.

    ``index`` (a function of the results root returning the index file it rewrote) keeps the
    root's index current; the ``submit`` command passes the leaderboard's.
    """
    run_dir = Path(run_dir)
    results_root = Path(results_root)
    report = validate_run(run_dir, data_dir=data_dir, retried_ok=True)
    if not report.ok:
        raise SubmissionRejected(report)
    manifest = RunDir(run_dir).manifest()
    dest = results_root / manifest.task / manifest.model / manifest.run_id
    same = dest.exists() and dest.resolve() == run_dir.resolve()
    if dest.exists() and not same and not replace:
        raise FdrbenchError(f"{dest} already exists; pass --replace to overwrite it with this run")
    results_root.mkdir(parents=True, exist_ok=True)
    staging_root = results_root / f".staging-{uuid.uuid4().hex[:12]}"
    staging = staging_root / manifest.task / manifest.model / manifest.run_id
    try:
        publishable_copy(run_dir, staging)
        replaced = dest.exists()
        dest.parent.mkdir(parents=True, exist_ok=True)
        if replaced:
            os.replace(dest, staging_root / "previous")
        os.replace(staging, dest)
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)
    index_path = index(results_root) if index is not None else None
    final = Report(dest, passed=list(report.passed), notes=list(report.notes))
    return Submission(dest, final, replaced, index_path)
