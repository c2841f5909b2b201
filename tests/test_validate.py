"""``fdrbench validate``: a real run passes every check; each kind of tampering is rejected with its reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import msgspec
import pytest
from typer.testing import CliRunner

from fdrbench import fingerprints
from fdrbench.cli import app
from fdrbench.errors import DataError, FdrbenchError
from fdrbench.fingerprints import fingerprint_truths
from fdrbench.hashing import config_hash
from fdrbench.record import Truth
from fdrbench.store import MANIFEST, PREDICTIONS, SCORES, read_json
from fdrbench.validate import CHECKS, diff_json, find_runs, validate_run

from .helpers.leaderboard_results import rewrite_predictions, run_toy

CONTENT_CHECKS = [c for c in CHECKS if c != "portable"]


@pytest.fixture(scope="module")
def good_run(tmp_path_factory, demo_root) -> Path:
    return run_toy(tmp_path_factory.mktemp("validate") / "results", "HashDetector")


@pytest.fixture
def run_copy(good_run, tmp_path) -> Path:
    """A private copy at results/<task>/<model>/<run_id> to tamper with."""
    dest = tmp_path / "results" / "demo" / "hashdet" / good_run.name
    shutil.copytree(good_run, dest)
    return dest


def problems(report, check: str) -> list[str]:
    return [p.message for p in report.problems if p.check == check]


def edit_json(path: Path, edit) -> None:
    """Edit a run file as a stranger would: written as is (fdrbench's own writers blank secrets)."""
    obj = read_json(path)
    edit(obj)
    path.write_text(json.dumps(obj, indent=2), encoding="utf-8")


def test_a_real_run_passes_every_check(good_run):
    report = validate_run(good_run)
    assert report.ok, report.reasons()
    assert sorted(report.passed) == sorted(CONTENT_CHECKS)
    assert report.notes == ["data fingerprint matches the official fingerprints (demo v1, split test)"]


def test_fingerprint_recomputed_from_the_data_folder(good_run, demo_root):
    report = validate_run(good_run, data_dir=demo_root)
    assert report.ok, report.reasons()
    assert f"data fingerprint matches the data at {demo_root}" in report.notes


def test_edited_score_is_rejected_by_the_rescore(run_copy):
    edit_json(run_copy / SCORES, lambda s: s["protocols"]["strict"]["overall"]["accuracy"].update(value=0.99))
    report = validate_run(run_copy)
    assert not report.ok
    (message,) = problems(report, "rescore")
    assert "protocols.strict.overall.accuracy.value: stored 0.99, recomputed" in message
    assert [p.check for p in report.problems] == ["rescore"]


def test_an_edited_ci_is_rejected_too(run_copy):
    edit_json(run_copy / SCORES, lambda s: s["protocols"]["strict"]["groups"]["generator"]["gan"]["f1"].update(ci=[0.1, 0.2]))
    messages = problems(validate_run(run_copy), "rescore")
    assert len(messages) == 2 and all("groups.generator.gan.f1.ci[" in m for m in messages)


@pytest.mark.parametrize("name", [MANIFEST, PREDICTIONS, SCORES])
def test_missing_file_is_rejected(run_copy, name):
    (run_copy / name).unlink()
    report = validate_run(run_copy)
    expected = f"{name} is missing" + (" (run `fdrbench score RUN_DIR`)" if name == SCORES else "")
    assert problems(report, "files") == [expected]
    assert set(report.skipped) == set(CONTENT_CHECKS) - {"files"}


def test_a_changed_truth_breaks_the_fingerprint(run_copy):
    def flip(record):
        if record["sample_id"] == "gan/1_fake/gan_fake_0000.png":
            record["truth"]["group"]["generator"] = "diffusion"
        return record

    rewrite_predictions(run_copy, flip)
    report = validate_run(run_copy)
    (message,) = problems(report, "fingerprint")
    assert "not the manifest's data_fingerprint" in message


def test_a_self_consistent_run_on_other_data_fails_the_official_fingerprint(run_copy):
    """Edited annotations with every hash updated to match: only the official fingerprint can tell."""

    def relabel(record):
        if record["sample_id"] == "gan/1_fake/gan_fake_0000.png":
            record["truth"]["reference"]["parts"]["note"] = "an annotation the released data does not have"
        return record

    rewrite_predictions(run_copy, relabel)
    truths = [
        (r["sample_id"], msgspec.convert(r["truth"], Truth)) for r in map(json.loads, (run_copy / PREDICTIONS).read_text().splitlines())
    ]
    fresh = fingerprint_truths(truths)

    def fix_manifest(m):
        m["data_fingerprint"] = fresh
        m["config"]["data_fingerprint"] = fresh
        m["config_hash"] = config_hash(m["config"])

    edit_json(run_copy / MANIFEST, fix_manifest)
    edit_json(run_copy / SCORES, lambda s: s.update(data_fingerprint=fresh))
    report = validate_run(run_copy)
    assert [p.check for p in report.problems] == ["task"]
    assert "the fingerprint of the official fingerprints (demo v1, split test)" in report.problems[0].message
    assert "did not score the task's current data" in report.problems[0].message


def test_malformed_line_is_rejected_with_its_line_number(run_copy):
    lines = (run_copy / PREDICTIONS).read_text().splitlines(keepends=True)
    lines[4] = '{"sample_id": "x", "label": 1,\n'
    (run_copy / PREDICTIONS).write_text("".join(lines))
    report = validate_run(run_copy)
    (message,) = problems(report, "predictions")
    assert message.startswith("predictions.jsonl line 5: not valid JSON")
    assert report.skipped == {c: "the predictions are malformed" for c in ("fingerprint", "task", "rescore")}


def test_torn_last_line_and_bad_fields_are_rejected(run_copy):
    text = (run_copy / PREDICTIONS).read_text()
    records = [json.loads(line) for line in text.splitlines()]
    records[0]["p_fake"] = 1.5
    records[1]["truth"]["label"] = 2
    records[2]["parse_ok"] = "yes"
    records[3]["mask"] = {"size": [2, 2], "counts": [1, 1]}
    body = "".join(json.dumps(r) + "\n" for r in records)
    (run_copy / PREDICTIONS).write_text(body + '{"sample_id": "torn"')
    messages = problems(validate_run(run_copy), "predictions")
    assert messages[0] == "predictions.jsonl: the last line is cut short (no final newline); the run was interrupted mid-write"
    assert "line 1" in messages[1] and "p_fake must be in [0, 1]" in messages[1]
    assert "line 2" in messages[2] and "truth.label must be 0 (real) or 1 (fake), got 2" in messages[2]
    assert "line 3" in messages[3] and "field 'parse_ok': expected bool, got str" in messages[3]
    assert "line 4" in messages[4] and "mask counts sum to 2, expected 2*2=4" in messages[4]
    assert len(messages) == 5


def test_a_missing_sample_is_rejected(run_copy):
    lines = (run_copy / PREDICTIONS).read_text().splitlines(keepends=True)
    (run_copy / PREDICTIONS).write_text("".join(lines[1:]))
    assert problems(validate_run(run_copy), "predictions") == ["239 distinct samples predicted, but the task split has 240"]


def test_manifest_problems_are_each_named(run_copy):
    def edit(m):
        m["status"] = "running"
        m["config"]["seed"] = 7
        m["prompt"] = "edited"

    edit_json(run_copy / MANIFEST, edit)
    messages = problems(validate_run(run_copy), "manifest")
    assert "manifest.json: status is 'running'; only complete runs can be submitted (re-run the same command to finish it)" in messages
    assert "manifest.json: 'config_hash' does not match 'config' (the settings were edited after the run)" in messages
    assert "manifest.json: config.seed is 7 but the run says 0" in messages
    assert "manifest.json: 'prompt_sha256' does not match 'prompt'" in messages
    assert len(messages) == 4


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.pop("environment"), "manifest.json: missing field 'environment'"),
        (lambda m: m["task_info"].pop("split"), "manifest.json: missing field 'task_info.split'"),
        (lambda m: m["settings"].update(seed="0"), "manifest.json: field 'settings.seed': expected int, got str"),
        (lambda m: m["task_info"].update(n_samples=0), "manifest.json: task_info.n_samples must be positive, got 0"),
    ],
)
def test_a_manifest_off_the_contract_names_the_field(run_copy, edit, message):
    edit_json(run_copy / MANIFEST, edit)
    report = validate_run(run_copy)
    assert problems(report, "manifest") == [message]
    assert report.skipped["predictions"] == "the manifest is invalid"


