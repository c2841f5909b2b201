"""``fdrbench validate``: is a run folder complete, consistent and honestly scored?

A submitted run folder is untrusted. Each check below reports every reason it fails, naming
the file, line and field, so a submitter can fix the run rather than guess:

* ``files``       - ``manifest.json``, ``predictions.jsonl`` and ``scores.json`` exist.
* ``manifest``    - every provenance field is there, with the right type, and the derived ones
                    (config hash, prompt hash, folder names) agree with what they derive from.
* ``scores``      - ``scores.json`` follows the results contract and names the same run.
* ``predictions`` - every line is one well-formed prediction with its sample's truth, and
                    there is one per sample of the task split.
* ``fingerprint`` - the data fingerprint recomputed from the stored truths is the manifest's.
* ``task``        - the run was made on the task's current version and data: its fingerprint
                    matches the official one (see :mod:`fdrbench.fingerprints`).
* ``rescore``     - scoring the stored predictions again reproduces ``scores.json``.
* ``portable``    - (``--portable``, the check CI runs on ``results/``) no absolute local path
                    or secret, no per-rank or stray files: the folder is fit to commit.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdrbench.errors import FdrbenchError
from fdrbench.store import MANIFEST, PREDICTIONS, SCORES, prediction_files

CHECKS = ("files", "manifest", "scores", "predictions", "fingerprint", "task", "rescore", "portable")
MAX_MESSAGES = 12
RUN_FILES = frozenset({MANIFEST, PREDICTIONS, SCORES})
#: metrics whose values are not bounded by 1 (the rest must lie in [0, 1])
UNBOUNDED_METRICS = frozenset({"nll", "cider"})
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


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _read_json(path: Path, check: _Check) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        check.fail(f"{path.name}: not readable JSON ({exc})")
        return None


def _require(obj: dict, key: str, kind: type | tuple[type, ...], check: _Check, where: str, nullable: bool = False) -> Any:
    if key not in obj:
        check.fail(f"{where}: missing '{key}'")
        return None
    value = obj[key]
    if value is None and nullable:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        check.fail(f"{where}: '{key}' must be {names}{' or null' if nullable else ''}, got {json.dumps(value)[:60]}")
        return None
    return value


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
    if _is_number(stored) and _is_number(fresh):
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
        if not (run_dir / MANIFEST).is_file():
            check.fail(f"{MANIFEST} is missing")
        if not prediction_files(run_dir):
            check.fail(f"{PREDICTIONS} is missing")
        if not (run_dir / SCORES).is_file():
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
        names = {}
        for key in ("task", "model", "run_id"):
            value = _require(manifest, key, str, check, where)
            if value is not None and not _SAFE_NAME.match(value):
                check.fail(f"{where}: '{key}' {value!r} is not a safe folder name (letters, digits, '.', '_', '-')")
            names[key] = value
        layout = {"run_id": run_dir.name, "model": run_dir.parent.name, "task": run_dir.parent.parent.name}
        for key, folder in layout.items():
            if names.get(key) is not None and names[key] != folder:
                check.fail(f"{where}: '{key}' is {names[key]!r} but the folder is named {folder!r} (results/<task>/<model>/<run_id>)")
        _require(manifest, "created", str, check, where)
        status = _require(manifest, "status", str, check, where)
        if status is not None and status != "complete":
            check.fail(f"{where}: status is {status!r}; only complete runs can be submitted (re-run the same command to finish it)")
        fingerprint = _require(manifest, "data_fingerprint", str, check, where)
        if fingerprint is not None and not _SHA256.match(fingerprint):
            check.fail(f"{where}: 'data_fingerprint' is not a sha256 hex digest")
        info = _require(manifest, "task_info", dict, check, where) or {}
        if info:
            if info.get("name") != names.get("task"):
                check.fail(f"{where}: task_info.name {info.get('name')!r} differs from task {names.get('task')!r}")
            _require(info, "version", str, check, f"{where} task_info")
            _require(info, "split", str, check, f"{where} task_info")
            n = _require(info, "n_samples", int, check, f"{where} task_info")
            if n is not None and n <= 0:
                check.fail(f"{where}: task_info.n_samples must be positive, got {n}")
            _require(info, "limit", int, check, f"{where} task_info", nullable=True)
            _require(info, "options", dict, check, f"{where} task_info")
        adapter = _require(manifest, "adapter", dict, check, where) or {}
        if adapter:
            for key in ("name", "target"):
                _require(adapter, key, str, check, f"{where} adapter")
            _require(adapter, "args", dict, check, f"{where} adapter")
            _require(adapter, "describe", dict, check, f"{where} adapter")
        settings = _require(manifest, "settings", dict, check, where) or {}
        if settings:
            _require(settings, "seed", int, check, f"{where} settings")
            _require(settings, "n_boot", int, check, f"{where} settings")
            _require(settings, "protocols", list, check, f"{where} settings")
        version = (_require(manifest, "fdrbench", dict, check, where) or {}).get("version")
        if not isinstance(version, str):
            check.fail(f"{where}: fdrbench.version is missing")
        _require(manifest, "environment", dict, check, where)
        config = _require(manifest, "config", dict, check, where)
        stored_hash = _require(manifest, "config_hash", str, check, where)
        if config is not None and stored_hash is not None and config_hash(config) != stored_hash:
            check.fail(f"{where}: 'config_hash' does not match 'config' (the settings were edited after the run)")
        if config is not None:
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


def _check_entry(entry: Any, metric: str, where: str, check: _Check) -> None:
    if not isinstance(entry, dict) or "value" not in entry or "ci" not in entry:
        check.fail(f"{where}.{metric}: expected {{'value': ..., 'ci': ...}}")
        return
    value, ci = entry["value"], entry["ci"]
    bounded = metric not in UNBOUNDED_METRICS
    if value is not None:
        if not _is_number(value):
            check.fail(f"{where}.{metric}.value must be a number or null, got {json.dumps(value)[:40]}")
        elif value < 0 or (bounded and value > 1):
            check.fail(f"{where}.{metric}.value {value} is outside [0, 1] (values are fractions, never percentages)")
    if ci is not None:
        if not (isinstance(ci, list) and len(ci) == 2 and all(_is_number(c) for c in ci)):
            check.fail(f"{where}.{metric}.ci must be [low, high] or null, got {json.dumps(ci)[:40]}")
        elif ci[0] > ci[1] or ci[0] < 0 or (bounded and ci[1] > 1):
            check.fail(f"{where}.{metric}.ci {ci} is not an interval inside [0, 1]")


def _check_metrics(block: Any, where: str, check: _Check) -> None:
    if not isinstance(block, dict):
        check.fail(f"{where}: expected an object of metric -> {{value, ci}}")
        return
    for metric, entry in block.items():
        _check_entry(entry, metric, where, check)


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
        settings = _require(scores, "settings", dict, check, SCORES) or {}
        if settings:
            n_boot = _require(settings, "n_boot", int, check, f"{SCORES} settings")
            if n_boot is not None and n_boot <= 0:
                check.fail(f"{SCORES}: settings.n_boot is {n_boot}; a submission needs bootstrap confidence intervals (--n-boot)")
            level = _require(settings, "ci_level", float, check, f"{SCORES} settings")
            if level is not None and not 0 < level < 1:
                check.fail(f"{SCORES}: settings.ci_level must be in (0, 1), got {level}")
            _require(settings, "seed", int, check, f"{SCORES} settings")
        protocols = _require(scores, "protocols", dict, check, SCORES)
        if protocols is not None and not protocols:
            check.fail(f"{SCORES}: 'protocols' is empty")
        for name, block in (protocols or {}).items():
            where = f"{SCORES} protocols.{name}"
            if not isinstance(block, dict):
                check.fail(f"{where}: expected an object")
                continue
            n = _require(block, "n", int, check, where)
            n_failed = _require(block, "n_failed", int, check, where)
            if n is not None and n_failed is not None and not 0 <= n_failed <= n:
                check.fail(f"{where}: n_failed {n_failed} is not between 0 and n {n}")
            _check_metrics(block.get("overall"), f"{where}.overall", check)
            for key, members in (_require(block, "groups", dict, check, where) or {}).items():
                if not isinstance(members, dict):
                    check.fail(f"{where}.groups.{key}: expected an object of group value -> metrics")
                    continue
                for value, metrics in members.items():
                    _check_metrics(metrics, f"{where}.groups.{key}.{value}", check)
            for agg, metrics in (_require(block, "aggregates", dict, check, where) or {}).items():
                _check_metrics(metrics, f"{where}.aggregates.{agg}", check)
        return check.count == 0


def _check_mask(value: Any, where: str, check: _Check) -> None:
    from fdrbench.types import decode_mask

    if value is None:
        return
    try:
        decode_mask(value)
    except ValueError as exc:
        check.fail(f"{where}: not a valid run-length mask ({exc})")


def _check_truth(truth: Any, where: str, check: _Check) -> None:
    from fdrbench.types import BINARY_CLASSES, TERNARY_CLASSES, label_of_class

    if not isinstance(truth, dict):
        check.fail(f"{where}: 'truth' must be an object with the sample's label, class, groups and reference")
        return
    label = truth.get("label")
    if label not in (0, 1) or isinstance(label, bool):
        check.fail(f"{where}: truth.label must be 0 (real) or 1 (fake), got {label!r}")
    cls = truth.get("cls")
    if cls is not None:
        if cls not in TERNARY_CLASSES + BINARY_CLASSES:
            check.fail(f"{where}: truth.cls {cls!r} is not one of {', '.join(TERNARY_CLASSES)}")
        elif label in (0, 1) and label_of_class(cls) != label:
            check.fail(f"{where}: truth.cls {cls!r} disagrees with truth.label {label}")
    group = truth.get("group")
    if not isinstance(group, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in group.items()):
        check.fail(f"{where}: truth.group must be an object of group key -> value (strings)")
    reference = truth.get("reference")
    if not isinstance(reference, dict) or not isinstance(reference.get("text"), (str, type(None))):
        check.fail(f"{where}: truth.reference must be an object with a 'text' (string or null)")
    for key in ("image", "question"):
        if not isinstance(truth.get(key), (str, type(None))):
            check.fail(f"{where}: truth.{key} must be a string or null")
    _check_mask(truth.get("mask"), f"{where} truth.mask", check)


_PREDICTION_TYPES: dict[str, tuple[type, ...]] = {
    "explanation": (str,),
    "raw_output": (str,),
    "error": (str,),
    "cls": (str,),
    "latency_s": (int, float),
    "n_tokens": (int,),
    "class_probs": (dict,),
    "mask": (dict,),
}


def check_predictions(run_dir: Path, manifest: dict, report: Report) -> dict[str, dict] | None:
    """Strictly parse every prediction line; returns the merged records, or None when malformed."""
    from fdrbench.errors import ResultsError
    from fdrbench.store import load_records
    from fdrbench.types import Prediction

    with _Check(report, "predictions") as check:
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
                    record = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    check.fail(f"{where}: not valid JSON ({exc})")
                    continue
                if not isinstance(record, dict):
                    check.fail(f"{where}: expected a JSON object")
                    continue
                sid = record.get("sample_id")
                if not isinstance(sid, str) or not sid:
                    check.fail(f"{where}: 'sample_id' must be a non-empty string")
                    continue
                where = f"{where} (sample {sid!r})"
                try:
                    Prediction.from_dict(record, where=where)
                except ResultsError as exc:
                    check.fail(str(exc))
                if record.get("label") is not None and not _is_int(record.get("label")):
                    check.fail(f"{where}: 'label' must be 0, 1 or null")
                if not isinstance(record.get("parse_ok", True), bool):
                    check.fail(f"{where}: 'parse_ok' must be true or false")
                for key, kinds in _PREDICTION_TYPES.items():
                    value = record.get(key)
                    if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
                        check.fail(f"{where}: '{key}' has the wrong type ({type(value).__name__})")
                _check_mask(record.get("mask") if isinstance(record.get("mask"), dict) else None, f"{where} mask", check)
                _check_truth(record.get("truth"), where, check)
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
    from fdrbench.pipeline import make_task

    with _Check(report, "task") as check:
        info = manifest.get("task_info") or {}
        try:
            task = make_task(str(manifest.get("task")), info.get("options") or {})
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
    run_dir: Path, data_dir: Path | None = None, portable: bool = False, rescore: bool = True, official: bool = True
) -> Report:
    """Run every check on one run folder and return the report (never raises for a bad folder).

    ``official`` False skips the comparison with the task's official fingerprint, and
    ``rescore`` False skips re-scoring; ``fdrbench submit`` uses both on its sanitised copy,
    which it has already validated in full before copying.
    """
    run_dir = Path(run_dir)
    report = Report(run_dir)
    why = _content_checks(run_dir, report, data_dir, rescore, official)
    if portable and run_dir.is_dir():
        check_portable(run_dir, report)
    if why:
        for name in CHECKS[1:-1]:
            if name not in report.passed and not any(p.check == name for p in report.problems):
                report.skipped[name] = why
    return report


def _content_checks(run_dir: Path, report: Report, data_dir: Path | None, rescore: bool, official: bool) -> str | None:
    """Every check but ``portable``; returns why the remaining checks were skipped, if they were."""
    if not check_files(run_dir, report):
        return "required files are missing"
    manifest = _read_json(run_dir / MANIFEST, _Check(report, "manifest"))
    scores = _read_json(run_dir / SCORES, _Check(report, "scores"))
    if manifest is None or not check_manifest(run_dir, manifest, report):
        return "the manifest is invalid"
    scores_ok = scores is not None and check_scores(scores, manifest, report)
    records = check_predictions(run_dir, manifest, report)
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
    if (path / MANIFEST).is_file() or not path.is_dir():
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
