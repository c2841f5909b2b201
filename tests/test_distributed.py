"""Data parallelism: two torchrun ranks (gloo, CPU) shard a run, rank 0 merges and scores."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from fdrbench.runner import shard
from fdrbench.store import iter_records
from fdrbench.types import Sample

from .conftest import HELPERS, REPO

HASH = f"{HELPERS / 'toy_adapters.py'}:HashDetector"


def test_shards_are_disjoint_and_cover_everything():
    samples = [Sample(id=str(i), label=i % 2) for i in range(11)]
    parts = [shard(samples, r, 3) for r in range(3)]
    ids = [s.id for part in parts for s in part]
    assert sorted(ids, key=int) == [str(i) for i in range(11)]
    assert len(ids) == len(set(ids))
    assert [len(p) for p in parts] == [4, 4, 3]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_two_ranks_then_single_process_resume(demo_root, tmp_path):
    args = [
        "run",
        "--model",
        HASH,
        "--task",
        "demo",
        "--limit",
        "40",
        "-b",
        "4",
        "--run-id",
        "dp",
        "--no-progress",
        "--n-boot",
        "200",
        "--device",
        "cpu",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launched = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nnodes=1",
            "--nproc_per_node=2",
            "-m",
            "fdrbench",
            *args,
            "--out",
            str(tmp_path / "dp"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert launched.returncode == 0, launched.stdout[-3000:] + launched.stderr[-3000:]
    run_dir = tmp_path / "dp" / "demo" / "hashdet" / "dp"
    rank_ids = [[r["sample_id"] for _, r in iter_records(run_dir / f"predictions.rank{k}.jsonl")] for k in (0, 1)]
    assert len(rank_ids[0]) == len(rank_ids[1]) == 20
    assert not set(rank_ids[0]) & set(rank_ids[1])
    scores = json.loads((run_dir / "scores.json").read_text())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["settings"]["world_size"] == 2

    single = subprocess.run(
        [sys.executable, "-m", "fdrbench", *args, "--out", str(tmp_path / "dp")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert single.returncode == 0, single.stderr
    assert not (run_dir / "predictions.jsonl").exists(), "a resumed run with another process count predicts nothing again"
    assert json.loads((run_dir / "scores.json").read_text()) == scores

    fresh = subprocess.run(
        [sys.executable, "-m", "fdrbench", *args, "--out", str(tmp_path / "one")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads((tmp_path / "one" / "demo" / "hashdet" / "dp" / "scores.json").read_text()) == scores
