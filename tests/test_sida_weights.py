"""SIDA checkpoint names: the released layout maps onto the modules one to one, and back."""

from __future__ import annotations

import json

import pytest
import torch

from fdrbench.adapters.sida.config import tiny_config
from fdrbench.adapters.sida.loader import load
from fdrbench.adapters.sida.modeling import SidaModel
from fdrbench.adapters.sida.weights import POSITIONAL, KeyMap, checkpoint_keys, iter_tensors, weight_files
from fdrbench.errors import FdrbenchError

from .helpers.sida_tiny import write_checkpoint

# Released names (the authors' SIDAForCausalLM state dict, LISA layout) -> this package's names.
RELEASED = {
    "model.embed_tokens.weight": "language_model.model.embed_tokens.weight",
    "model.layers.0.self_attn.q_proj.weight": "language_model.model.layers.0.self_attn.q_proj.weight",
    "model.layers.31.mlp.down_proj.weight": "language_model.model.layers.31.mlp.down_proj.weight",
    "model.norm.weight": "language_model.model.norm.weight",
    "lm_head.weight": "language_model.lm_head.weight",
    "model.mm_projector.bias": "mm_projector.bias",
    "model.cls_head.0.0.weight": "cls_head.0.weight",
    "model.cls_head.0.3.bias": "cls_head.3.bias",
    "model.text_hidden_fcs.0.0.bias": "seg_projection.0.bias",
    "model.text_hidden_fcs.0.2.weight": "seg_projection.2.weight",
    "model.sida_fc1.weight": "cls_projection.weight",
    "model.attention_layer.in_proj_weight": "cls_seg_attention.in_proj_weight",
    "model.attention_layer.out_proj.bias": "cls_seg_attention.out_proj.bias",
    "model.visual_model.image_encoder.patch_embed.proj.weight": "sam.vision_encoder.patch_embed.projection.weight",
    "model.visual_model.image_encoder.pos_embed": "sam.vision_encoder.pos_embed",
    "model.visual_model.image_encoder.blocks.7.norm1.weight": "sam.vision_encoder.layers.7.layer_norm1.weight",
    "model.visual_model.image_encoder.blocks.7.attn.rel_pos_w": "sam.vision_encoder.layers.7.attn.rel_pos_w",
    "model.visual_model.image_encoder.blocks.0.mlp.lin2.bias": "sam.vision_encoder.layers.0.mlp.lin2.bias",
    "model.visual_model.image_encoder.neck.2.weight": "sam.vision_encoder.neck.conv2.weight",
    "model.visual_model.image_encoder.neck.3.bias": "sam.vision_encoder.neck.layer_norm2.bias",
    "model.visual_model.prompt_encoder.point_embeddings.3.weight": "sam.prompt_encoder.point_embed.3.weight",
    "model.visual_model.prompt_encoder.mask_downscaling.4.weight": "sam.prompt_encoder.mask_embed.layer_norm2.weight",
    "model.visual_model.prompt_encoder.mask_downscaling.6.bias": "sam.prompt_encoder.mask_embed.conv3.bias",
    "model.visual_model.prompt_encoder.no_mask_embed.weight": "sam.prompt_encoder.no_mask_embed.weight",
    "model.visual_model.mask_decoder.transformer.layers.1.norm4.bias": "sam.mask_decoder.transformer.layers.1.layer_norm4.bias",
    "model.visual_model.mask_decoder.transformer.layers.0.cross_attn_image_to_token.v_proj.weight": (
        "sam.mask_decoder.transformer.layers.0.cross_attn_image_to_token.v_proj.weight"
    ),
    "model.visual_model.mask_decoder.transformer.norm_final_attn.weight": "sam.mask_decoder.transformer.layer_norm_final_attn.weight",
    "model.visual_model.mask_decoder.output_upscaling.1.weight": "sam.mask_decoder.upscale_layer_norm.weight",
    "model.visual_model.mask_decoder.output_upscaling.3.bias": "sam.mask_decoder.upscale_conv2.bias",
    "model.visual_model.mask_decoder.output_hypernetworks_mlps.2.layers.0.weight": "sam.mask_decoder.output_hypernetworks_mlps.2.proj_in.weight",
    "model.visual_model.mask_decoder.output_hypernetworks_mlps.2.layers.1.bias": "sam.mask_decoder.output_hypernetworks_mlps.2.layers.0.bias",
    "model.visual_model.mask_decoder.iou_prediction_head.layers.2.weight": "sam.mask_decoder.iou_prediction_head.proj_out.weight",
}


def test_released_names_map_to_module_names():
    keymap = KeyMap("vision_tower.")
    for released, module in RELEASED.items():
        assert keymap.module_names(released) == (module,), released
        assert keymap.checkpoint_name(module) == released
    assert keymap.module_names(POSITIONAL) == (
        "sam.prompt_encoder.shared_embedding.positional_embedding",
        "sam.shared_image_embedding.positional_embedding",
    )
    assert keymap.module_names("model.layers.3.self_attn.rotary_emb.inv_freq") == ()
    assert keymap.module_names("model.visual_model.pixel_std") == ()
    with pytest.raises(KeyError):
        keymap.module_names("model.obj_head.weight")
    tower = "model.vision_tower.vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight"
    assert keymap.module_names(tower) == ("vision_tower.encoder.layers.0.mlp.fc1.weight",)
    assert KeyMap("vision_tower.vision_model.").module_names(tower) == ("vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight",)


