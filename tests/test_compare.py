"""``fdrbench compare``: pairing by id, bootstrap difference, McNemar, warnings, exclusions, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from fdrbench.cli import app
from fdrbench.compare import compare_runs
from fdrbench.errors import FdrbenchError, ResultsError

from .helpers.contract import manifest_for

runner = CliRunner()


def write_run(root, name, verdicts, truths, fingerprint="fp1", raw=None, scores=None):
    run_dir = root / "mmfr_eval" / name / "r1"
    run_dir.mkdir(parents=True)
    manifest = manifest_for("mmfr_eval", name, "r1", fingerprint, n_samples=len(verdicts))
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    lines = []
    for i, (verdict, truth) in enumerate(zip(verdicts, truths, strict=True)):
        lines.append(
            {
                "sample_id": f"s{i:03d}",
                "label": verdict,
                "p_fake": None if verdict is None else 0.2 + 0.6 * verdict,
                "parse_ok": verdict is not None,
                "raw_output": None if raw is None else raw[i],
                "truth": {"label": truth, "group": {"generator": "flux"}},
            }
        )
    (run_dir / "predictions.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    if scores is not None:
        (run_dir / "scores.json").write_text(json.dumps(scores))
    return run_dir


def make_pair(tmp_path, n=200, seed=0, **kwargs_b):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    a_right = rng.random(n) < 0.6
    b_right = a_right | (rng.random(n) < 0.6)
    a = write_run(tmp_path, "a", [int(v) for v in np.where(a_right, y, 1 - y)], [int(v) for v in y])
    b = write_run(tmp_path, "b", [int(v) for v in np.where(b_right, y, 1 - y)], [int(v) for v in y], **kwargs_b)
    return a, b, a_right, b_right


def test_paired_difference_and_mcnemar(tmp_path):
    a, b, a_right, b_right = make_pair(tmp_path)
    out = compare_runs([a, b], metrics=["accuracy", "roc_auc"], n_boot=300)
    comp = out["comparisons"][0]
    assert comp["n_shared"] == 200 and comp["a"] == "a/r1" and comp["b"] == "b/r1"
    acc = comp["metrics"]["accuracy"]
    assert acc["diff"] == pytest.approx(b_right.mean() - a_right.mean())
    assert acc["ci"][0] > 0 and acc["p_value"] < 0.01
    mc = comp["mcnemar_accuracy"]
    assert mc["b"] == int(np.sum(a_right & ~b_right)) == 0 and mc["c"] == int(np.sum(~a_right & b_right))
    assert out["warnings"] == []


def test_samples_are_matched_by_id_and_warnings_raised(tmp_path):
    a, _, _, _ = make_pair(tmp_path)
    truths = [json.loads(line)["truth"]["label"] for line in (a / "predictions.jsonl").read_text().splitlines()[:3]]
    c = write_run(tmp_path, "c", truths, truths, fingerprint="other")
    out = compare_runs([a, c], metrics=["accuracy"], n_boot=50)
    comp = out["comparisons"][0]
    assert comp["n_shared"] == 3 and comp["metrics"]["accuracy"]["b"] == 1.0
    assert any("task fingerprints differ" in w for w in out["warnings"])


def test_protocol_settings_mismatch_warns(tmp_path):
    from fdrbench.stages.score import score_run_dir

    a, b, _, _ = make_pair(tmp_path)
    score_run_dir(b)
    scores = json.loads((b / "scores.json").read_text())
    scores["protocols"]["strict"]["protocol"]["description"] = "an older strict"
    (b / "scores.json").write_text(json.dumps(scores))
    out = compare_runs([a, b], metrics=["accuracy"], n_boot=0)
    assert any("other settings" in w and "b/r1" in w for w in out["warnings"])


def test_excluded_failures_compare_only_samples_both_keep(tmp_path):
    answers = ["<REASONING>x</REASONING><CONCLUSION>This image is fake.</CONCLUSION>"] * 4
    broken = [*answers[:3], "no tags at all"]
    a = write_run(tmp_path, "a", [1, 1, 1, 1], [1, 1, 0, 1], raw=answers)
    b = write_run(tmp_path, "b", [1, 1, 1, None], [1, 1, 0, 1], raw=broken)
    comp = compare_runs([a, b], protocol="paper", metrics=["accuracy", "failure_rate"], n_boot=0)["comparisons"][0]
    assert comp["n_shared"] == 4 and comp["n_compared"] == 3
    assert comp["metrics"]["accuracy"]["n"] == 3 and comp["metrics"]["accuracy"]["diff"] == 0.0
    assert comp["metrics"]["failure_rate"]["n"] == 4 and comp["metrics"]["failure_rate"]["diff"] == pytest.approx(0.25)


def test_cli_compare_table_json_and_errors(tmp_path):
    a, b, _, _ = make_pair(tmp_path)
    shown = runner.invoke(app, ["compare", str(a), str(b), "--metric", "accuracy", "--n-boot", "100"])
    assert shown.exit_code == 0, shown.output
    assert "b/r1 vs a/r1" in shown.output and "McNemar" in shown.output
    as_json = runner.invoke(app, ["compare", str(a), str(b), "--metric", "accuracy", "--n-boot", "0", "--json"])
    assert json.loads(as_json.output)["comparisons"][0]["metrics"]["accuracy"]["ci"] is None
    single = runner.invoke(app, ["compare", str(a)])
    assert single.exit_code == 2 and "at least two" in single.output
    missing = runner.invoke(app, ["compare", str(a), str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "not a run folder" in missing.output
    with pytest.raises(FdrbenchError, match="no protocol 'judge'"):
        compare_runs([a, b], protocol="judge")
    other_truth = write_run(tmp_path, "d", [1] * 200, [1] * 200)
    with pytest.raises(ResultsError, match="disagree on the truth"):
        compare_runs([a, other_truth], metrics=["accuracy"])
