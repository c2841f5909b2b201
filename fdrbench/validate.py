"""``fdrbench validate``: is a run folder complete, consistent and honestly scored?

A submitted run folder is untrusted. Each check below reports every reason it fails, naming
the file, line and field, so a submitter can fix the run rather than guess:

* ``files``       - ``manifest.json``, ``predictions.jsonl`` and ``scores.json`` exist.
* ``manifest``    - it follows the contract, and the derived fields (config hash, prompt hash,
                    folder names) agree with what they derive from.
* ``scores``      - ``scores.json`` follows the contract and names the same run.
* ``predictions`` - every line is one well-formed prediction with its sample's truth, and
                    there is one per sample of the task split.
* ``fingerprint`` - the data fingerprint recomputed from the stored truths is the manifest's
                    (for a perturbed run, through its clean and truths fingerprints:
                    :mod:`fdrbench.perturbed_checks`).
* ``task``        - the run was made on the task's current version and data: its (clean)
                    fingerprint matches the official one (see :mod:`fdrbench.fingerprints`).
* ``rescore``     - scoring the stored predictions again reproduces ``scores.json``. A metric a
                    protocol has gained since the run was scored is reported as "not yet
                    scored" (a note): the stored metrics are re-scored and must agree.
* ``portable``    - (``--portable``, the check CI runs on ``results/``) no absolute local path
                    or secret, no per-rank or stray files: the folder is fit to commit.

Types and the contract's own rules come from :mod:`fdrbench.results` (``from_json(strict=True)``);
this module holds the checks across files and against the task. A results root's
``robustness.json`` files are checked by :mod:`fdrbench.validate_robustness`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from fdrbench.checks import Check, Report, diff_json
from fdrbench.errors import FdrbenchError, ResultsError
from fdrbench.record import Record
from fdrbench.results import SCHEMA_VERSION, Manifest, RunDir, Scores, find_robustness, find_runs
from fdrbench.store import MANIFEST, PREDICTIONS, SCORES, prediction_files

CHECKS = ("files", "manifest", "scores", "predictions", "fingerprint", "task", "rescore", "portable")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def is_safe_name(value: str) -> bool:
    """True for a name that can be a results folder: letters, digits, '.', '_', '-', not starting with '.' or '-'."""
    return bool(_SAFE_NAME.match(value))


def _contract(check: Check, read):
    """``read()`` of a contract type, its ResultsError reported as the check's problem."""
    try:
        return read()
    except ResultsError as exc:
        check.fail(_short(str(exc)))
        return None


def _short(message: str) -> str:
    """A contract error as reported: the file's name instead of its full path."""
    head, sep, rest = message.partition(": ")
    return f"{Path(head).name}: {rest}" if sep and ("/" in head or head.endswith(".json")) else message


# --------------------------------------------------------------------------- checks


def check_files(run_dir: Path, report: Report) -> bool:
    with Check(report, "files") as check:
        if not run_dir.is_dir():
            check.fail(f"{run_dir} is not a folder")
            return False
        for name in (MANIFEST, SCORES):
            if (run_dir / name).exists() and not (run_dir / name).is_file():
                check.fail(f"{name} is not a regular file (a folder or something else is there)")
        if not (run_dir / MANIFEST).exists():
            check.fail(f"{MANIFEST} is missing")
        try:
            if not prediction_files(run_dir):
                check.fail(f"{PREDICTIONS} is missing")
        except FdrbenchError as exc:
            check.fail(str(exc))
        if not (run_dir / SCORES).exists():
            check.fail(f"{SCORES} is missing (run `fdrbench score RUN_DIR`)")
        return check.count == 0