def test_every_module_weight_round_trips_through_the_released_names():
    torch.manual_seed(0)
    model = SidaModel(tiny_config())
    keymap = KeyMap.for_model(model)
    state = model.state_dict()
    released = keymap.to_checkpoint(state, with_tower=True)
    assert len(released) == len(state) - 1  # the two tied positional matrices share one released name
    back, report = keymap.remap(released.items(), state.keys())
    assert report.missing == [] and report.unexpected == [] and report.derived == []
    assert set(back) == set(state)
    assert all(torch.equal(back[k], state[k]) for k in state)


def test_missing_and_unknown_keys_are_listed():
    model = SidaModel(tiny_config())
    keymap = KeyMap.for_model(model)
    released = keymap.to_checkpoint(model.state_dict(), with_tower=True)
    del released["model.cls_head.0.3.bias"]
    released["model.obj_head.weight"] = torch.zeros(1)
    released["model.layers.9.mlp.up_proj.weight"] = torch.zeros(1)  # a layer the config does not have
    released["model.layers.0.self_attn.rotary_emb.inv_freq"] = torch.zeros(1)
    _, report = keymap.remap(released.items(), model.state_dict().keys())
    assert report.missing == ["cls_head.3.bias"]
    assert report.unexpected == ["model.layers.9.mlp.up_proj.weight", "model.obj_head.weight"]
    assert report.derived == ["model.layers.0.self_attn.rotary_emb.inv_freq"]
    with pytest.raises(FdrbenchError, match=r"1 weight\(s\) missing: cls_head.3.bias; 2 unexpected key\(s\): model.layers.9"):
        report.raise_if_bad("ckpt")


def test_clip_tower_tensors_from_either_layout():
    keymap = KeyMap("vision_tower.")
    items = [
        ("vision_model.encoder.layers.0.mlp.fc1.weight", 1),
        ("vision_model.embeddings.position_ids", 2),
        ("text_model.encoder.layers.0.mlp.fc1.weight", 3),
        ("logit_scale", 4),
        ("post_layernorm.bias", 5),
    ]
    assert keymap.clip_tensors(items) == {"vision_tower.encoder.layers.0.mlp.fc1.weight": 1, "vision_tower.post_layernorm.bias": 5}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return write_checkpoint(tmp_path_factory.mktemp("sida-weights"))


def test_load_fills_every_weight_from_the_released_folder(checkpoint):
    loaded = load(checkpoint.folder, sam=str(checkpoint.sam))
    state = loaded.model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in checkpoint.state.items())
    assert loaded.report.derived == ["model.layers.0.self_attn.rotary_emb.inv_freq", "model.layers.1.self_attn.rotary_emb.inv_freq"]
    assert loaded.clip_source == checkpoint.clip
    # buffers the checkpoint does not hold are computed, not left empty: 1 / 10000^(2i/8), head size 8
    inv_freq = loaded.model.language_model.model.rotary_emb.inv_freq
    assert torch.allclose(inv_freq, torch.tensor([1.0, 0.1, 0.01, 0.001]))
    assert not any(t.is_meta for t in list(loaded.model.parameters()) + list(loaded.model.buffers()))
    half = load(checkpoint.folder, sam=str(checkpoint.sam), dtype="bfloat16")
    assert half.model.dtype == torch.bfloat16
    assert half.model.language_model.model.rotary_emb.inv_freq.dtype == torch.float32


def test_auto_dtype_is_test_py_fp16_on_gpu_and_fp32_on_cpu():
    from fdrbench.adapters.sida.loader import torch_dtype

    assert torch_dtype("auto", "cuda") == torch.float16 and torch_dtype("auto", "cuda:1") == torch.float16
    assert torch_dtype("auto", "cpu") == torch.float32
    assert torch_dtype("bf16", "cuda") == torch.bfloat16 and torch_dtype("bfloat16", "cpu") == torch.bfloat16


def test_load_bin_checkpoint_with_tower_inside(tmp_path):
    written = write_checkpoint(tmp_path, fmt="bin", with_tower=True)
    keys = checkpoint_keys(weight_files(written.folder))
    assert "model.vision_tower.vision_tower.vision_model.post_layernorm.weight" in keys
    loaded = load(written.folder, sam=str(written.sam))
    assert torch.equal(loaded.model.mm_projector.weight, written.state["mm_projector.weight"])


def test_bad_checkpoints_are_refused(tmp_path, checkpoint):
    with pytest.raises(FdrbenchError, match="no model.safetensors"):
        weight_files(tmp_path)
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": "model-00001-of-00002.safetensors"}}))
    with pytest.raises(FdrbenchError, match="incomplete download.*model-00001-of-00002.safetensors"):
        weight_files(tmp_path)
    pickled = tmp_path / "evil" / "pytorch_model.bin"
    pickled.parent.mkdir()
    torch.save({"weights": torch.zeros(1), "payload": FdrbenchError("not a tensor")}, pickled)
    with pytest.raises(FdrbenchError, match="weights-only"):
        list(iter_tensors([pickled]))
    with pytest.raises(FdrbenchError, match="is not a folder"):
        load(tmp_path / "nowhere")
    bad = tmp_path / "bad"
    bad.mkdir()
    for item in checkpoint.folder.iterdir():
        (bad / item.name).write_bytes(item.read_bytes())
    config = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps({**config, "intermediate_size": 40}))
    with pytest.raises(FdrbenchError, match="do not fit the sizes in its config.json"):
        load(bad, sam=str(checkpoint.sam))