def test_folder_names_must_match_the_manifest(good_run, tmp_path):
    moved = tmp_path / "demo" / "someone-else" / good_run.name
    shutil.copytree(good_run, moved)
    assert problems(validate_run(moved), "manifest") == [
        "manifest.json: 'model' is 'hashdet' but the folder is named 'someone-else' (results/<task>/<model>/<run_id>)"
    ]


def test_scores_schema(run_copy):
    def edit(s):
        s["protocols"]["strict"]["overall"]["accuracy"]["value"] = 52.1
        s["protocols"]["strict"]["overall"]["f1"]["ci"] = [0.6, 0.4]
        s["settings"]["n_boot"] = 0
        s["model"] = "other"

    edit_json(run_copy / SCORES, edit)
    report = validate_run(run_copy)
    assert problems(report, "scores") == [
        "scores.json: 'model' is 'other' but the manifest says 'hashdet'",
        "scores.json: settings.n_boot is 0; a submission needs bootstrap confidence intervals (--n-boot)",
        "scores.json protocols.strict.overall.accuracy.value 52.1 is outside [0, 1] (values are fractions, never percentages)",
        "scores.json protocols.strict.overall.f1.ci [0.6, 0.4] is not an interval inside [0, 1]",
    ]
    assert report.skipped["rescore"] == "scores.json is invalid"


