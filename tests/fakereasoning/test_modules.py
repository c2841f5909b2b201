"""The network's parts against hand-written references: FAFF, the towers' outputs, splicing, training
forward/backward and batched generation."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from fdrbench.adapters.fakereasoning.config import IGNORE_INDEX, IMAGE_TOKEN_INDEX
from fdrbench.adapters.fakereasoning.encoders import DualVisionEncoder, attention_weights, original_dino_interpolation
from fdrbench.adapters.fakereasoning.faff import FAFF
from fdrbench.adapters.fakereasoning.modeling import FakeReasoningModel, build_projector
from fdrbench.adapters.fakereasoning.tiny import tiny_config
from fdrbench.errors import FdrbenchError


def reference_faff(faff: FAFF, q_in: torch.Tensor, kv: torch.Tensor, attn_map: torch.Tensor) -> torch.Tensor:
    """FAFF written out step by step from the paper's equations (eval mode, no dropout)."""
    conv1, conv2 = faff.bias_mlp.mlp[0], faff.bias_mlp.mlp[2]
    m = torch.log(attn_map[:, :, 1:, 1:] + 1e-6)
    hidden = F.gelu(torch.einsum("oc,bcij->boij", conv1.weight[:, :, 0, 0], m) + conv1.bias[None, :, None, None])
    bias = torch.einsum("oc,bcij->boij", conv2.weight[:, :, 0, 0], hidden) + conv2.bias[None, :, None, None]
    layer = faff.layers[0]
    heads = layer.attn.heads
    d = q_in.shape[-1] // heads

    def split(x):
        return x.view(x.shape[0], x.shape[1], heads, d).transpose(1, 2)

    q, k, v = split(layer.attn.q_proj(q_in)), split(layer.attn.k_proj(kv)), split(layer.attn.v_proj(kv))
    scores = q @ k.transpose(-1, -2) / math.sqrt(d) + bias
    att = (scores.softmax(-1) @ v).transpose(1, 2).reshape(q_in.shape)
    x = q_in + layer.attn.out_proj(att)
    mean, var = x.mean(-1, keepdim=True), x.var(-1, keepdim=True, unbiased=False)
    x = (x - mean) / torch.sqrt(var + 1e-6) * layer.norm1.weight + layer.norm1.bias
    y = x + layer.ffn.fc2(torch.relu(layer.ffn.fc1(x)))
    mean, var = y.mean(-1, keepdim=True), y.var(-1, keepdim=True, unbiased=False)
    return (y - mean) / torch.sqrt(var + 1e-6) * layer.norm2.weight + layer.norm2.bias


def test_faff_matches_the_equations():
    torch.manual_seed(0)
    config = tiny_config(64)
    faff = FAFF(config).eval()
    for p in faff.parameters():  # non-trivial norms, so the affine part is checked too
        p.data.normal_(0, 0.3)
    q, kv = torch.randn(2, 4, 64), torch.randn(2, 4, 64)
    attn_map = torch.rand(2, 4, 5, 5).softmax(-1)
    assert torch.allclose(faff(q, kv, attn_map), reference_faff(faff, q, kv, attn_map), atol=1e-5)
    assert faff.layers[0].ffn.fc1.out_features == 4 * 64 and faff.bias_mlp.mlp[0].out_channels == 8


def test_attention_bias_steers_the_cross_attention():
    """With zero queries and keys only the bias decides: a bias that favours DINO token j makes every CLIP
    token read token j's value."""
    torch.manual_seed(0)
    faff = FAFF(tiny_config(64)).eval()
    attn = faff.layers[0].attn
    for lin in (attn.q_proj, attn.k_proj):
        lin.weight.data.zero_()
        lin.bias.data.zero_()
    kv = torch.randn(1, 4, 64)
    bias = torch.full((1, 4, 4, 4), -1e4)
    bias[..., 2] = 0.0
    out = attn(torch.randn(1, 4, 64), kv, bias)
    expected = attn.out_proj(attn.v_proj(kv)[:, 2:3].expand(1, 4, 64))
    assert torch.allclose(out, expected, atol=1e-5)


def test_projector_shapes_follow_llava_names():
    config = tiny_config(64)
    mlp = build_projector(config, 32)
    assert [type(m).__name__ for m in mlp] == ["Linear", "GELU", "Linear"]
    assert (mlp[0].in_features, mlp[0].out_features, mlp[2].out_features) == (32, 64, 64)
    assert type(build_projector(tiny_config(64, projector_type="linear"), 32)).__name__ == "Linear"
    assert len(build_projector(tiny_config(64, projector_type="mlp3x_gelu"), 32)) == 5


def test_dino_attention_map_equals_the_eager_attentions():
    torch.manual_seed(0)
    encoder = DualVisionEncoder(tiny_config(64), attn_implementation="eager").eval()
    pixels = torch.randn(2, 3, 28, 28)
    out = encoder.dino(pixel_values=pixels, output_hidden_states=True, output_attentions=True)
    ours = attention_weights(encoder.dino.encoder.layer[-1], out.hidden_states[-2])
    assert torch.allclose(ours, out.attentions[-1], atol=1e-6)
    assert ours.shape == (2, 4, 5, 5)
    assert torch.allclose(ours.sum(-1), torch.ones(2, 4, 5))


def test_towers_return_penultimate_clip_and_prenorm_dino_without_cls(pixels):
    torch.manual_seed(0)
    encoder = DualVisionEncoder(tiny_config(64)).eval()
    clip_tokens, dino_tokens, attn = encoder(pixels)
    clip_ref = encoder.clip(pixel_values=pixels, output_hidden_states=True).hidden_states[-2][:, 1:]
    dino_out = encoder.dino(pixel_values=pixels, output_hidden_states=True)
    assert torch.equal(clip_tokens, clip_ref)
    assert torch.equal(dino_tokens, dino_out.hidden_states[-1][:, 1:])
    assert not torch.allclose(dino_tokens, dino_out.last_hidden_state[:, 1:])  # before the final norm
    assert clip_tokens.shape == dino_tokens.shape == (2, 4, 32) and attn.shape == (2, 4, 5, 5)
    assert not any(p.requires_grad for p in encoder.parameters())


