"""``fdrbench validate``: is a run folder complete, consistent and honestly scored?

A submitted run folder is untrusted. Each check below reports every reason it fails, naming
the file, line and field, so a submitter can fix the run rather than guess:

* ``files``       - ``manifest.json``, ``predictions.jsonl`` and ``scores.json`` exist.
* ``manifest``    - every provenance field is there, with the right type, and the derived ones
                    (config hash, prompt hash, folder names) agree with what they derive from.
* ``scores``      - ``scores.json`` follows the results contract and names the same run.
* ``predictions`` - every line is one well-formed prediction with its sample's truth, and
                    there is exactly one per sample of the task split (no sample twice).
* ``fingerprint`` - the data fingerprint recomputed from the stored truths is the manifest's.
* ``task``        - the run was made on the task's current version and data: its fingerprint
                    matches the official one (see :mod:`fdrbench.fingerprints`).
* ``rescore``     - scoring the stored predictions again reproduces ``scores.json``.
* ``portable``    - (``--portable``, the check CI runs on ``results/``) no absolute local path
                    or secret, no per-rank or stray files: the folder is fit to commit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdrbench.contract import is_int, is_number, manifest_problems, record_problems, scores_problems
from fdrbench.errors import FdrbenchError
from fdrbench.store import MANIFEST, PREDICTIONS, SCORES, prediction_files

CHECKS = ("files", "manifest", "scores", "predictions", "fingerprint", "task", "rescore", "portable")
MAX_MESSAGES = 12
RUN_FILES = frozenset({MANIFEST, PREDICTIONS, SCORES})
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: embedding-based scores (CSS, BERTScore) move by ~1e-8 with the batch a text is encoded in, so a
#: re-score is compared to 1e-6 - far below the 0.1-point precision anything is reported at
_REL_TOL = 1e-6


@dataclass
class Problem:
    check: str
    message: str


@dataclass
class Report:
    """The outcome of validating one run folder."""

    run_dir: Path
    problems: list[Problem] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def reasons(self) -> list[str]:
        return [f"[{p.check}] {p.message}" for p in self.problems]

    def to_dict(self) -> dict:
        return {
            "run_dir": str(self.run_dir),
            "ok": self.ok,
            "passed": self.passed,
            "problems": [{"check": p.check, "message": p.message} for p in self.problems],
            "skipped": self.skipped,
            "notes": self.notes,
        }


class _Check:
    """Collects the problems of one check, capped so a broken file does not flood the report."""

    def __init__(self, report: Report, name: str):
        self.report = report
        self.name = name
        self.count = 0

    def fail(self, message: str) -> None:
        self.count += 1
        if self.count <= MAX_MESSAGES:
            self.report.problems.append(Problem(self.name, message))

    def __enter__(self) -> _Check:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.count > MAX_MESSAGES:
            self.report.problems.append(Problem(self.name, f"... and {self.count - MAX_MESSAGES} more problems of this kind"))
        if self.count == 0 and exc[0] is None:
            self.report.passed.append(self.name)


# --------------------------------------------------------------------------- helpers


def _read_json(path: Path, check: _Check) -> Any:
    from fdrbench.store import loads

    try:
        return loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        check.fail(f"{path.name}: not readable JSON ({exc})")
        return None


def diff_json(stored: Any, fresh: Any, path: str = "") -> list[str]:
    """Paths where two JSON values differ (floats compared with a relative tolerance of 1e-6)."""
    here = path or "<root>"
    if isinstance(stored, dict) and isinstance(fresh, dict):
        out = []
        for key in sorted(set(stored) | set(fresh), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in fresh:
                out.append(f"{sub}: in scores.json but not produced by scoring")
            elif key not in stored:
                out.append(f"{sub}: missing from scores.json")
            else:
                out.extend(diff_json(stored[key], fresh[key], sub))
        return out
    if isinstance(stored, list) and isinstance(fresh, list):
        if len(stored) != len(fresh):
            return [f"{here}: stored {json.dumps(stored)[:60]}, recomputed {json.dumps(fresh)[:60]}"]
        return [d for i, (a, b) in enumerate(zip(stored, fresh, strict=True)) for d in diff_json(a, b, f"{path}[{i}]")]
    if is_number(stored) and is_number(fresh):
        if abs(float(stored) - float(fresh)) <= _REL_TOL * max(1.0, abs(float(fresh))):
            return []
        return [f"{here}: stored {stored!r}, recomputed {fresh!r}"]
    if stored != fresh or type(stored) is not type(fresh):
        return [f"{here}: stored {json.dumps(stored)[:60]}, recomputed {json.dumps(fresh)[:60]}"]
    return []


# --------------------------------------------------------------------------- checks


def check_files(run_dir: Path, report: Report) -> bool:
    with _Check(report, "files") as check:
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


def check_manifest(run_dir: Path, manifest: Any, report: Report) -> bool:
    from fdrbench.manifest import SCHEMA_VERSION, config_hash, sha256_text

    with _Check(report, "manifest") as check:
        if not isinstance(manifest, dict):
            check.fail(f"{MANIFEST}: expected a JSON object")
            return False
        where = MANIFEST
        if manifest.get("schema_version") != SCHEMA_VERSION:
            check.fail(f"{where}: 'schema_version' is {manifest.get('schema_version')!r}, this fdrbench reads {SCHEMA_VERSION}")
        for problem in manifest_problems(manifest, where, complete=True):
            check.fail(problem)
        names = {key: manifest.get(key) if isinstance(manifest.get(key), str) else None for key in ("task", "model", "run_id")}
        for key, value in names.items():
            if value is not None and not _SAFE_NAME.match(value):
                check.fail(f"{where}: '{key}' {value!r} is not a safe folder name (letters, digits, '.', '_', '-')")
        layout = {"run_id": run_dir.name, "model": run_dir.parent.name, "task": run_dir.parent.parent.name}
        for key, folder in layout.items():
            if names.get(key) is not None and names[key] != folder:
                check.fail(f"{where}: '{key}' is {names[key]!r} but the folder is named {folder!r} (results/<task>/<model>/<run_id>)")
        status = manifest.get("status")
        if isinstance(status, str) and status != "complete":
            check.fail(f"{where}: status is {status!r}; only complete runs can be submitted (re-run the same command to finish it)")
        fingerprint = manifest.get("data_fingerprint")
        if isinstance(fingerprint, str) and not _SHA256.match(fingerprint):
            check.fail(f"{where}: 'data_fingerprint' is not a sha256 hex digest")
        info = manifest.get("task_info") if isinstance(manifest.get("task_info"), dict) else {}
        if info:
            if info.get("name") != names.get("task"):
                check.fail(f"{where}: task_info.name {info.get('name')!r} differs from task {names.get('task')!r}")
            n = info.get("n_samples")
            if is_int(n) and n <= 0:
                check.fail(f"{where}: task_info.n_samples must be positive, got {n}")
        settings = manifest.get("settings") if isinstance(manifest.get("settings"), dict) else {}
        if isinstance(manifest.get("fdrbench"), dict) and not isinstance(manifest["fdrbench"].get("version"), str):
            check.fail(f"{where}: fdrbench.version is missing")
        config, stored_hash = manifest.get("config"), manifest.get("config_hash")
        if isinstance(config, dict) and isinstance(stored_hash, str) and config_hash(config) != stored_hash:
            check.fail(f"{where}: 'config_hash' does not match 'config' (the settings were edited after the run)")
        if isinstance(config, dict):
            expected = {
                "task": names.get("task"),
                "task_version": info.get("version"),
                "split": info.get("split"),
                "limit": info.get("limit"),
                "seed": settings.get("seed"),
                "data_fingerprint": fingerprint,
            }
            for key, value in expected.items():
                if config.get(key) != value:
                    check.fail(f"{where}: config.{key} is {config.get(key)!r} but the run says {value!r}")
        if "prompt" not in manifest or "prompt_sha256" not in manifest:
            check.fail(f"{where}: 'prompt' and 'prompt_sha256' must be recorded (null for detectors without a prompt)")
        else:
            prompt = manifest["prompt"]
            want = sha256_text(prompt) if isinstance(prompt, str) and prompt else None
            if manifest["prompt_sha256"] != want:
                check.fail(f"{where}: 'prompt_sha256' does not match 'prompt'")
        return check.count == 0


def check_scores(scores: Any, manifest: dict, report: Report) -> bool:
    with _Check(report, "scores") as check:
        if not isinstance(scores, dict):
            check.fail(f"{SCORES}: expected a JSON object")
            return False
        info = manifest.get("task_info") or {}
        same = {
            "task": manifest.get("task"),
            "task_version": info.get("version"),
            "model": manifest.get("model"),
            "run_id": manifest.get("run_id"),
            "data_fingerprint": manifest.get("data_fingerprint"),
            "n_expected": info.get("n_samples"),
        }
        for key, value in same.items():
            if scores.get(key) != value:
                check.fail(f"{SCORES}: '{key}' is {scores.get(key)!r} but the manifest says {value!r}")
        if scores.get("partial") is not False:
            check.fail(f"{SCORES}: 'partial' must be false - the scores cover only part of the samples")
        settings = scores.get("settings") if isinstance(scores.get("settings"), dict) else {}
        n_boot, level = settings.get("n_boot"), settings.get("ci_level")
        if is_int(n_boot) and n_boot <= 0:
            check.fail(f"{SCORES}: settings.n_boot is {n_boot}; a submission needs bootstrap confidence intervals (--n-boot)")
        if is_number(level) and not 0 < level < 1:
            check.fail(f"{SCORES}: settings.ci_level must be in (0, 1), got {level}")
        for problem in scores_problems(scores, SCORES, complete=True):
            if "'partial'" not in problem:  # reported once, above
                check.fail(problem)
        return check.count == 0


def check_predictions(run_dir: Path, manifest: dict, report: Report, retried_ok: bool = False) -> dict[str, dict] | None:
    """Strictly parse every prediction line; returns the merged records, or None when malformed.

    Every sample must appear once. ``retried_ok`` (what ``fdrbench submit`` passes for the run it
    copies) accepts the one kind of repeat fdrbench writes itself, a failed prediction followed by
    its retry (``--retry-failed``); the filed copy keeps only the retry.
    """
    from fdrbench.store import load_records, loads

    with _Check(report, "predictions") as check:
        seen: dict[str, tuple[str, bool]] = {}
        for path in prediction_files(run_dir):
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                check.fail(f"{path.name}: the last line is cut short (no final newline); the run was interrupted mid-write")
            for number, raw in enumerate(data.split(b"\n")[:-1], start=1):
                where = f"{path.name} line {number}"
                if not raw.strip():
                    check.fail(f"{where}: empty line")
                    continue
                try:
                    record = loads(raw)
                except (ValueError, UnicodeDecodeError) as exc:
                    check.fail(f"{where}: not valid JSON ({exc})")
                    continue
                if not isinstance(record, dict):
                    check.fail(f"{where}: expected a JSON object")
                    continue
                sid = record.get("sample_id")
                if not isinstance(sid, str) or not sid:
                    check.fail(f"{where}: 'sample_id' must be a non-empty string")
                    continue
                for problem in record_problems(record, f"{where} (sample {sid!r})", complete=True):
                    check.fail(problem)
                if sid in seen:
                    first, first_failed = seen[sid]
                    if not (retried_ok and first_failed):
                        check.fail(f"{where}: sample {sid!r} appears again (first at {first}); every sample must appear once")
                seen[sid] = (where, record.get("error") is not None)
        if check.count:
            return None
        records, _ = load_records(run_dir)
        expected = (manifest.get("task_info") or {}).get("n_samples")
        if isinstance(expected, int) and len(records) != expected:
            check.fail(f"{len(records)} distinct samples predicted, but the task split has {expected}")
            return None
        return records


def check_fingerprint(records: dict[str, dict], manifest: dict, report: Report) -> None:
    from fdrbench.manifest import fingerprint_truths

    with _Check(report, "fingerprint") as check:
        fresh = fingerprint_truths((sid, rec["truth"]) for sid, rec in records.items())
        if fresh != manifest.get("data_fingerprint"):
            check.fail(
                f"the truths stored in the predictions hash to {fresh[:16]}..., not the manifest's data_fingerprint "
                f"{str(manifest.get('data_fingerprint'))[:16]}... (labels, groups or references were changed)"
            )


def check_task(manifest: dict, report: Report, data_dir: Path | None, official: bool) -> Any:
    """The run's task at its current version; returns the Task (or None when it cannot be made)."""
    from fdrbench import fingerprints
    from fdrbench.run_task import task_for_run

    with _Check(report, "task") as check:
        info = manifest.get("task_info") or {}
        try:
            task = task_for_run(manifest)
        except FdrbenchError as exc:
            check.fail(f"cannot load task {manifest.get('task')!r}: {exc}")
            return None
        if info.get("version") != task.version:
            check.fail(
                f"the run was made on {task.name} version {info.get('version')!r}; the current version is {task.version!r} - re-run it"
            )
            return task
        if not official:
            return task
        try:
            expected = fingerprints.expected_for(manifest, task, data_dir)
        except FdrbenchError as exc:
            check.fail(str(exc))
            return task
        for item in expected:
            if item.fingerprint != manifest.get("data_fingerprint"):
                check.fail(
                    f"data fingerprint {str(manifest.get('data_fingerprint'))[:16]}... differs from {item.fingerprint[:16]}..., "
                    f"the fingerprint of {item.source}: the run did not score the task's current data"
                )
            else:
                report.notes.append(f"data fingerprint matches {item.source}")
        return task