def check_manifest(run: RunDir, report: Report) -> Manifest | None:
    from fdrbench.hashing import config_hash, sha256_text

    with Check(report, "manifest") as check:
        manifest = _contract(check, lambda: run.manifest(strict=False))
        if manifest is None:
            return None
        where = MANIFEST
        for problem in manifest.problems():
            check.fail(f"{where}: {problem}")
        if manifest.schema_version != SCHEMA_VERSION:
            check.fail(f"{where}: 'schema_version' is {manifest.schema_version!r}, this fdrbench reads {SCHEMA_VERSION}")
        names = {"task": manifest.task, "model": manifest.model, "run_id": manifest.run_id}
        for key, value in names.items():
            if not is_safe_name(value):
                check.fail(f"{where}: '{key}' {value!r} is not a safe folder name (letters, digits, '.', '_', '-')")
        layout = {"run_id": run.path.name, "model": run.path.parent.name, "task": run.path.parent.parent.name}
        for key, folder in layout.items():
            if names[key] != folder:
                check.fail(f"{where}: '{key}' is {names[key]!r} but the folder is named {folder!r} (results/<task>/<model>/<run_id>)")
        if manifest.status != "complete":
            check.fail(
                f"{where}: status is {manifest.status!r}; only complete runs can be submitted (re-run the same command to finish it)"
            )
        if not _SHA256.match(manifest.data_fingerprint):
            check.fail(f"{where}: 'data_fingerprint' is not a sha256 hex digest")
        info = manifest.task_info
        if info.name != manifest.task:
            check.fail(f"{where}: task_info.name {info.name!r} differs from task {manifest.task!r}")
        if config_hash(manifest.config) != manifest.config_hash:
            check.fail(f"{where}: 'config_hash' does not match 'config' (the settings were edited after the run)")
        expected = {
            "task": manifest.task,
            "task_version": info.version,
            "split": info.split,
            "limit": info.limit,
            "seed": manifest.settings.seed,
            "data_fingerprint": manifest.data_fingerprint,
        }
        for key, value in expected.items():
            if manifest.config.get(key) != value:
                check.fail(f"{where}: config.{key} is {manifest.config.get(key)!r} but the run says {value!r}")
        if manifest.perturbation is not None:
            from fdrbench.perturbed_checks import manifest_problems

            for problem in manifest_problems(manifest):
                check.fail(problem)
        elif "perturbation" in manifest.config:
            check.fail(f"{where}: config names a perturbation but the manifest has no 'perturbation' section")
        want = sha256_text(manifest.prompt) if manifest.prompt else None
        if manifest.prompt_sha256 != want:
            check.fail(f"{where}: 'prompt_sha256' does not match 'prompt'")
        return manifest if check.count == 0 else None


def check_scores(run: RunDir, manifest: Manifest, report: Report) -> Scores | None:
    with Check(report, "scores") as check:
        scores = _contract(check, lambda: run.scores(strict=False))
        if scores is None:
            return None
        info = manifest.task_info
        same = {
            "task": (scores.task, manifest.task),
            "task_version": (scores.task_version, info.version),
            "model": (scores.model, manifest.model),
            "run_id": (scores.run_id, manifest.run_id),
            "data_fingerprint": (scores.data_fingerprint, manifest.data_fingerprint),
            "n_expected": (scores.n_expected, info.n_samples),
        }
        for key, (value, want) in same.items():
            if value != want:
                check.fail(f"{SCORES}: '{key}' is {value!r} but the manifest says {want!r}")
        if scores.partial:
            check.fail(f"{SCORES}: 'partial' must be false - the scores cover only part of the samples")
        if scores.settings.n_boot <= 0:
            check.fail(
                f"{SCORES}: settings.n_boot is {scores.settings.n_boot}; a submission needs bootstrap confidence intervals (--n-boot)"
            )
        if not 0 < scores.settings.ci_level < 1:
            check.fail(f"{SCORES}: settings.ci_level must be in (0, 1), got {scores.settings.ci_level}")
        for problem in scores.problems():
            check.fail(f"{SCORES} {problem}")
        return scores if check.count == 0 else None


