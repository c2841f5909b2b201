"""``fdrbench submit``: validate, file a sanitised copy into results/, update the index; refuse bad runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fdrbench.cli import app
from fdrbench.errors import FdrbenchError
from fdrbench.hashing import config_hash
from fdrbench.leaderboard.index import INDEX_NAME, index_problems, read_index, update_index
from fdrbench.store import MANIFEST, PREDICTIONS, SCORES, read_json, write_json_atomic
from fdrbench.submit import SubmissionRejected, submit_run
from fdrbench.validate import validate_run

from .helpers.leaderboard_results import TOYS, rewrite_predictions, run_toy


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, demo_root) -> Path:
    """A run as a user makes it: the adapter named by its absolute path, an error naming a local file."""
    run_dir = run_toy(tmp_path_factory.mktemp("submit") / "runs", "HashDetector")

    def local_error(record):
        if record["sample_id"] == "gan/1_fake/gan_fake_0002.png":
            record.update(label=None, p_fake=None, parse_ok=False, error=f"OSError: cannot read {TOYS.parent}/cache/x.png")
        return record

    rewrite_predictions(run_dir, local_error)
    from fdrbench.stages.score import score_run_dir

    score_run_dir(run_dir)
    return run_dir


@pytest.fixture
def run_copy(local_run, tmp_path) -> Path:
    dest = tmp_path / "runs" / "demo" / "hashdet" / local_run.name
    shutil.copytree(local_run, dest)
    return dest


def test_submit_files_a_sanitised_copy_and_indexes_it(run_copy, tmp_path):
    results = tmp_path / "results"
    filed = submit_run(run_copy, results, index=update_index)
    assert filed.run_dir == results / "demo" / "hashdet" / run_copy.name
    assert sorted(p.name for p in filed.run_dir.iterdir()) == [MANIFEST, PREDICTIONS, SCORES]
    manifest = read_json(filed.run_dir / MANIFEST)
    assert manifest["adapter"]["name"] == "<abs>/toy_adapters.py:HashDetector"
    assert manifest["config"]["model"] == "<abs>/toy_adapters.py:HashDetector"
    assert manifest["config_hash"] == config_hash(manifest["config"])
    errors = [json.loads(line)["error"] for line in (filed.run_dir / PREDICTIONS).read_text().splitlines()]
    assert [e for e in errors if e] == ["OSError: cannot read <abs>/x.png"]
    assert (filed.run_dir / SCORES).read_bytes() == (run_copy / SCORES).read_bytes()
    report = validate_run(filed.run_dir, portable=True)
    assert report.ok, report.reasons()
    assert [r["path"] for r in read_index(results)["runs"]] == [f"demo/hashdet/{run_copy.name}"]
    assert index_problems(results) == []
    assert not [p for p in results.iterdir() if p.name.startswith(".staging")]


def test_per_rank_files_are_merged_into_one(run_copy, tmp_path):
    lines = (run_copy / PREDICTIONS).read_text().splitlines(keepends=True)
    (run_copy / "predictions.rank0.jsonl").write_text("".join(lines[::2]))
    (run_copy / "predictions.rank1.jsonl").write_text("".join(lines[1::2]))
    (run_copy / PREDICTIONS).unlink()
    filed = submit_run(run_copy, tmp_path / "results")
    merged = [json.loads(line)["sample_id"] for line in (filed.run_dir / PREDICTIONS).read_text().splitlines()]
    assert sorted(merged) == sorted(json.loads(line)["sample_id"] for line in lines)
    assert not list(filed.run_dir.glob("predictions.rank*"))


def test_a_rejected_run_leaves_nothing_behind(run_copy, tmp_path):
    scores = read_json(run_copy / SCORES)
    scores["protocols"]["strict"]["overall"]["accuracy"]["value"] = 1.0
    write_json_atomic(run_copy / SCORES, scores)
    results = tmp_path / "results"
    with pytest.raises(SubmissionRejected) as caught:
        submit_run(run_copy, results)
    assert "[rescore] scores.json does not match a fresh scoring" in str(caught.value)
    assert not results.exists() or not any(results.iterdir())


def test_an_existing_run_is_replaced_only_when_asked(run_copy, tmp_path):
    results = tmp_path / "results"
    submit_run(run_copy, results)
    with pytest.raises(FdrbenchError, match="already exists; pass --replace"):
        submit_run(run_copy, results)
    assert submit_run(run_copy, results, replace=True).replaced


def test_a_run_already_in_results_is_sanitised_in_place(run_copy, tmp_path):
    results = tmp_path / "results"
    inside = results / "demo" / "hashdet" / run_copy.name
    shutil.copytree(run_copy, inside)
    filed = submit_run(inside, results)
    assert filed.run_dir == inside and filed.replaced
    assert validate_run(inside, portable=True).ok


def test_secrets_never_reach_the_filed_copy(run_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("DETECTOR_API_TOKEN", "tok-1234567890")
    manifest = read_json(run_copy / MANIFEST)
    manifest["adapter"]["describe"]["endpoint_header"] = "Authorization: Bearer tok-1234567890"
    write_json_atomic(run_copy / MANIFEST, manifest)
    filed = submit_run(run_copy, tmp_path / "results")
    text = (filed.run_dir / MANIFEST).read_text()
    assert "tok-1234567890" not in text
    assert read_json(filed.run_dir / MANIFEST)["adapter"]["describe"]["endpoint_header"] == "Authorization: Bearer ***"


def test_cli_submit(run_copy, tmp_path):
    results = tmp_path / "results"
    ok = CliRunner().invoke(app, ["submit", str(run_copy), "--results", str(results)])
    assert ok.exit_code == 0, ok.output
    assert f"filed {results / 'demo' / 'hashdet' / run_copy.name}" in ok.output
    assert (results / INDEX_NAME).is_file()
    (run_copy / PREDICTIONS).unlink()
    bad = CliRunner().invoke(app, ["submit", str(run_copy), "--results", str(results), "--replace"])
    assert bad.exit_code == 1
    assert "[files] predictions.jsonl is missing" in bad.output
