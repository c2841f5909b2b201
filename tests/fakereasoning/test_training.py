"""The training recipe on the demo's MMFR-format training split: the loss falls, a crashed run resumes to
the same result, the output merges into a checkpoint that loads and reproduces the trained model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from fdrbench.adapters.fakereasoning import train_checkpoints
from fdrbench.adapters.fakereasoning.detector import FakeReasoningDetector
from fdrbench.adapters.fakereasoning.train import accumulation_steps, epoch_order, lora_targets
from fdrbench.detector import TrainContext
from fdrbench.errors import FdrbenchError
from fdrbench.tasks.demo import DemoTask

FAST = {"global_batch": 2, "per_device_batch": 1, "lr": 1e-2, "projector_lr": 1e-2, "lora_r": 8, "lora_alpha": 16}


def context(demo_root: Path, out: Path, action: str = "fit", limit: int | None = 2) -> TrainContext:
    return TrainContext(
        task=DemoTask(), data_dir=demo_root, split="train", out=out, seed=0, device="cpu", limit=limit, action=action, show_progress=False
    )


def recipe_args(tiny_ckpt, **extra) -> dict:
    return {
        "base": str(tiny_ckpt.weights),
        "clip": str(tiny_ckpt.clip),
        "dino": str(tiny_ckpt.dino),
        **FAST,
        "max_steps": 4,
        "epochs": 10,
        **extra,
    }


@pytest.fixture(scope="module")
def trained(demo_root, tiny_ckpt, tmp_path_factory):
    """Four optimizer steps, each over the same two demo records (two micro-batches accumulated)."""
    out = tmp_path_factory.mktemp("fit") / "run"
    summary = FakeReasoningDetector.train(context(demo_root, out), **recipe_args(tiny_ckpt, save_steps=2))
    return out, summary


def test_the_loss_falls_and_the_result_is_saved(trained):
    out, summary = trained
    history = json.loads((out / "train_config.json").read_text())["history"]
    assert [h["step"] for h in history] == [1, 2, 3, 4]
    assert history[-1]["lm"] < history[0]["lm"] - 0.05
    assert summary["accumulation"] == 2 and summary["processes"] == 1 and summary["precision"] == "fp32"
    assert summary["resumed_from"] is None and summary["tokenization_mismatches"] == 0
    assert (out / "lora" / "adapter_model.safetensors").is_file()
    adapter = json.loads((out / "lora" / "adapter_config.json").read_text())
    assert (adapter["r"], adapter["lora_alpha"]) == (8, 16)
    assert sorted(adapter["target_modules"]) == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]
    non_lora = load_file(str(out / "non_lora_trainables.safetensors"))
    assert "base_model.model.model.crossattention.mhatt.0.linear_q.weight" in non_lora
    assert "base_model.model.model.dino_mm_projector.2.bias" in non_lora
    assert not any("lora_" in k or "vision_tower" in k or "layers" in k for k in non_lora)
    assert [p.name for p in train_checkpoints.checkpoint_dirs(out)] == ["step-00000004"]


def test_a_crashed_run_resumes_to_the_same_weights(trained, demo_root, tiny_ckpt, tmp_path, monkeypatch):
    reference, _ = trained
    out = tmp_path / "run"
    real_save = train_checkpoints.save

    def save_then_crash(*args, **kwargs):
        real_save(*args, **kwargs)
        raise RuntimeError("simulated crash after the checkpoint of step 2")

    monkeypatch.setattr(train_checkpoints, "save", save_then_crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        FakeReasoningDetector.train(context(demo_root, out), **recipe_args(tiny_ckpt, save_steps=2))
    monkeypatch.setattr(train_checkpoints, "save", real_save)
    assert [p.name for p in train_checkpoints.checkpoint_dirs(out)] == ["step-00000002"]
    assert not (out / "lora").exists()
    summary = FakeReasoningDetector.train(context(demo_root, out), **recipe_args(tiny_ckpt, save_steps=2))
    assert summary["resumed_from"].endswith("step-00000002") and summary["steps"] == 4
    for name in ("non_lora_trainables.safetensors", "lora/adapter_model.safetensors"):
        ours, theirs = load_file(str(out / name)), load_file(str(reference / name))
        assert ours.keys() == theirs.keys()
        assert all(torch.allclose(ours[k], theirs[k], atol=1e-6) for k in ours), name
    histories = [json.loads((p / "train_config.json").read_text())["history"] for p in (out, reference)]
    assert [round(h["loss"], 5) for h in histories[0]] == [round(h["loss"], 5) for h in histories[1]]


def test_merge_writes_a_checkpoint_that_reproduces_the_trained_model(trained, tiny_ckpt, pixels):
    from peft import PeftModel

    from fdrbench.adapters.fakereasoning.pretrained import load_pretrained
    from fdrbench.adapters.fakereasoning.weights import KeyMapper

    out, _ = trained
    ctx = TrainContext(task=DemoTask(), data_dir=Path("."), split="train", out=out, action="merge", show_progress=False)
    result = FakeReasoningDetector.train(ctx, dtype="float32")
    merged = load_pretrained(result["merged"])
    assert sorted(merged.report.sources) == ["weights"]  # vision towers are inside the merged checkpoint

    expected = load_pretrained(str(tiny_ckpt.weights), clip=str(tiny_ckpt.clip), dino=str(tiny_ckpt.dino)).model
    expected.llm = PeftModel.from_pretrained(expected.llm, str(out / "lora"))
    trained_parts = KeyMapper(expected).from_original(load_file(str(out / "non_lora_trainables.safetensors")))
    expected.load_state_dict(trained_parts.tensors, strict=False)
    expected.eval()
    ids = [torch.tensor([1, -200, 40, 41, 42])] * 2
    with torch.no_grad():
        want = expected(ids, pixels)[0].logits
        got = merged.model(ids, pixels)[0].logits
    assert torch.allclose(got, want, atol=1e-4)
    base = load_pretrained(str(tiny_ckpt.weights), clip=str(tiny_ckpt.clip), dino=str(tiny_ckpt.dino)).model
    with torch.no_grad():
        assert not torch.allclose(base(ids, pixels)[0].logits, want, atol=1e-3)


def test_facl_can_be_switched_on(demo_root, tiny_ckpt, tmp_path):
    """FACL contrasts the samples of a micro-batch, so it needs two per device."""
    args = recipe_args(tiny_ckpt, max_steps=1, facl_weight=0.5, per_device_batch=2)
    summary = FakeReasoningDetector.train(context(demo_root, tmp_path / "facl"), **args)
    history = json.loads((tmp_path / "facl" / "train_config.json").read_text())["history"]
    assert summary["steps"] == 1 and history[0]["facl"] > 0
    assert history[0]["loss"] == pytest.approx(history[0]["lm"] + history[0]["cpm"] + 0.5 * history[0]["facl"], rel=1e-5)


def test_recipe_settings_are_checked(demo_root, tiny_ckpt, tmp_path):
    with pytest.raises(FdrbenchError, match="needs --train-arg base=..."):
        FakeReasoningDetector.train(context(demo_root, tmp_path / "a"))
    with pytest.raises(FdrbenchError, match="does not accept lora_rank"):
        FakeReasoningDetector.train(context(demo_root, tmp_path / "a"), base="x", lora_rank=4)
    with pytest.raises(FdrbenchError, match="not a multiple of per_device_batch 8 x 3"):
        accumulation_steps(128, 8, 3)
    assert accumulation_steps(128, 8, 8) == 2 and accumulation_steps(128, 4, 1) == 32
    with pytest.raises(FdrbenchError, match="no train_config.json"):
        FakeReasoningDetector.train(context(demo_root, tmp_path / "nothing", action="merge"))
    with pytest.raises(FdrbenchError, match="'fit' and 'merge'"):
        FakeReasoningDetector.train(context(demo_root, tmp_path / "a", action="evaluate"))


def test_epoch_order_is_seeded_and_padded_to_whole_global_batches():
    order = epoch_order(5, seed=0, epoch=0, global_batch=4)
    assert len(order) == 8 and sorted(order[:5]) == [0, 1, 2, 3, 4] and order[5:] == order[:3]
    assert order == epoch_order(5, 0, 0, 4) and order != epoch_order(5, 0, 1, 4)


def test_lora_targets_every_linear_layer_of_the_language_model(loaded):
    assert lora_targets(loaded.model.llm) == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]


def test_a_checkpoint_of_other_settings_is_not_resumed(trained, demo_root, tiny_ckpt, tmp_path):
    source, _ = trained
    out = tmp_path / "other"
    shutil.copytree(source / "checkpoints", out / "checkpoints")
    with pytest.raises(FdrbenchError, match="belongs to a run with other settings or data"):
        FakeReasoningDetector.train(context(demo_root, out), **recipe_args(tiny_ckpt, lr=5e-3))