def check_predictions(run: RunDir, manifest: Manifest, report: Report, retried_ok: bool = False) -> dict[str, Record] | None:
    """Strictly parse every prediction line; returns the merged records, or None when malformed.

    Every sample must appear once; with ``retried_ok`` a failed prediction followed by its retry
    (``--retry-failed``) is accepted too (``submit`` then files the retry alone).
    """
    with Check(report, "predictions") as check:
        seen: dict[str, tuple[str, bool]] = {}
        for path in prediction_files(run.path):
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                check.fail(f"{path.name}: the last line is cut short (no final newline); the run was interrupted mid-write")
            for number, raw in enumerate(data.split(b"\n")[:-1], start=1):
                where = f"{path.name} line {number}"
                if not raw.strip():
                    check.fail(f"{where}: empty line")
                    continue
                try:
                    record = Record.from_json(raw, strict=True, where=where)
                except ResultsError as exc:
                    check.fail(str(exc))
                    continue
                if record.sample_id in seen:
                    first, first_failed = seen[record.sample_id]
                    if not (retried_ok and first_failed):
                        check.fail(f"{where}: sample {record.sample_id!r} appears again (first at {first}); every sample must appear once")
                seen[record.sample_id] = (where, record.error is not None)
        if check.count:
            return None
        records, _ = run.records()
        expected = manifest.task_info.n_samples
        if len(records) != expected:
            check.fail(f"{len(records)} distinct samples predicted, but the task split has {expected}")
            return None
        return records


def check_fingerprint(records: dict[str, Record], manifest: Manifest, report: Report) -> None:
    from fdrbench.fingerprints import fingerprint_truths

    with Check(report, "fingerprint") as check:
        if manifest.perturbation is not None:
            from fdrbench.perturbed_checks import fingerprint_problems

            for problem in fingerprint_problems(records, manifest):
                check.fail(problem)
            return
        fresh = fingerprint_truths((sid, rec.truth) for sid, rec in records.items())
        if fresh != manifest.data_fingerprint:
            check.fail(
                f"the truths stored in the predictions hash to {fresh[:16]}..., not the manifest's data_fingerprint "
                f"{manifest.data_fingerprint[:16]}... (labels, groups or references were changed)"
            )


def check_task(run: RunDir, manifest: Manifest, report: Report, data_dir: Path | None, official: bool, records: dict | None = None):
    """The run's task at its current version; returns the Task (or None when it cannot be made).

    A perturbed run's clean fingerprint is what must match the official one; where its
    perturbation moved annotated regions, the moved truths are recomputed from the data too.
    """
    from fdrbench import fingerprints

    with Check(report, "task") as check:
        try:
            task = run.task(manifest)
        except FdrbenchError as exc:
            check.fail(f"cannot load task {manifest.task!r}: {_short(str(exc))}")
            return None
        if manifest.task_info.version != task.version:
            check.fail(
                f"the run was made on {task.name} version {manifest.task_info.version!r}; the current version is {task.version!r} - re-run it"
            )
            return task
        if not official:
            return task
        try:
            expected = fingerprints.expected_for(manifest, task, data_dir)
        except FdrbenchError as exc:
            check.fail(str(exc))
            return task
        pert = manifest.perturbation
        mine, what = (pert.clean_fingerprint, "clean data fingerprint") if pert else (manifest.data_fingerprint, "data fingerprint")
        for item in expected:
            if item.fingerprint != mine:
                check.fail(
                    f"{what} {mine[:16]}... differs from {item.fingerprint[:16]}..., "
                    f"the fingerprint of {item.source}: the run did not score the task's current data"
                )
            else:
                report.notes.append(f"{what} matches {item.source}")
        if pert is not None and records is not None:
            from fdrbench.perturbed_checks import moved_truths_against_data, regions_can_move

            if regions_can_move(manifest, records):
                problem, note = moved_truths_against_data(manifest, task, data_dir)
                if problem:
                    check.fail(problem)
                if note:
                    report.notes.append(note)
        return task


