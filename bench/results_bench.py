"""Reading results at leaderboard scale: 50 runs x 20,000 predictions through the typed contract.

Writes 50 seeded synthetic run folders of 20,000 MMFR-sized lines (an ~80-word explanation and a
five-attribute reference each, ~1.3 KB per line), then reads every run's manifest, scores and
predictions with :class:`fdrbench.results.RunDir` (every line decoded into a typed ``Record``)
and, for comparison, with ``json.loads`` into plain dicts. A static-site export reads all of
them once: the target is under 60 s for the 50 runs on 2 cores (one core is used here).

Usage: ``python bench/results_bench.py [--runs 50] [--n 20000] [--keep DIR]``. Exits 1 when the
typed read of every run takes longer than the target.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 60.0
WORDS = [
    "the",
    "edges",
    "of",
    "the",
    "left",
    "hand",
    "blur",
    "into",
    "the",
    "background",
    "while",
    "the",
    "lighting",
    "on",
    "the",
    "face",
    "falls",
    "from",
    "two",
    "directions",
]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def write_runs(root: Path, runs: int, n: int) -> list[Path]:
    """``runs`` copies of one synthetic run (only the folder names differ: reading cost is the same)."""
    rng = random.Random(0)
    lines = []
    for i in range(n):
        label = i % 2
        attrs = {f"Attribute {k}": _text(rng, 16) for k in range(5)}
        lines.append(
            json.dumps(
                {
                    "sample_id": f"set{i % 10}/{label}_x/{i:06d}.png",
                    "label": label if rng.random() < 0.8 else 1 - label,
                    "p_fake": round(rng.random(), 6),
                    "cls": None,
                    "class_probs": None,
                    "explanation": _text(rng, 80),
                    "raw_output": None,
                    "mask": None,
                    "parse_ok": True,
                    "error": None,
                    "latency_s": 0.01,
                    "n_tokens": 120,
                    "extra": {},
                    "truth": {
                        "label": label,
                        "cls": None,
                        "group": {"generator": f"set{i % 10}"},
                        "reference": {"text": " ".join(attrs.values()), "texts": [], "parts": {"attributes": attrs}},
                        "image": f"set{i % 10}/{i:06d}.png",
                        "question": None,
                        "mask": None,
                    },
                }
            )
        )
    body = ("\n".join(lines) + "\n").encode()
    first = root / "bench" / "model-00" / "r"
    first.mkdir(parents=True)
    (first / "predictions.jsonl").write_bytes(body)
    out = [first]
    for k in range(1, runs):
        run = root / "bench" / f"model-{k:02d}" / "r"
        run.mkdir(parents=True)
        shutil.copyfile(first / "predictions.jsonl", run / "predictions.jsonl")
        out.append(run)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--keep", type=Path, default=None, help="write the runs here and keep them")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="fdrbench-results-bench-"))
    try:
        runs = write_runs(root, args.runs, args.n)
        size = sum((r / "predictions.jsonl").stat().st_size for r in runs) / 2**20
        from fdrbench.results import RunDir

        t0 = time.perf_counter()
        total = 0
        for run in runs:
            records, _ = RunDir(run).records()
            total += len(records)
        typed = time.perf_counter() - t0
        t0 = time.perf_counter()
        for run in runs:
            with open(run / "predictions.jsonl", "rb") as handle:
                plain = [json.loads(line) for line in handle]
            del plain
        untyped = time.perf_counter() - t0
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{args.runs} runs x {args.n} lines ({size:,.0f} MiB): typed Records {typed:.1f} s ({total / typed:,.0f} lines/s)")
    print(f"json.loads into dicts, for comparison: {untyped:.1f} s")
    ok = typed <= TARGET_S
    print(f"target: every run read in under {TARGET_S:.0f} s - {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
