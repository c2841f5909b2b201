"""Scoring speed of the text metrics on an MMFR-sized run: 20,000 explanations of ~80 words.

Builds a seeded synthetic run (MMFR-style five-attribute reference texts, explanations that
reuse part of them), then scores BLEU-1..4, ROUGE-L and CSS (bundled MiniLM, CPU) with the
engine's own scoring code, each phase in a fresh process as ``fdrbench score`` would run:

- ``cold``: empty embedding cache: every reference and explanation is encoded;
- ``warm``: a second model's run on the same references: only its explanations are encoded;
- ``rescore``: the same run scored again: every text is cached.

Usage: ``python bench/score_bench.py [--n 20000] [--n-boot 1000]``. Prints one line per phase and
a summary; ``--phase`` runs a single phase in the current process.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

STARTED = time.perf_counter()

METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l", "css")
ATTRIBUTES = ("lighting and shadows", "image edges", "image texture", "image quality", "semantic rationality")
SUBJECTS = (
    "the face",
    "the left hand",
    "the background wall",
    "the sky",
    "the hair",
    "the table surface",
    "the window",
    "the text on the sign",
)
OBSERVATIONS = (
    "shows {adj} transitions that do not follow the light source",
    "has {adj} boundaries where the object meets the background",
    "contains {adj} repeated patterns typical of generated content",
    "appears {adj} compared with the rest of the scene",
    "lacks the fine sensor noise expected from a real camera and looks {adj}",
    "presents {adj} details that are physically implausible",
)
ADJECTIVES = ("overly smooth", "inconsistent", "blurry", "sharp", "unnatural", "plausible", "coherent", "distorted", "waxy", "noisy")


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(OBSERVATIONS).format(adj=rng.choice(ADJECTIVES))}."


def reference(rng: random.Random) -> str:
    """Five attribute descriptions, about 140 words, as MMFR's joined reasoning strings."""
    parts = [f"Regarding {attr}, {sentence(rng).lower()} {sentence(rng)}" for attr in ATTRIBUTES]
    return " ".join(parts)


def explanation(rng: random.Random, ref: str, target_words: int = 80) -> str:
    """About 80 words: some sentences of the reference, the rest new."""
    ref_sentences = [s.strip() + "." for s in ref.split(".") if s.strip()]
    out: list[str] = []
    while sum(len(s.split()) for s in out) < target_words:
        out.append(rng.choice(ref_sentences) if rng.random() < 0.4 else sentence(rng))
    return " ".join(out)


def build_records(n: int, seed: int) -> list[dict]:
    refs_rng = random.Random(0)  # the references are the benchmark's: the same for every model
    hyp_rng = random.Random(seed)
    records = []
    for i in range(n):
        ref = reference(refs_rng)
        records.append(
            {
                "sample_id": f"set{i % 10}/{i:06d}",
                "label": i % 2,
                "explanation": explanation(hyp_rng, ref),
                "truth": {"label": i % 2, "reference": {"text": ref}, "group": {"generator": f"set{i % 10}"}},
            }
        )
    return records


def run_phase(n: int, seed: int, n_boot: int) -> dict:
    from fdrbench.protocols import STRICT_TEXT_OPTIONS
    from fdrbench.scoring import ScoreSettings, score_records
    from fdrbench.task import Protocol, Task

    class BenchTask(Task):
        name = "score_bench"
        group_keys = ("generator",)

        def samples(self, data_dir, split):
            return []

        def protocols(self):
            return {"strict": Protocol("strict", "text metrics", metrics=METRICS, options={**STRICT_TEXT_OPTIONS, "css_device": "cpu"})}

    records = build_records(n, seed)
    t0 = time.perf_counter()
    block = score_records(records, BenchTask(), ["strict"], ScoreSettings(n_boot=n_boot))["strict"]
    score_s = time.perf_counter() - t0
    words = sum(len(r["explanation"].split()) for r in records) / n
    return {
        "n": n,
        "mean_explanation_words": round(words, 1),
        "wall_s": round(time.perf_counter() - STARTED, 1),
        "score_s": round(score_s, 1),
        "values": {m: round(block["overall"][m]["value"], 4) for m in METRICS},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--phase", choices=("cold", "warm", "rescore"))
    args = parser.parse_args()
    if args.phase:
        seed = 1 if args.phase == "cold" else 2
        print(json.dumps({"phase": args.phase, **run_phase(args.n, seed, args.n_boot)}), flush=True)
        return
    import torch

    print(f"torch threads: {torch.get_num_threads()}, cpu count: {os.cpu_count()}", flush=True)
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "FDRBENCH_CACHE": cache, "CUDA_VISIBLE_DEVICES": ""}
        results = []
        for phase in ("cold", "warm", "rescore"):
            cmd = [sys.executable, __file__, "--phase", phase, "--n", str(args.n), "--n-boot", str(args.n_boot)]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.stderr.write(done.stderr)
                raise SystemExit(f"phase {phase} failed")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results.append(result)
            print(json.dumps(result), flush=True)
    for r in results:
        print(
            f"{r['phase']:>8}: {r['wall_s']:7.1f} s wall ({r['score_s']:.1f} s scoring) for {r['n']} explanations of ~{r['mean_explanation_words']:.0f} words"
        )


if __name__ == "__main__":
    main()
