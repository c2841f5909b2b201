"""The command line end to end: run, score, show, list, train, errors and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from fdrbench.cli import app
from fdrbench.protocols import strict_metrics
from fdrbench.store import iter_records

from .conftest import HELPERS, REPO
from .helpers.plugins import install_entry_points

runner = CliRunner()
HASH = f"{HELPERS / 'toy_adapters.py'}:HashDetector"
TEXT = f"{HELPERS / 'toy_adapters.py'}:TextOnlyDetector"
# the demo is a three-way task with reference texts and masks: strict scores all of it
METRIC_NAMES = set(strict_metrics("ternary", references=True, masks=True))


def invoke(*args: str):
    return runner.invoke(app, list(args))


def only_run(out):
    (run_dir,) = [p for p in out.glob("*/*/*") if p.is_dir()]
    return run_dir


def check_metric_block(block: dict) -> None:
    for name, entry in block.items():
        assert set(entry) == {"value", "ci"}, name
        if entry["value"] is not None:
            assert 0.0 <= entry["value"] <= 1.0, name
        if entry["ci"] is not None:
            low, high = entry["ci"]
            assert 0.0 <= low <= high <= 1.0, name


def check_scores_contract(scores: dict) -> None:
    assert {"task", "task_version", "model", "run_id", "protocols"} <= set(scores)
    for block in scores["protocols"].values():
        assert {"n", "n_failed", "overall", "groups", "aggregates"} <= set(block)
        check_metric_block(block["overall"])
        for values in block["groups"].values():
            for metrics in values.values():
                check_metric_block(metrics)
        for metrics in block["aggregates"].values():
            check_metric_block(metrics)


def test_help_imports_nothing_heavy():
    code = "import sys, fdrbench.cli; print(sorted(m for m in ('numpy', 'sklearn', 'torch', 'PIL', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    result = invoke("--help")
    assert result.exit_code == 0 and "demo" in result.output


def test_list_models_and_tasks():
    result = invoke("list", "models")
    assert result.exit_code == 0 and "spectral" in result.output
    result = invoke("list", "tasks")
    assert result.exit_code == 0 and "mmfr_eval" in result.output and "demo" in result.output
    result = invoke("list", "things")
    assert result.exit_code == 2 and "models' or 'tasks'" in result.output


def test_unknown_names_and_bad_args_exit_2(tmp_path):
    result = invoke("run", "--model", "spectrl", "--task", "demo", "--out", str(tmp_path))
    assert result.exit_code == 2 and "Did you mean 'spectral'" in result.output
    result = invoke("run", "--model", "spectral", "--task", "dem", "--out", str(tmp_path))
    assert result.exit_code == 2 and "Did you mean 'demo'" in result.output
    result = invoke("run", "--model", HASH, "--task", "demo", "-M", "delay", "--out", str(tmp_path))
    assert result.exit_code == 2 and "expects key=value" in result.output
    result = invoke("run", "--model", HASH, "--task", "demo", "-M", "speed=3", "--out", str(tmp_path))
    assert result.exit_code == 2 and "does not accept speed" in result.output
    result = invoke("run", "--model", HASH, "--task", "demo", "--split", "val", "--out", str(tmp_path))
    assert result.exit_code == 2 and "no split 'val'" in result.output
    result = invoke("run", "--model", HASH, "--task", "mmfr_eval", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path))
    assert result.exit_code == 2 and "not found" in result.output and "MMFR-Dataset" in result.output


def test_run_show_score_with_a_user_adapter(demo_root, tmp_path):
    out = tmp_path / "results"
    result = invoke("run", "--model", HASH, "--task", "demo", "--limit", "30", "--out", str(out), "--no-progress", "-b", "4")
    assert result.exit_code == 0, result.output
    assert "hashdet on demo" in result.output and "overall" in result.output
    run_dir = only_run(out)
    assert run_dir.parent.name == "hashdet" and run_dir.parent.parent.name == "demo"
    assert sorted(p.name for p in run_dir.iterdir()) == ["manifest.json", "predictions.jsonl", "scores.json"]

    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["task"] == "demo" and manifest["model"] == "hashdet"
    assert manifest["task_info"]["n_samples"] == 30 and manifest["task_info"]["version"] == "1"
    assert len(manifest["data_fingerprint"]) == 64
    assert manifest["prompt"].startswith("Is this image real or fake?") and len(manifest["prompt_sha256"]) == 64
    assert manifest["adapter"]["describe"]["name"] == "hashdet"
    assert {"python", "libraries", "hardware"} <= set(manifest["environment"])
    assert manifest["settings"]["seed"] == 0 and manifest["settings"]["batch_size"] == 4
    assert manifest["timing"]["samples_per_s"] > 0 and manifest["usage"]["n_tokens"] == 90
    assert "commit" in manifest["fdrbench"]

    records = [r for _, r in iter_records(run_dir / "predictions.jsonl")]
    assert len(records) == 30 and len({r["sample_id"] for r in records}) == 30
    assert {
        "sample_id",
        "label",
        "p_fake",
        "class_probs",
        "explanation",
        "raw_output",
        "mask",
        "parse_ok",
        "error",
        "latency_s",
        "n_tokens",
        "truth",
    } <= set(records[0])
    tampered = [r for r in records if r["truth"]["cls"] == "tampered"]
    assert tampered and all(r["truth"]["mask"]["size"] == [128, 128] for r in tampered)

    scores = json.loads((run_dir / "scores.json").read_text())
    check_scores_contract(scores)
    assert set(scores["protocols"]["strict"]["overall"]) == METRIC_NAMES
    assert set(scores["protocols"]["strict"]["groups"]["generator"]) == {"gan", "diffusion", "tampered"}

    shown = invoke("show", str(run_dir))
    assert shown.exit_code == 0 and "data fingerprint" in shown.output and "generator=gan" in shown.output
    as_json = json.loads(invoke("show", str(run_dir), "--json").output)
    assert as_json["scores"] == scores

    (run_dir / "scores.json").unlink()
    rescored = invoke("score", str(run_dir))
    assert rescored.exit_code == 0, rescored.output
    assert json.loads((run_dir / "scores.json").read_text()) == scores

    again = invoke("run", "--model", HASH, "--task", "demo", "--limit", "30", "--out", str(out), "--no-progress")
    assert again.exit_code == 0
    assert len(list(iter_records(run_dir / "predictions.jsonl"))) == 30, "a finished run is not predicted again"


def test_resume_refuses_a_run_made_with_other_settings(demo_root, tmp_path):
    out = tmp_path / "r"
    args = ["run", "--model", HASH, "--task", "demo", "--limit", "8", "--out", str(out), "--run-id", "fixed", "--no-progress"]
    assert invoke(*args).exit_code == 0
    result = invoke(*args, "-M", "delay=0.001")
    assert result.exit_code == 2 and "model_args differ" in result.output


def test_detector_without_probabilities(demo_root, tmp_path):
    result = invoke("run", "--model", TEXT, "--task", "demo", "--limit", "40", "--out", str(tmp_path), "--no-progress", "--n-boot", "50")
    assert result.exit_code == 0, result.output
    assert "gives no p_fake" in result.output
    scores = json.loads((only_run(tmp_path) / "scores.json").read_text())
    strict = scores["protocols"]["strict"]
    assert strict["overall"]["ap"] == {"value": None, "ci": None}
    assert strict["n_failed"] > 0
    assert strict["overall"]["failure_rate"]["value"] == pytest.approx(strict["n_failed"] / 40)


def test_failing_samples_are_recorded_and_the_run_goes_on(demo_root, tmp_path):
    result = invoke(
        "run",
        "--model",
        HASH,
        "--task",
        "demo",
        "--limit",
        "40",
        "-M",
        "fail_every=4",
        "--max-failures",
        "none",
        "--out",
        str(tmp_path),
        "--no-progress",
        "--n-boot",
        "0",
    )
    assert result.exit_code == 0, result.output
    run_dir = only_run(tmp_path)
    records = [r for _, r in iter_records(run_dir / "predictions.jsonl")]
    failed = [r for r in records if r["error"]]
    assert len(records) == 40 and failed
    assert all("RuntimeError: synthetic failure on" in r["error"] for r in failed)
    assert all(r["label"] is not None for r in records if not r["error"]), "batch-mates of a failing sample are still predicted"
    scores = json.loads((run_dir / "scores.json").read_text())
    assert scores["protocols"]["strict"]["n_failed"] == len(failed)


def test_failure_budget_stops_the_run_and_keeps_predictions(demo_root, tmp_path):
    args = [
        "run",
        "--model",
        HASH,
        "--task",
        "demo",
        "--limit",
        "60",
        "-M",
        "fail_every=3",
        "--max-failures",
        "2",
        "-b",
        "4",
        "--out",
        str(tmp_path),
        "--no-progress",
    ]
    result = invoke(*args)
    assert result.exit_code == 3
    assert "more than the budget of 2" in result.output
    run_dir = only_run(tmp_path)
    kept = list(iter_records(run_dir / "predictions.jsonl"))
    assert 0 < len(kept) < 60
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "running" and "budget" in manifest["abort_reason"]
    assert not (run_dir / "scores.json").exists()
    finish = invoke(*args[:-5], "--max-failures", "none", "--out", str(tmp_path), "--no-progress")
    assert finish.exit_code == 0, finish.output
    assert len(list(iter_records(run_dir / "predictions.jsonl"))) == 60


def test_retry_failed_predicts_errors_again(demo_root, tmp_path):
    base = [
        "run",
        "--model",
        HASH,
        "--task",
        "demo",
        "--limit",
        "20",
        "--run-id",
        "x",
        "--out",
        str(tmp_path),
        "--no-progress",
        "--n-boot",
        "0",
        "--max-failures",
        "none",
    ]
    assert invoke(*base, "-M", "fail_every=3").exit_code == 0
    run_dir = only_run(tmp_path)
    n_failed = sum(1 for _, r in iter_records(run_dir / "predictions.jsonl") if r["error"])
    assert n_failed > 0
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["config"]["model_args"] = {}  # allow the same folder with the failure switched off
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    assert invoke(*base, "--retry-failed").exit_code == 0
    scores = json.loads((run_dir / "scores.json").read_text())
    assert scores["protocols"]["strict"]["n_failed"] == 0
    assert json.loads((run_dir / "manifest.json").read_text())["usage"]["n_duplicates_superseded"] == n_failed


def test_corrupt_image_becomes_a_failed_sample(demo_root, tmp_path):
    data = tmp_path / "mmfr"
    shutil.copytree(demo_root / "test", data)
    victim = sorted((data / "evaluation_sets" / "gan" / "1_fake").glob("*.png"))[0]
    victim.write_bytes(b"\x89PNG broken")
    result = invoke(
        "run",
        "--model",
        HASH,
        "--task",
        "mmfr_eval",
        "--data-dir",
        str(data),
        "--out",
        str(tmp_path / "out"),
        "--no-progress",
        "--n-boot",
        "0",
    )
    assert result.exit_code == 0, result.output
    records = {r["sample_id"]: r for _, r in iter_records(only_run(tmp_path / "out") / "predictions.jsonl")}
    bad = records[f"gan/1_fake/{victim.name}"]
    assert "not a readable image" in bad["error"] and victim.name in bad["error"]
    assert sum(1 for r in records.values() if r["error"]) == 1


def test_train_command(demo_root, tmp_path):
    out = tmp_path / "w.json"
    result = invoke("train", "spectral", "--task", "demo", "--out", str(out), "--no-progress", "-A", "C=0.5")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["n"] == 360 and summary["train_accuracy"] > 0.8
    assert json.loads(out.read_text())["meta"]["trained_on"]["C"] == 0.5
    bad = invoke("train", "spectral", "--task", "demo", "--split", "nope")
    assert bad.exit_code == 2 and "no split 'nope'" in bad.output
    none = invoke("train", HASH, "--task", "demo")
    assert none.exit_code == 2 and "no training recipe" in none.output


def test_score_and_show_errors(tmp_path):
    result = invoke("score", str(tmp_path))
    assert result.exit_code == 2 and "manifest not found" in result.output
    result = invoke("show", str(tmp_path / "x"))
    assert result.exit_code == 2


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "fdrbench", "--version"], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.startswith("fdrbench ")


def test_a_task_class_without_a_name_stays_inside_out(demo_root, tmp_path, monkeypatch):
    task_file = tmp_path / "my_task.py"
    task_file.write_text(
        "from fdrbench.tasks.demo import DemoTask\n\n\nclass Unnamed(DemoTask):\n    name = ''\n\n    def ensure_data(self, data_dir):\n        return data_dir\n"
    )
    out = tmp_path / "out"
    result = invoke(
        "run",
        "--model",
        HASH,
        "--task",
        f"{task_file}:Unnamed",
        "--data-dir",
        str(demo_root),
        "--limit",
        "6",
        "--out",
        str(out),
        "--no-progress",
        "--n-boot",
        "0",
    )
    assert result.exit_code == 0, result.output
    (run_dir,) = (out / "Unnamed" / "hashdet").iterdir()
    # the stored run names a class by path: re-scoring refuses until that class is registered
    refused = invoke("score", str(run_dir))
    assert refused.exit_code == 2 and "is not registered" in refused.output and "entry point" in refused.output
    install_entry_points(tmp_path / "plugin", monkeypatch, {"fdrbench.tasks": {"Unnamed": "my_task:Unnamed"}})
    monkeypatch.syspath_prepend(str(tmp_path))
    rescored = invoke("score", str(run_dir))
    assert rescored.exit_code == 0, rescored.output
