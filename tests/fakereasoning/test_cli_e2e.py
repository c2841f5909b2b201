"""``fdrbench run --model fakereasoning --task mmfr_eval`` and ``fdrbench train fakereasoning [merge]`` end to end,
on the demo's MMFR-layout data with a tiny checkpoint written in the released key layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..conftest import run_cli


def read_predictions(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]


def only_run_dir(out: Path) -> Path:
    (run_dir,) = [p for p in (out / "mmfr_eval" / "fakereasoning").iterdir() if p.is_dir()]
    return run_dir


@pytest.mark.slow
def test_run_on_mmfr_layout_with_a_released_layout_checkpoint(demo_root, tiny_ckpt, tmp_path):
    args = [
        "run",
        "--model",
        "fakereasoning",
        "--task",
        "mmfr_eval",
        "--data-dir",
        str(demo_root / "test"),
        "--limit",
        "6",
        "--batch-size",
        "3",
        "--device",
        "cpu",
        "--n-boot",
        "20",
        "--no-progress",
        "-M",
        f"weights={tiny_ckpt.weights}",
        "-M",
        f"clip={tiny_ckpt.clip}",
        "-M",
        f"dino={tiny_ckpt.dino}",
        "-M",
        "max_new_tokens=8",
    ]
    first = run_cli(*args, "--out", str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr[-3000:]
    run_dir = only_run_dir(tmp_path / "a")
    records = read_predictions(run_dir)
    assert len(records) == 6 and len({r["sample_id"] for r in records}) == 6
    for record in records:
        assert record["error"] is None and isinstance(record["raw_output"], str)
        assert 1 <= record["n_tokens"] <= 8
        assert record["p_fake"] is None or 0.0 <= record["p_fake"] <= 1.0
        assert record["parse_ok"] == (record["label"] is not None and record["explanation"] is not None)
        assert record["truth"]["group"]["generator"] in ("gan", "diffusion", "tampered")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    describe = manifest["adapter"]["describe"]
    assert describe["template"] == "llava_v1" and describe["decoding"]["temperature"] == 0.2
    assert describe["cpm"]["tau"] == 10.0 and describe["cpm"]["matches_released_ids"] is False
    assert describe["load"]["sources"]["dino"]["source"] == str(tiny_ckpt.dino)
    assert manifest["prompt"].startswith("Is this image real or fake?")
    assert manifest["config"]["model_identity"]["weights_fingerprint"]
    scores = json.loads((run_dir / "scores.json").read_text())
    assert scores["protocols"]["strict"]["n"] == 6


def test_sampled_outputs_repeat_for_the_same_batches(demo_root, tiny_ckpt, tmp_path):
    """Decoding samples at T = 0.2, seeded from the run seed and the batch's sample ids."""
    from fdrbench.pipeline import RunConfig, run

    model_args = {"weights": str(tiny_ckpt.weights), "clip": str(tiny_ckpt.clip), "dino": str(tiny_ckpt.dino), "max_new_tokens": 6}
    outputs = []
    for name in ("a", "b", "c"):
        config = RunConfig(
            model="fakereasoning",
            task="mmfr_eval",
            data_dir=demo_root / "test",
            limit=4,
            batch_size=2,
            out=tmp_path / name,
            device="cpu",
            seed=0 if name != "c" else 1,
            n_boot=0,
            show_progress=False,
            model_args=model_args,
        )
        result = run(config)
        outputs.append({r["sample_id"]: r["raw_output"] for r in read_predictions(result.run_dir)})
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


@pytest.mark.slow
def test_train_and_merge_from_the_command_line(tiny_ckpt, tmp_path):
    out = tmp_path / "trained"
    train = run_cli(
        "train",
        "fakereasoning",
        "--task",
        "demo",
        "--out",
        str(out),
        "--limit",
        "2",
        "--device",
        "cpu",
        "--no-progress",
        *("-A", f"base={tiny_ckpt.weights}", "-A", f"clip={tiny_ckpt.clip}", "-A", f"dino={tiny_ckpt.dino}"),
        *("-A", "global_batch=2", "-A", "per_device_batch=1", "-A", "lora_r=4", "-A", "lora_alpha=8", "-A", "max_steps=1"),
    )
    assert train.returncode == 0, train.stderr[-3000:]
    summary = json.loads(train.stdout)
    assert summary["steps"] == 1 and summary["accumulation"] == 2
    merge = run_cli("train", "fakereasoning", "merge", "--task", "demo", "--out", str(out), "-A", "dtype=float32")
    assert merge.returncode == 0, merge.stderr[-3000:]
    merged = Path(json.loads(merge.stdout)["merged"])
    assert merged == out / "merged" and (merged / "config.json").is_file()
    assert (merged / "model.safetensors").is_file() and (merged / "tokenizer.json").is_file()


def test_bad_weights_give_one_clear_error(demo_root, tmp_path):
    result = run_cli(
        *("run", "--model", "fakereasoning", "--task", "mmfr_eval", "--data-dir", str(demo_root / "test"), "--limit", "2"),
        *("--device", "cpu", "--no-progress", "--out", str(tmp_path), "-M", f"weights={tmp_path / 'nothing-here'}"),
    )
    assert result.returncode != 0
    assert "neither an existing path nor a Hugging Face Hub id" in result.stderr


@pytest.mark.slow
def test_two_processes_share_the_global_batch(demo_root, tiny_ckpt, tmp_path):
    """torchrun with two CPU processes (gloo): each takes half of every global batch."""
    import os
    import subprocess
    import sys

    from ..conftest import REPO

    out = tmp_path / "ddp"
    command = [
        *(sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1", "--nproc_per_node=2"),
        *("-m", "fdrbench", "train", "fakereasoning", "--task", "demo", "--out", str(out), "--limit", "4", "--device", "cpu"),
        *("--no-progress", "-A", f"base={tiny_ckpt.weights}", "-A", f"clip={tiny_ckpt.clip}", "-A", f"dino={tiny_ckpt.dino}"),
        *("-A", "global_batch=4", "-A", "per_device_batch=1", "-A", "lora_r=4", "-A", "lora_alpha=8", "-A", "max_steps=2"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    saved = json.loads((out / "train_config.json").read_text())
    assert saved["summary"]["processes"] == 2 and saved["summary"]["accumulation"] == 2 and saved["summary"]["steps"] == 2
    assert len(saved["history"]) == 2 and (out / "lora" / "adapter_model.safetensors").is_file()