def test_dino_position_interpolation_follows_the_original_rule():
    torch.manual_seed(0)
    encoder = DualVisionEncoder(tiny_config(64))
    emb = encoder.dino.embeddings
    tokens = torch.zeros(1, 5, 32)
    ours = emb.interpolate_pos_encoding(tokens, 28, 28)
    grid = emb.position_embeddings[:, 1:].reshape(1, 3, 3, 32).permute(0, 3, 1, 2)
    expected = F.interpolate(grid, scale_factor=(2.1 / 3, 2.1 / 3), mode="bicubic", antialias=False)
    assert torch.allclose(ours[:, 1:], expected.permute(0, 2, 3, 1).reshape(1, 4, 32), atol=1e-6)
    assert torch.equal(ours[:, :1], emb.position_embeddings[:, :1])
    hf = DualVisionEncoder(tiny_config(64, dino_pos_interpolation="transformers"))
    hf.load_state_dict(encoder.state_dict())
    assert not torch.allclose(hf.dino.embeddings.interpolate_pos_encoding(tokens, 28, 28), ours)
    assert original_dino_interpolation(emb, torch.zeros(1, 10, 32), 42, 42) is emb.position_embeddings


def test_splice_puts_image_tokens_at_the_placeholder_and_masks_their_labels():
    torch.manual_seed(0)
    model = FakeReasoningModel(tiny_config(64)).eval()
    ids = [torch.tensor([1, 5, IMAGE_TOKEN_INDEX, 6, 7]), torch.tensor([1, IMAGE_TOKEN_INDEX, 9])]
    labels = [torch.tensor([IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 6, 7]), torch.tensor([IGNORE_INDEX, IGNORE_INDEX, 9])]
    feats = torch.randn(2, 4, 64)
    right = model.splice(ids, feats, labels, "right")
    embed = model.llm.get_input_embeddings()
    assert right.inputs_embeds.shape == (2, 8, 64)
    assert torch.equal(right.inputs_embeds[0, 2:6], feats[0])
    assert torch.equal(right.inputs_embeds[0, 6], embed.weight[6])
    assert right.labels[0].tolist() == [IGNORE_INDEX] * 6 + [6, 7]
    assert right.attention_mask.tolist() == [[1] * 8, [1] * 6 + [0, 0]]
    assert right.image_spans == [(2, 6), (1, 5)]
    left = model.splice(ids, feats, None, "left")
    assert left.attention_mask[1].tolist() == [0, 0] + [1] * 6
    assert torch.equal(left.inputs_embeds[1, 3:7], feats[1]) and left.image_spans[1] == (3, 7)
    with pytest.raises(FdrbenchError, match="exactly one image"):
        model.splice([torch.tensor([1, 5])], feats[:1])


def test_forward_and_backward_reach_the_trainable_parts_only(loaded, tokenizer, pixels):
    from fdrbench.adapters.fakereasoning.conversation import template, training_example
    from fdrbench.adapters.fakereasoning.cpm import cpm_ids
    from fdrbench.adapters.fakereasoning.objective import LossWeights, training_loss
    from fdrbench.adapters.fakereasoning.train import TrainSettings, prepare_trainables

    from .conftest import first_record_conversation

    model = FakeReasoningModel(loaded.config)
    model.load_state_dict(loaded.model.state_dict())
    lora, full = prepare_trainables(model, TrainSettings(base="unused", lora_r=4, lora_alpha=8))
    model.train()
    example = training_example(first_record_conversation(), tokenizer, template("vicuna_v1"))
    batch = {
        "input_ids": [torch.tensor(example.input_ids)] * 2,
        "labels": [torch.tensor(example.labels)] * 2,
        "pixel_values": pixels,
        "forgery_labels": torch.tensor([1, 1]),
        "reasoning_spans": [example.reasoning_span] * 2,
    }
    loss, parts = training_loss(model, batch, cpm_ids(tokenizer, loaded.config), LossWeights(facl=0.5))
    loss.backward()
    assert math.isfinite(parts["loss"]) and parts["lm"] > 0 and parts["facl"] > 0
    assert all(p.grad is not None for p in full)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in lora)
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert any(n.startswith("vision.") for n in frozen) and all(p.grad is None for n, p in model.named_parameters() if n in frozen)
    assert len(lora) == 2 * 7 * loaded.config.llm["num_hidden_layers"]


def test_batched_generation_equals_one_by_one(loaded, tokenizer, pixels):
    from fdrbench.adapters.fakereasoning.conversation import PAPER_PROMPT, inference_prompt, template, tokenize_with_image

    long = torch.tensor(tokenize_with_image(inference_prompt(PAPER_PROMPT, template("llava_v1")), tokenizer))
    short = torch.tensor(tokenize_with_image(inference_prompt("Real or fake?", template("llava_v1")), tokenizer))
    settings = {"max_new_tokens": 6, "do_sample": False, "output_logits": True, "return_dict_in_generate": True, "pad_token_id": 0}
    both = loaded.model.generate([long, short], pixels, **settings)
    alone = loaded.model.generate([short], pixels[1:], **settings)
    n = alone.sequences.shape[1]
    assert torch.equal(both.sequences[1, :n], alone.sequences[0])
    assert torch.allclose(torch.stack(both.logits, 1)[1, :n], torch.stack(alone.logits, 1)[0], atol=1e-4)