def test_task_version_must_be_current(run_copy):
    def edit(m):
        m["task_info"]["version"] = "0"
        m["config"]["task_version"] = "0"
        m["config_hash"] = config_hash(m["config"])

    edit_json(run_copy / MANIFEST, edit)
    edit_json(run_copy / SCORES, lambda s: s.update(task_version="0"))
    assert problems(validate_run(run_copy), "task") == ["the run was made on demo version '0'; the current version is '1' - re-run it"]


def test_unknown_task_is_reported(tmp_path, good_run):
    dest = tmp_path / "nosuchtask" / "hashdet" / good_run.name
    shutil.copytree(good_run, dest)

    def rename(obj):
        obj["task"] = "nosuchtask"
        if "task_info" in obj:
            obj["task_info"]["name"] = "nosuchtask"
            obj["config"]["task"] = "nosuchtask"
            obj["config_hash"] = config_hash(obj["config"])

    edit_json(dest / MANIFEST, rename)
    edit_json(dest / SCORES, rename)
    report = validate_run(dest)
    (message,) = problems(report, "task")
    assert (
        message.startswith("cannot load task 'nosuchtask':")
        and "unknown task 'nosuchtask': a stored run must name a registered task" in message
    )
    assert report.skipped["rescore"] == "the task cannot be loaded"


def test_portable_flags_local_paths_stray_files_and_secrets(run_copy, monkeypatch):
    monkeypatch.setenv("MY_SERVICE_API_KEY", "secret-value-123")
    edit_json(run_copy / MANIFEST, lambda m: m["adapter"]["describe"].update(note="key secret-value-123"))
    (run_copy / "notes.txt").write_text("hello")
    messages = problems(validate_run(run_copy, portable=True), "portable")
    assert "notes.txt: unexpected file in a published run folder (only manifest.json, predictions.jsonl, scores.json)" in messages
    assert any("adapter.describe.note: the value of a secret environment variable" in m for m in messages)
    assert any("adapter.name: the absolute path" in m and "toy_adapters.py" in m for m in messages)


def test_diff_json_tolerates_float_noise_only():
    assert diff_json({"a": [0.1, None]}, {"a": [0.1 + 1e-13, None]}) == []
    assert diff_json({"a": 1}, {"a": 1.0}) == []
    assert diff_json({"a": 0.5}, {"a": 0.5001}) == ["a: stored 0.5, recomputed 0.5001"]
    assert diff_json({"a": None}, {"a": 0.0}) == ["a: stored null, recomputed 0.0"]
    assert diff_json({"x": 1}, {"y": 1}) == ["x: in scores.json but not produced by scoring", "y: missing from scores.json"]


def test_cli_exit_codes_and_reasons(good_run, run_copy):
    runner = CliRunner()
    ok = runner.invoke(app, ["validate", str(good_run)])
    assert ok.exit_code == 0, ok.output
    assert "OK   " in ok.output and "ok      rescore" in ok.output
    edit_json(run_copy / SCORES, lambda s: s["protocols"]["strict"]["overall"]["ap"].update(value=0.9))
    bad = runner.invoke(app, ["validate", str(run_copy), "--json"])
    assert bad.exit_code == 1
    (report,) = json.loads(bad.output)["runs"]
    assert report["ok"] is False and report["problems"][0]["check"] == "rescore"


def test_a_results_root_validates_every_run(good_run, run_copy):
    root = run_copy.parents[2]
    shutil.copytree(run_copy, root / "demo" / "broken" / "r1")
    (root / "demo" / "broken" / "r1" / MANIFEST).write_text("{not json")
    assert [run.path for run in find_runs(root)] == [root / "demo" / "broken" / "r1", run_copy]
    result = CliRunner().invoke(app, ["validate", str(root)])
    assert result.exit_code == 1
    assert "1 of 2 runs valid" in result.output
    assert "manifest.json: not readable JSON" in result.output


def test_registry_holds_the_demo_fingerprints(demo_root):
    from fdrbench.tasks.demo import DemoTask

    task = DemoTask()
    for split in ("test", "train"):
        assert fingerprints.official(task, task.version, split) == fingerprints.compute(task, demo_root, split, None, 0)


def test_registry_record_is_sorted_and_round_trips(tmp_path):
    path = tmp_path / "fingerprints.json"
    fingerprints.record("zeta", "1", "test", "b" * 64, path)
    fingerprints.record("alpha", "2", "val", "a" * 64, path)
    assert list(json.loads(path.read_text())) == ["alpha", "zeta"]
    assert fingerprints.read_fingerprints(path)["alpha"]["2"]["val"] == "a" * 64


def test_without_registry_or_data_the_check_says_how_to_fix_it():
    class NoData:
        name = "private"
        version = "3"
        default_split = "test"
        official_fingerprints = {}

        def fingerprints_file(self):
            return None

        def load(self, *args):
            raise DataError("data folder for task 'private' not found", path="/nowhere")

        def default_data_dir(self):
            return Path("/nowhere")

    with pytest.raises(FdrbenchError, match="no official fingerprint is registered for private v3 split test, and the data is not"):
        manifest = SimpleNamespace(task_info=SimpleNamespace(split="test", limit=None), settings=SimpleNamespace(seed=0))
        fingerprints.expected_for(manifest, NoData())
