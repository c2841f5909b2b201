"""A run killed with SIGKILL resumes without duplicates or torn lines, and scores as if never stopped."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time

from fdrbench.store import iter_records

from .conftest import HELPERS, REPO

HASH = f"{HELPERS / 'toy_adapters.py'}:HashDetector"
N, BATCH = 48, 4


def command(out, *extra):
    return [
        sys.executable,
        "-m",
        "fdrbench",
        "run",
        "--model",
        HASH,
        "--task",
        "demo",
        "--limit",
        str(N),
        "-b",
        str(BATCH),
        "--run-id",
        "fixed",
        "--out",
        str(out),
        "--no-progress",
        "--n-boot",
        "300",
        *extra,
    ]


def complete_lines(path):
    if not path.exists():
        return 0
    return path.read_bytes().count(b"\n")


def test_sigkill_then_resume_matches_an_uninterrupted_run(demo_root, tmp_path):
    env = {**os.environ}
    reference = subprocess.run(command(tmp_path / "ref"), capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert reference.returncode == 0, reference.stderr
    ref_scores = json.loads((tmp_path / "ref" / "demo" / "hashdet" / "fixed" / "scores.json").read_text())

    log = tmp_path / "calls.log"
    out = tmp_path / "killed"
    preds = out / "demo" / "hashdet" / "fixed" / "predictions.jsonl"
    slow = command(out, "-M", "delay=0.05", "-M", f"log={log}")
    proc = subprocess.Popen(slow, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while complete_lines(preds) < 3 and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    written = complete_lines(preds)
    assert 3 <= written < N, "the kill landed part-way through the run"
    assert not (preds.parent / "scores.json").exists()

    resumed = subprocess.run(slow, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert resumed.returncode == 0, resumed.stderr

    raw = preds.read_bytes()
    assert raw.endswith(b"\n"), "no torn line at the end"
    records = [r for _, r in iter_records(preds)]
    assert len(records) == raw.count(b"\n"), "every line is a complete record"
    ids = [r["sample_id"] for r in records]
    assert len(ids) == len(set(ids)) == N, "every sample once, none twice"

    calls = collections.Counter(log.read_text().split())
    repeated = [sid for sid, n in calls.items() if n > 1]
    assert len(repeated) <= BATCH, "only the batch in flight at the kill is predicted again"

    scores = json.loads((preds.parent / "scores.json").read_text())
    assert scores == ref_scores
    manifest = json.loads((preds.parent / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["sessions"]) >= 1
