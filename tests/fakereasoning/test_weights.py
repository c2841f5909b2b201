"""The explicit key mapping, strict loading with key lists on error, and save -> load -> same outputs."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from fdrbench.adapters.fakereasoning.checkpoint_files import WeightsError, quick_fingerprint, read_tensors, save_tensors, weight_files
from fdrbench.adapters.fakereasoning.pretrained import load_pretrained, save_pretrained
from fdrbench.adapters.fakereasoning.weights import KeyMapper, summarize_keys
from fdrbench.errors import FdrbenchError

RELEASED_NAMES = (
    "lm_head.weight",
    "model.embed_tokens.weight",
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.1.mlp.down_proj.weight",
    "model.norm.weight",
    "model.mm_projector.0.weight",
    "model.mm_projector.2.bias",
    "model.dino_mm_projector.0.weight",
    "model.crossattention.attention_mlp.mlp.0.weight",
    "model.crossattention.attention_mlp.mlp.2.bias",
    "model.crossattention.mhatt.0.linear_q.weight",
    "model.crossattention.mhatt.0.linear_merge.bias",
    "model.crossattention.ffn.0.mlp.fc.linear.weight",
    "model.crossattention.ffn.0.mlp.linear.bias",
    "model.crossattention.norm.0.a_2",
    "model.crossattention.norm.1.b_2",
    "model.vision_tower.vision_tower.vision_model.embeddings.class_embedding",
    "model.vision_tower.vision_tower.vision_model.encoder.layers.1.self_attn.out_proj.weight",
    "model.vision_tower.vision_tower.vision_model.post_layernorm.bias",
    "model.dino_tower.vision_tower.cls_token",
    "model.dino_tower.vision_tower.pos_embed",
    "model.dino_tower.vision_tower.mask_token",
    "model.dino_tower.vision_tower.patch_embed.proj.weight",
    "model.dino_tower.vision_tower.blocks.1.attn.qkv.weight",
    "model.dino_tower.vision_tower.blocks.0.attn.proj.bias",
    "model.dino_tower.vision_tower.blocks.0.ls1.gamma",
    "model.dino_tower.vision_tower.blocks.0.mlp.fc2.weight",
    "model.dino_tower.vision_tower.norm.weight",
)


def test_model_state_maps_to_the_released_names_and_back(loaded):
    mapper = KeyMapper(loaded.model)
    state = loaded.model.state_dict()
    original = mapper.to_original(state)
    assert set(RELEASED_NAMES) <= set(original)
    assert original["model.dino_tower.vision_tower.blocks.1.attn.qkv.weight"].shape == (96, 32)
    assert original["model.crossattention.norm.1.a_2"] is state["faff.layers.0.norm2.weight"]
    back = mapper.from_original(original)
    assert not back.unexpected and not back.ignored
    assert set(back.tensors) == set(state)
    assert all(torch.equal(back.tensors[k], state[k]) for k in state)


def test_fused_qkv_splits_into_query_key_value_in_that_order(loaded):
    mapper = KeyMapper(loaded.model)
    qkv = torch.arange(96 * 32, dtype=torch.float32).reshape(96, 32)
    mapped = mapper.dino_from_original({"blocks.0.attn.qkv.weight": qkv})
    names = sorted(mapped.tensors)
    assert names == [f"encoder.layer.0.attention.{p}_proj.weight" for p in ("k", "q", "v")]
    assert torch.equal(mapped.tensors["encoder.layer.0.attention.q_proj.weight"], qkv[:32])
    assert torch.equal(mapped.tensors["encoder.layer.0.attention.v_proj.weight"], qkv[64:])
    assert mapper.dino_from_original({"blocks.0.attn.qkv.weigth": qkv}).unexpected == ["blocks.0.attn.qkv.weigth"]


def test_known_extras_are_ignored_and_the_peft_prefix_accepted(loaded):
    mapper = KeyMapper(loaded.model)
    extras = {
        "model.layers.0.self_attn.rotary_emb.inv_freq": torch.ones(8),
        "model.dino_tower.clip_vision_tower.vision_model.post_layernorm.weight": torch.ones(32),
        "model.vision_tower.vision_tower.vision_model.embeddings.position_ids": torch.arange(5),
        "base_model.model.model.mm_projector.0.bias": torch.zeros(64),
    }
    mapped = mapper.from_original(extras)
    assert sorted(mapped.ignored) == sorted(list(extras)[:3])
    assert list(mapped.tensors) == ["mm_projector.0.bias"] and not mapped.unexpected


def test_summary_folds_layer_indices_into_ranges():
    keys = [f"llm.model.layers.{i}.mlp.up_proj.weight" for i in (0, 1, 2, 5)] + ["faff.bias_mlp.mlp.0.weight"]
    assert summarize_keys(keys) == "faff.bias_mlp.mlp.{0}.weight\n  llm.model.layers.{0-2,5}.mlp.up_proj.weight"


def test_a_wrong_checkpoint_fails_with_the_key_lists(tiny_ckpt, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_ckpt.weights, broken)
    state = load_file(str(broken / "model.safetensors"))
    state["model.crossattention.mhatt.0.linear_query.weight"] = state.pop("model.crossattention.mhatt.0.linear_q.weight")
    del state["model.layers.1.mlp.up_proj.weight"]
    state["model.mm_projector.2.weight"] = torch.zeros(3, 3)
    save_file(state, str(broken / "model.safetensors"))
    with pytest.raises(WeightsError) as err:
        load_pretrained(str(broken), clip=str(tiny_ckpt.clip), dino=str(tiny_ckpt.dino))
    text = str(err.value)
    assert "3 missing key(s)" in text
    assert "faff.layers.{0}.attn.q_proj.weight" in text and "llm.model.layers.{1}.mlp.up_proj.weight" in text
    assert "mm_projector.2.weight" in text
    assert "1 unexpected key(s)" in text and "model.crossattention.mhatt.0.linear_query.weight (model.safetensors)" in text
    assert "wrong shape" in text and "(3, 3) in model.safetensors, model has (64, 64)" in text


def test_missing_towers_without_sources_fail_clearly(tiny_ckpt, tmp_path):
    with pytest.raises(FdrbenchError, match="neither an existing path nor a Hugging Face Hub id"):
        load_pretrained(str(tiny_ckpt.weights), clip=str(tmp_path / "no-such-clip"), dino=str(tiny_ckpt.dino))
    with pytest.raises(FdrbenchError, match="not ViT-L/14: pass dino=PATH"):
        load_pretrained(str(tiny_ckpt.weights), clip=str(tiny_ckpt.clip))


def test_dino_file_in_a_training_wrapper_loads(tiny_ckpt, loaded, tmp_path):
    wrapped = tmp_path / "wrapped.pth"
    torch.save({"model": torch.load(tiny_ckpt.dino, weights_only=True)}, wrapped)
    again = load_pretrained(str(tiny_ckpt.weights), clip=str(tiny_ckpt.clip), dino=str(wrapped))
    assert torch.equal(again.model.vision.dino.embeddings.cls_token, loaded.model.vision.dino.embeddings.cls_token)


class Payload:
    """Stands for any object whose unpickling could run code."""


def test_pickled_objects_are_refused(tmp_path):
    hostile = tmp_path / "hostile.pth"
    torch.save({"x": torch.zeros(1), "obj": Payload()}, hostile)
    with pytest.raises(WeightsError, match="weights_only=True"):
        read_tensors(hostile)


def test_save_then_load_gives_identical_outputs(loaded, tmp_path, pixels):
    save_pretrained(loaded.model, loaded.tokenizer, tmp_path / "full", include_vision=True)
    again = load_pretrained(str(tmp_path / "full"))  # towers come from the checkpoint itself
    assert sorted(again.report.sources) == ["weights"]
    ids = [torch.tensor(loaded.tokenizer("USER: <x> ASSISTANT:").input_ids)] * 2
    ids = [torch.cat([i[:1], torch.tensor([-200]), i[1:]]) for i in ids]
    settings = {"max_new_tokens": 5, "do_sample": False, "output_logits": True, "return_dict_in_generate": True, "pad_token_id": 0}
    a, b = loaded.model.generate(ids, pixels, **settings), again.model.generate(ids, pixels, **settings)
    assert torch.equal(a.sequences, b.sequences)
    assert all(torch.equal(x, y) for x, y in zip(a.logits, b.logits, strict=True))


def test_sharded_checkpoints_follow_their_index(loaded, tmp_path):
    state = {f"t{i}": torch.full((256,), float(i)) for i in range(5)}
    paths = save_tensors(state, tmp_path, max_shard_bytes=2048)
    assert len(paths) == 3 and (tmp_path / "model.safetensors.index.json").is_file()
    assert weight_files(tmp_path) == paths
    merged = {}
    for p in paths:
        merged.update(read_tensors(p))
    assert all(torch.equal(merged[k], v) for k, v in state.items())
    (tmp_path / paths[1].name).unlink()
    with pytest.raises(WeightsError, match="shard file"):
        weight_files(tmp_path)


def test_fingerprint_changes_when_weights_change(tmp_path):
    path = tmp_path / "model.safetensors"
    save_file({"w": torch.zeros(4)}, str(path))
    before = quick_fingerprint([path])
    assert quick_fingerprint([path]) == before
    save_file({"w": torch.ones(4)}, str(path))
    assert quick_fingerprint([path]) != before


def test_hub_ids_resolve_through_the_hub_cache(tiny_ckpt, loaded, tmp_path, monkeypatch):
    """A Hub id goes through huggingface_hub's snapshot_download; here from a prepared cache, offline."""
    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--someone--fakereasoning-tiny"
    shutil.copytree(tiny_ckpt.weights, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    again = load_pretrained("someone/fakereasoning-tiny", clip=str(tiny_ckpt.clip), dino=str(tiny_ckpt.dino))
    assert again.report.sources["weights"] == {
        "source": "someone/fakereasoning-tiny",
        "path": str(repo / "snapshots" / commit),
        "revision": commit,
        "hub": True,
    }
    assert torch.equal(again.model.faff.layers[0].attn.q_proj.weight, loaded.model.faff.layers[0].attn.q_proj.weight)
    with pytest.raises(FdrbenchError, match="could not download 'someone/absent'"):
        load_pretrained("someone/absent")


def test_dtype_is_a_setting_and_bfloat16_runs(tiny_ckpt, pixels):
    from fdrbench.adapters.fakereasoning.detector import resolve_dtype

    # auto is the released evaluation's fp16 on a GPU; bf16 stays a setting
    assert resolve_dtype("auto", "cuda:0") == torch.float16 and resolve_dtype("auto", "cpu") == torch.float32
    assert resolve_dtype("bfloat16", "cuda:0") == torch.bfloat16
    assert resolve_dtype("float16", "cpu") == torch.float16
    with pytest.raises(FdrbenchError, match="dtype must be one of"):
        resolve_dtype("int8", "cpu")
    half = load_pretrained(str(tiny_ckpt.weights), clip=str(tiny_ckpt.clip), dino=str(tiny_ckpt.dino), dtype=torch.bfloat16)
    assert {p.dtype for p in half.model.parameters()} == {torch.bfloat16}
    ids = [torch.tensor([1, -200, 40, 41])] * 2
    out = half.model.generate(ids, pixels.to(torch.bfloat16), max_new_tokens=3, do_sample=False, pad_token_id=0)
    assert out.shape == (2, 3)