def check_rescore(task: Any, manifest: dict, scores: dict, records: dict[str, dict], report: Report) -> None:
    from fdrbench.pipeline import assemble_scores
    from fdrbench.scoring import ScoreSettings

    with _Check(report, "rescore") as check:
        settings = scores.get("settings") or {}
        try:
            fresh = assemble_scores(
                manifest,
                task,
                list(records.values()),
                list(scores.get("protocols") or {}),
                ScoreSettings(n_boot=int(settings["n_boot"]), level=float(settings["ci_level"]), seed=int(settings["seed"])),
            )
        except (FdrbenchError, KeyError, TypeError, ValueError) as exc:
            check.fail(f"scoring the stored predictions failed: {exc}")
            return
        for difference in diff_json(scores, json.loads(json.dumps(fresh))):
            check.fail(f"scores.json does not match a fresh scoring of the predictions: {difference}")


def check_portable(run_dir: Path, report: Report) -> None:
    from fdrbench import sanitise

    with _Check(report, "portable") as check:
        for path in sorted(run_dir.iterdir()):
            if path.name not in RUN_FILES:
                check.fail(f"{path.name}: unexpected file in a published run folder (only {', '.join(sorted(RUN_FILES))})")
        for name in (MANIFEST, SCORES):
            path = run_dir / name
            if path.is_file():
                try:
                    obj = json.loads(path.read_text(encoding="utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    continue
                for found in sanitise.value_findings(obj):
                    check.fail(f"{name}: {found} (run `fdrbench submit`, which rewrites it)")
        path = run_dir / PREDICTIONS
        if not path.is_file():
            return
        for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
            try:
                record = json.loads(raw) if raw.strip() else None
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if not isinstance(record, dict):
                continue
            truth = record.get("truth") if isinstance(record.get("truth"), dict) else {}
            fields = {"error": record.get("error"), "truth.image": truth.get("image"), "extra": record.get("extra")}
            for found in sanitise.value_findings(fields):
                check.fail(f"{PREDICTIONS} line {number}: {found} (run `fdrbench submit`, which rewrites it)")
            for token in sanitise.SECRET_RE.finditer(raw.decode("utf-8", "replace")):
                check.fail(f"{PREDICTIONS} line {number}: a secret-like token {token.group(0)[:6]}...")


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
    run_dir = Path(run_dir)
    report = Report(run_dir)
    why = _content_checks(run_dir, report, data_dir, rescore, official, retried_ok)
    if portable and run_dir.is_dir():
        check_portable(run_dir, report)
    if why:
        for name in CHECKS[1:-1]:
            if name not in report.passed and not any(p.check == name for p in report.problems):
                report.skipped[name] = why
    return report


def _content_checks(run_dir: Path, report: Report, data_dir: Path | None, rescore: bool, official: bool, retried_ok: bool) -> str | None:
    """Every check but ``portable``; returns why the remaining checks were skipped, if they were."""
    if not check_files(run_dir, report):
        return "required files are missing"
    manifest = _read_json(run_dir / MANIFEST, _Check(report, "manifest"))
    scores = _read_json(run_dir / SCORES, _Check(report, "scores"))
    if manifest is None or not check_manifest(run_dir, manifest, report):
        return "the manifest is invalid"
    scores_ok = scores is not None and check_scores(scores, manifest, report)
    records = check_predictions(run_dir, manifest, report, retried_ok)
    if records is None:
        return "the predictions are malformed"
    check_fingerprint(records, manifest, report)
    task = check_task(manifest, report, data_dir, official)
    if not rescore:
        report.skipped["rescore"] = "not requested"
    elif task is None or not scores_ok:
        report.skipped["rescore"] = "the task cannot be loaded" if task is None else "scores.json is invalid"
    else:
        check_rescore(task, manifest, scores, records, report)
    return None


def find_runs(root: Path) -> list[Path]:
    """Run folders under a results root (``<task>/<model>/<run_id>/manifest.json``), sorted."""
    return sorted(p.parent for p in Path(root).glob(f"*/*/*/{MANIFEST}") if not any(part.startswith(".") for part in p.parts[-4:-1]))


def validate_path(path: Path, data_dir: Path | None = None, portable: bool = False) -> tuple[list[Report], list[str]]:
    """Validate one run folder, or every run under a results root (and, with ``portable``, its index).

    Returns the reports and the problems of the results root itself (an out-of-date index).
    """
    path = Path(path)
    if (path / MANIFEST).exists() or not path.is_dir():
        return [validate_run(path, data_dir=data_dir, portable=portable)], []
    runs = find_runs(path)
    if not runs:
        raise FdrbenchError(f"{path} holds no run folder (<task>/<model>/<run_id>/{MANIFEST}) and is not one")
    reports = [validate_run(run, data_dir=data_dir, portable=portable) for run in runs]
    root_problems = []
    if portable:
        from fdrbench.leaderboard.index import index_problems

        root_problems = index_problems(path)
    return reports, root_problems


def print_reports(reports: list[Report], root_problems: list[str], echo=print) -> bool:
    """Human-readable outcome; returns True when everything passed."""
    for report in reports:
        echo(f"{'OK  ' if report.ok else 'FAIL'} {report.run_dir}")
        for name in report.passed:
            echo(f"  ok      {name}")
        for name, why in report.skipped.items():
            echo(f"  skipped {name}: {why}")
        for reason in report.reasons():
            echo(f"  error   {reason}")
        for note in report.notes:
            echo(f"  note    {note}")
    for problem in root_problems:
        echo(f"FAIL index: {problem}")
    ok = all(r.ok for r in reports) and not root_problems
    if len(reports) > 1:
        echo(f"{sum(r.ok for r in reports)} of {len(reports)} runs valid")
    return ok
