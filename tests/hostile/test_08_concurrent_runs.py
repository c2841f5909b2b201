"""Class 8: two runs started on one folder never predict the same samples twice (the second takes
the lock before reading what is finished, so it stops), and ``validate`` refuses any sample id
that appears twice; ``submit`` files a retried failure as one line."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from fdrbench.hashing import config_hash

from ..conftest import REPO
from .kit import HASH, demo_run, invoke, one_line_error, read_lines, snapshot

N = 24


def command(out, log):
    return ["run", "-m", HASH, "-M", "delay=0.25", "-M", f"log={log}", "-t", "demo", "--limit", str(N), "-b", "4", "--run-id", "same",
            "--out", str(out), "--no-progress", "--n-boot", "0"]  # fmt: skip


def test_a_second_run_on_the_same_folder_stops_before_reading(demo_root, tmp_path):
    out, log = tmp_path / "results", tmp_path / "calls.log"
    first = subprocess.Popen(
        [sys.executable, "-m", "fdrbench", *command(out, log)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    predictions = out / "demo" / "hashdet" / "same" / "predictions.jsonl"
    deadline = time.time() + 120
    while (not predictions.exists() or predictions.read_bytes().count(b"\n") < 4) and time.time() < deadline:
        time.sleep(0.02)
    before = snapshot(tmp_path, skip=[out, log])
    second = invoke(*command(out, log))
    assert first.poll() is None, "the first run was still going when the second started"
    one_line_error(second, 2, "being written by another fdrbench process")
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    ids = [r["sample_id"] for r in read_lines(predictions)]
    assert len(ids) == len(set(ids)) == N, "every sample once"
    calls = log.read_text().splitlines()
    assert len(calls) == N, f"{len(calls) - N} samples were predicted twice"
    assert snapshot(tmp_path, skip=[out, log]) == before


def test_validate_refuses_any_repeated_sample(tmp_path):
    run_dir = demo_run(tmp_path / "results")
    lines = (run_dir / "predictions.jsonl").read_text().splitlines()
    conflicting = json.loads(lines[0])
    conflicting["label"] = 1 - conflicting["label"]
    for extra in (lines[0], json.dumps(conflicting)):
        (run_dir / "predictions.jsonl").write_text("\n".join([*lines, extra]) + "\n")
        result = invoke("validate", run_dir)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"sample {conflicting['sample_id']!r} appears again (first at predictions.jsonl line 1)" in result.output


def test_a_retried_failure_is_refused_by_validate_and_filed_as_one_line_by_submit(tmp_path):
    out = tmp_path / "runs"
    base = ("-t", "demo", "--limit", 12, "--out", out, "--no-progress", "--n-boot", 20, "--max-failures", "none", "--run-id", "r")
    assert invoke("run", "-m", HASH, "-M", "fail_every=3", *base).exit_code == 0
    (run_dir,) = [p.parent for p in out.glob("*/*/*/manifest.json")]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["config"]["model_args"] = {}  # the same folder, the failure switched off
    manifest["config_hash"] = config_hash(manifest["config"])
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    assert invoke("run", "-m", HASH, "--retry-failed", *base).exit_code == 0
    assert "appears again" in invoke("validate", run_dir).output
    filed = invoke("submit", run_dir, "--results", tmp_path / "results")
    assert filed.exit_code == 0, filed.output
    (copy,) = [p.parent for p in (tmp_path / "results").glob("*/*/*/manifest.json")]
    assert len(read_lines(copy / "predictions.jsonl")) == 12
    assert invoke("validate", copy).exit_code == 0
