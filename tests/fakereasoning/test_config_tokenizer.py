"""Config validation and round trips; the tiny tokenizer; CPM ids derived from the tokenizer."""

from __future__ import annotations

import pytest
import torch

from fdrbench.adapters.fakereasoning.config import (
    CLIP_L14_336,
    DINOV2_L14,
    RELEASED_FAKE_ID,
    RELEASED_PATTERN_IDS,
    RELEASED_REAL_ID,
    SECTION,
    FakeReasoningConfig,
)
from fdrbench.adapters.fakereasoning.cpm import CPMIds, cpm_ids
from fdrbench.adapters.fakereasoning.tiny import tiny_config, tiny_tokenizer
from fdrbench.errors import FdrbenchError

LLAMA_13B = {
    "vocab_size": 32000,
    "hidden_size": 5120,
    "intermediate_size": 13824,
    "num_hidden_layers": 40,
    "num_attention_heads": 40,
    "num_key_value_heads": 40,
    "max_position_embeddings": 4096,
    "rms_norm_eps": 1e-5,
}


def released_style_json() -> dict:
    """A config.json as the original LLaVA code writes it (no fdrbench section)."""
    return {
        "architectures": ["LlavaLlamaForCausalLM"],
        "model_type": "llava_llama",
        **LLAMA_13B,
        "mm_hidden_size": 1024,
        "mm_projector_type": "mlp2x_gelu",
        "mm_vision_select_layer": -2,
        "mm_vision_select_feature": "patch",
        "mm_vision_tower": "/data/authors/clip-vit-large-patch14-336",
        "mm_use_im_start_end": False,
        "mm_use_im_patch_token": False,
        "image_aspect_ratio": "pad",
        "tokenizer_model_max_length": 2048,
        "use_cache": True,
    }


def test_released_config_reads_with_released_sizes():
    config = FakeReasoningConfig.from_llava_json(released_style_json())
    assert config.hidden_size == 5120
    assert config.clip == CLIP_L14_336 and config.dino == DINOV2_L14
    assert (config.faff_heads, config.ff_size, config.faff_bias_hidden, config.faff_layers) == (16, 20480, 32, 1)
    assert config.hidden_size // config.faff_heads == 320
    assert config.num_patches == 576
    assert config.projector_depth() == 2
    assert config.tau == 10.0 and config.image_aspect_ratio == "pad"
    assert config.llama_config().num_hidden_layers == 40


def test_llava_json_round_trip_keeps_every_setting():
    config = tiny_config(512, faff_dropout=0.2, tau=5.0)
    data = config.to_llava_json()
    assert data["model_type"] == "llava_llama" and data["mm_hidden_size"] == 32 and SECTION in data
    again = FakeReasoningConfig.from_llava_json(data)
    assert again.to_dict() == config.to_dict()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"faff_heads": 8}, "one attention bias per DINOv2 head"),
        ({"projector_type": "resampler"}, "unknown projector type"),
        ({"image_size": 30}, "not a multiple of the patch size"),
        ({"tau": 0.0}, "tau must be positive"),
        ({"select_feature": "cls_patch"}, "drops the CLS token"),
    ],
)
def test_config_refuses_sizes_the_architecture_cannot_run(change, message):
    with pytest.raises(FdrbenchError, match=message):
        tiny_config(512, **change)


def test_unsupported_llava_settings_are_refused():
    data = released_style_json()
    data["mm_use_im_start_end"] = True
    with pytest.raises(FdrbenchError, match="mm_use_im_start_end"):
        FakeReasoningConfig.from_llava_json(data)
    with pytest.raises(FdrbenchError, match="unknown FakeReasoning config field"):
        FakeReasoningConfig.from_dict({"llm": LLAMA_13B, "faff_head": 16})


def test_tiny_tokenizer_is_deterministic_and_round_trips(tokenizer):
    again = tiny_tokenizer()
    assert again.get_vocab() == tokenizer.get_vocab()
    text = "<CAPTION> A cat, 3 paws & odd light. </CAPTION> <CONCLUSION> This image is real. </CONCLUSION>"
    ids = tokenizer(text).input_ids
    assert ids[0] == tokenizer.bos_token_id == 1
    assert tokenizer.decode(ids, skip_special_tokens=True).strip() == text
    assert (tokenizer.unk_token_id, tokenizer.eos_token_id) == (0, 2)


def test_cpm_ids_come_from_the_tokenizer_and_match_in_context(tokenizer):
    config = tiny_config(len(tokenizer))
    ids = cpm_ids(tokenizer, config)
    # the tokens after the "<", which is spelt "Ġ<" after a space but "<" after a newline
    plain = tokenizer("<CONCLUSION> This image is", add_special_tokens=False).input_ids
    assert tokenizer.convert_ids_to_tokens(plain)[0] == "Ġ<"
    assert ids.pattern == tuple(plain[1:])
    assert tokenizer.convert_ids_to_tokens(list(ids.pattern)) == ["CONCLUSION", ">", "ĠThis", "Ġimage", "Ġis"]
    for text in (
        "... </REASONING> <CONCLUSION> This image is fake. </CONCLUSION>",
        "... </REASONING>\n<CONCLUSION> This image is fake. </CONCLUSION>",
        "... </REASONING><CONCLUSION> This image is fake. </CONCLUSION>",
    ):
        in_context = tokenizer(text).input_ids
        start = next(i for i in range(len(in_context)) if tuple(in_context[i : i + len(ids.pattern)]) == ids.pattern)
        assert in_context[start + len(ids.pattern)] == ids.fake_id, text
    assert ids.real_id != ids.fake_id
    assert not ids.matches_released()


def test_cpm_reads_p_fake_when_the_conclusion_follows_a_newline(tokenizer):
    from fdrbench.adapters.fakereasoning.cpm import find_positions

    ids = cpm_ids(tokenizer, tiny_config(len(tokenizer)))
    text = "<REASONING> odd light. </REASONING>\n<CONCLUSION> This image is fake. </CONCLUSION>"
    sequence = torch.tensor([tokenizer(text, add_special_tokens=False).input_ids])
    position = find_positions(sequence, ids.pattern)[0].item()
    assert position > 0 and sequence[0, position].item() == ids.fake_id


def test_released_ids_are_recorded_for_the_llama_vocabulary():
    assert CPMIds(RELEASED_PATTERN_IDS, RELEASED_REAL_ID, RELEASED_FAKE_ID).matches_released()
    assert RELEASED_PATTERN_IDS == (6007, 6154, 3308, 2725, 29958, 910, 1967, 338)
    assert (RELEASED_REAL_ID, RELEASED_FAKE_ID) == (1855, 25713)


def test_verdict_words_must_be_single_tokens(tokenizer):
    config = tiny_config(len(tokenizer), fake_word="synthetically-generated")
    with pytest.raises(FdrbenchError, match="to be one token"):
        cpm_ids(tokenizer, config)