def check_rescore(task, run: RunDir, manifest: Manifest, scores: Scores, records: dict[str, Record], report: Report) -> None:
    """Re-score the stored metrics of every stored protocol; metrics added since are noted, not failed."""
    from fdrbench.judge.store import attach_judgements
    from fdrbench.metrics.judge import COLUMN as JUDGE_SCORE
    from fdrbench.scoring import ScoreSettings
    from fdrbench.stages.score import assemble_scores

    with Check(report, "rescore") as check:
        current = task.protocols()
        missing = [name for name in scores.protocols if name not in current]
        if missing:
            check.fail(f"scores.json has protocol(s) {', '.join(missing)}, which task {task.name!r} no longer defines")
            return
        stored_lists = {name: block.protocol.metrics for name, block in scores.protocols.items()}
        for name, metrics in stored_lists.items():
            new = [m for m in current[name].metrics if m not in metrics]
            if new:
                report.notes.append(f"protocol {name!r}: not yet scored with {', '.join(new)} (run `fdrbench score RUN_DIR` to add them)")
        judged = attach_judgements(run.path, records)
        settings = ScoreSettings(n_boot=scores.settings.n_boot, level=scores.settings.ci_level, seed=scores.settings.seed)
        try:
            fresh = assemble_scores(
                manifest,
                task,
                list(records.values()),
                list(scores.protocols),
                settings,
                (JUDGE_SCORE,) if judged else (),
                metric_lists={name: [m for m in metrics if m != JUDGE_SCORE] for name, metrics in stored_lists.items()},
            )
        except (FdrbenchError, KeyError, TypeError, ValueError) as exc:
            check.fail(f"scoring the stored predictions failed: {exc}")
            return
        fresh.headline_metrics = scores.headline_metrics  # display only, not a number to re-derive
        stored = json.loads(run.scores_path.read_text(encoding="utf-8"))
        for difference in diff_json(stored, json.loads(json.dumps(fresh.to_json()))):
            check.fail(f"scores.json does not match a fresh scoring of the predictions: {difference}")


# --------------------------------------------------------------------------- entry point


def validate_run(
    run_dir: Path,
    data_dir: Path | None = None,
    portable: bool = False,
    rescore: bool = True,
    official: bool = True,
    retried_ok: bool = False,
) -> Report:
    """Run every check on one run folder and return the report (never raises for a bad folder).

    ``official`` False skips the comparison with the task's official fingerprint, and
    ``rescore`` False skips re-scoring; ``fdrbench submit`` uses both on its sanitised copy,
    which it has already validated in full before copying. ``retried_ok`` accepts a failed
    prediction followed by its retry (see :func:`check_predictions`).
    """
    from fdrbench.portable import check_portable

    run_dir = Path(run_dir)
    report = Report(run_dir)
    why = _content_checks(RunDir(run_dir), report, data_dir, rescore, official, retried_ok)
    if portable and run_dir.is_dir():
        with Check(report, "portable") as check:
            for problem in check_portable(run_dir):
                check.fail(problem)
    if why:
        for name in CHECKS[1:-1]:
            if name not in report.passed and not any(p.check == name for p in report.problems):
                report.skipped[name] = why
    return report


def _content_checks(run: RunDir, report: Report, data_dir: Path | None, rescore: bool, official: bool, retried_ok: bool) -> str | None:
    """Every check but ``portable``; returns why the remaining checks were skipped, if they were."""
    if not check_files(run.path, report):
        return "required files are missing"
    manifest = check_manifest(run, report)
    if manifest is None:
        return "the manifest is invalid"
    scores = check_scores(run, manifest, report)
    records = check_predictions(run, manifest, report, retried_ok)
    if records is None:
        return "the predictions are malformed"
    check_fingerprint(records, manifest, report)
    task = check_task(run, manifest, report, data_dir, official, records)
    if not rescore:
        report.skipped["rescore"] = "not requested"
    elif task is None or scores is None:
        report.skipped["rescore"] = "the task cannot be loaded" if task is None else "scores.json is invalid"
    else:
        check_rescore(task, run, manifest, scores, records, report)
    return None


def validate_path(path: Path, data_dir: Path | None = None, portable: bool = False) -> list[Report]:
    """Validate one run folder or robustness file, or every run and robustness file under a results root."""
    from fdrbench.validate_robustness import validate_robustness

    path = Path(path)
    if path.suffix == ".json" and path.is_file():
        return [validate_robustness(path, portable=portable)]
    if (path / MANIFEST).exists() or not path.is_dir():
        return [validate_run(path, data_dir=data_dir, portable=portable)]
    runs = find_runs(path)
    if not runs:
        raise FdrbenchError(f"{path} holds no run folder (<task>/<model>/<run_id>/{MANIFEST}) and is not one")
    reports = [validate_run(run.path, data_dir=data_dir, portable=portable) for run in runs]
    return reports + [validate_robustness(file, portable=portable) for file in find_robustness(path)]
