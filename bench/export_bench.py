"""How long ``fdrbench leaderboard export`` takes on 50 runs of 20,000 samples, and how fast its overview opens.

Builds the results folder with the leaderboard bench's writers (synthetic detectors on the demo
task, scored by fdrbench's own score stage, the index built with paired tests as ``fdrbench
submit`` leaves it), then times:

* ``export``        - the whole static site written, cold (target: under a minute on 2 cores);
* ``overview load`` - headless Chromium opening ``index.html`` from disk with the network blocked,
                      minus the same browser opening an empty page (its start-up), median of repeats
                      (target: under a second).

Usage: ``python bench/export_bench.py [--runs 50] [--samples 20000] [--n-boot 200]``, or
``python bench/export_bench.py --results DIR`` to time an existing results folder with its index
(for instance one kept by ``python bench/leaderboard_bench.py --out DIR``, so the slow part,
scoring the synthetic runs and their paired tests, is done once for both benches).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from leaderboard_bench import synthetic_truths, write_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND")


def open_in_chromium(url: str) -> float:
    with tempfile.TemporaryDirectory() as profile:
        start = time.perf_counter()
        subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url], capture_output=True, check=True, timeout=120)
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples when scoring the synthetic runs")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--results", type=Path, default=None, help="time this results folder (with its index.json) instead of building one")
    args = parser.parse_args(argv)

    from fdrbench.leaderboard.export import export_site
    from fdrbench.leaderboard.index import update_index

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        if args.results is not None:
            root = args.results
            if not (root / "index.json").is_file():
                raise SystemExit(
                    f"{root} has no index.json; build it with `fdrbench leaderboard --results DIR --rebuild-index` or `leaderboard_bench.py --out DIR`"
                )
        else:
            root = Path(tmp) / "results"
            root.mkdir()
            truths = synthetic_truths(args.samples)
            for i in range(args.runs):
                write_run(root, f"detector-{i:02d}", truths, skill=0.5 + 2.5 * i / max(args.runs - 1, 1), seed=i, n_boot=args.n_boot)
            update_index(root)
        fixtures_s = time.perf_counter() - start
        index = json.loads((root / "index.json").read_text())
        n_runs = len(index["runs"])
        n_samples = sorted({(r.get("n_samples") or 0) for r in index["runs"]})
        exports = []
        for k in range(args.repeats):
            done = export_site(root, Path(tmp) / f"site{k}")
            exports.append(done.seconds)
        site = Path(tmp) / "site0"
        size_mb = sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 1e6
        print(f"{n_runs} runs x {'/'.join(map(str, n_samples))} samples; fixtures and index built or checked in {fixtures_s:.1f} s")
        print(f"export: median {statistics.median(exports):.2f} s (min {min(exports):.2f} s); {len(done.pages)} files, {size_mb:.1f} MB")
        print(f"export under a minute: {'yes' if statistics.median(exports) < 60 else 'NO'}")
        if CHROMIUM is None:
            print("overview load: not measured (chromium is not installed)")
            return
        (Path(tmp) / "empty.html").write_text("<!DOCTYPE html><title>empty</title>")
        empty = [open_in_chromium((Path(tmp) / "empty.html").as_uri()) for _ in range(args.repeats)]
        full = [open_in_chromium((site / "index.html").as_uri()) for _ in range(args.repeats)]
        load = statistics.median(full) - statistics.median(empty)
        print(
            f"overview load in Chromium: median {load * 1000:.0f} ms beyond start-up (page {statistics.median(full):.2f} s, empty {statistics.median(empty):.2f} s)"
        )
        print(f"overview loads under a second: {'yes' if load < 1 else 'NO'}")


if __name__ == "__main__":
    sys.exit(main())
