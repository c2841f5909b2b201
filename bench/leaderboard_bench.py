"""How long the leaderboard's overview takes to load with 50 runs of 20,000 samples each.

Writes a results folder of synthetic runs on the demo task (50 detectors of graded skill;
predictions drawn from a seeded model of each detector, then scored by fdrbench's own score
stage), builds its index with ``fdrbench.leaderboard.index`` (paired tests included), and times:

* ``index build``   - what ``fdrbench submit`` / ``--rebuild-index`` spends once;
* ``overview data`` - reading and checking the index against every manifest and scores file,
                      ranking and building the table (a cold load, no cache);
* ``overview page`` - the whole overview page rendered by Streamlit's AppTest, cold.

Usage: ``python bench/leaderboard_bench.py [--runs 50] [--samples 20000] [--n-boot 200]``.
The bootstrap count only changes how long the fixtures take to score, not the load times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GENERATORS = ("gan", "diffusion", "tampered")


def synthetic_truths(n: int, seed: int = 0) -> list[tuple[str, dict]]:
    """``n`` samples, half fake, spread over the demo's three generators."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = i % 2
        generator = GENERATORS[(i // 2) % len(GENERATORS)]
        folder = "1_fake" if label else "0_real"
        cls = "real" if not label else ("tampered" if generator == "tampered" else "full_synthetic")
        sample_id = f"{generator}/{folder}/{generator}_{folder}_{i:06d}.png"
        reference = f"reference explanation {int(rng.integers(0, 1000))}"
        truth = {
            "label": label,
            "cls": cls,
            "group": {"generator": generator},
            "reference": {"text": reference, "texts": [], "parts": {}},
            "image": sample_id,
        }
        out.append((sample_id, truth))
    return out


def synthetic_records(truths: list[tuple[str, dict]], skill: float, seed: int) -> list[dict]:
    """Predictions of a detector whose logit separates the classes by ``skill``."""
    rng = np.random.default_rng(seed)
    y = np.array([t["label"] for _, t in truths])
    logits = skill * (2 * y - 1) + rng.normal(0.0, 1.0, size=len(y))
    p = 1.0 / (1.0 + np.exp(-logits))
    unparsed = rng.random(len(y)) < 0.01
    records = []
    for (sample_id, truth), pf, bad in zip(truths, p, unparsed, strict=True):
        label = None if bad else int(pf >= 0.5)
        records.append(
            {
                "sample_id": sample_id,
                "label": label,
                "p_fake": None if bad else float(pf),
                "cls": None,
                "class_probs": None,
                "explanation": None if bad else f"This image is {'fake' if label else 'real'}.",
                "raw_output": "unclear" if bad else f"This image is {'fake' if label else 'real'}.",
                "mask": None,
                "parse_ok": not bad,
                "error": None,
                "latency_s": 0.01,
                "n_tokens": 8,
                "extra": {},
                "truth": truth,
            }
        )
    return records


def write_run(root: Path, model: str, truths: list, skill: float, seed: int, n_boot: int) -> Path:
    import msgspec

    from fdrbench import __version__
    from fdrbench.fingerprints import fingerprint_truths
    from fdrbench.hashing import config_hash
    from fdrbench.manifest import now_iso
    from fdrbench.record import Record
    from fdrbench.resolve import make_task
    from fdrbench.results import SCHEMA_VERSION, Manifest
    from fdrbench.scoring import ScoreSettings
    from fdrbench.stages.score import assemble_scores
    from fdrbench.store import write_json_atomic
    from fdrbench.types import Truth

    task = make_task("demo")
    records = synthetic_records(truths, skill, seed)
    fingerprint = fingerprint_truths([(i, msgspec.convert(t, Truth)) for i, t in truths])
    run_id = f"test-all-s0-{seed:08d}"
    config = {"model": model, "task": "demo", "task_version": task.version, "split": "test", "limit": None, "seed": 0}
    config["data_fingerprint"] = fingerprint
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "task": "demo",
        "model": model,
        "run_id": run_id,
        "created": now_iso(),
        "status": "complete",
        "task_info": {**task.info(), "split": "test", "limit": None, "n_samples": len(records), "data_dir": None},
        "data_fingerprint": fingerprint,
        "adapter": {"name": model, "target": f"bench:{model}", "args": {"skill": skill}, "describe": {"skill": skill}},
        "config": config,
        "config_hash": config_hash(config),
        "settings": {"seed": 0, "n_boot": n_boot, "protocols": ["strict"]},
        "fdrbench": {"version": __version__},
        "environment": {},
        "prompt": None,
        "prompt_sha256": None,
    }
    run_dir = root / "demo" / model / run_id
    run_dir.mkdir(parents=True)
    with open(run_dir / "predictions.jsonl", "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    write_json_atomic(run_dir / "manifest.json", manifest)
    typed = [msgspec.convert(r, Record) for r in records]
    scores = assemble_scores(Manifest.from_json(manifest), task, typed, None, ScoreSettings(n_boot=n_boot))
    write_json_atomic(run_dir / "scores.json", scores.to_json())
    return run_dir


def time_overview_data(root: Path) -> float:
    from fdrbench.leaderboard import tables
    from fdrbench.leaderboard.index import load_index

    start = time.perf_counter()
    loaded = load_index(root)
    frame, _ = tables.overview(loaded.index, "strict", "accuracy")
    elapsed = time.perf_counter() - start
    assert len(frame) == len({r["model"] for r in loaded.index["runs"]}), "overview lost rows"
    assert not loaded.stale, loaded.stale
    return elapsed


def time_overview_page(root: Path) -> float:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from fdrbench.leaderboard.launch import APP, RESULTS_ENV

    os.environ[RESULTS_ENV] = str(root)
    st.cache_data.clear()
    app = AppTest.from_file(str(APP), default_timeout=120)
    start = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - start
    assert not app.exception, [e.value for e in app.exception]
    assert len(app.dataframe[0].value) > 0
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples when scoring the synthetic runs")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="keep the results folder here (default: a temporary folder)")
    args = parser.parse_args(argv)

    from fdrbench.leaderboard.index import update_index

    with tempfile.TemporaryDirectory() as tmp:
        root = args.out or Path(tmp) / "results"
        root.mkdir(parents=True, exist_ok=True)
        truths = synthetic_truths(args.samples)
        start = time.perf_counter()
        for i in range(args.runs):
            write_run(root, f"detector-{i:02d}", truths, skill=0.5 + 2.5 * i / max(args.runs - 1, 1), seed=i, n_boot=args.n_boot)
        fixtures_s = time.perf_counter() - start
        start = time.perf_counter()
        update_index(root)
        index_s = time.perf_counter() - start
        index = json.loads((root / "index.json").read_text())
        data_times = [time_overview_data(root) for _ in range(args.repeats)]
        page_times = [time_overview_page(root) for _ in range(args.repeats)]
        size_mb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
        print(f"{args.runs} runs x {args.samples} samples ({size_mb:.0f} MB on disk); fixtures scored in {fixtures_s:.1f} s")
        print(f"index build (paired tests: {len(index['pairs'])}): {index_s:.2f} s")
        print(f"overview data, cold: median {statistics.median(data_times) * 1000:.0f} ms (min {min(data_times) * 1000:.0f} ms)")
        print(f"overview page (AppTest), cold: median {statistics.median(page_times):.2f} s (min {min(page_times):.2f} s)")


if __name__ == "__main__":
    sys.exit(main())
