"""Tiny randomly initialised LLaVA and Qwen2-VL models with tokenizers built in code.

Nothing is downloaded. ``bigram`` turns a model into a next-token table: with every attention and
MLP output of the language model zeroed and one-hot embeddings, the logits at a position depend
only on that position's token, so a test can script an answer and its logits exactly.
"""

from __future__ import annotations

import math

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    CLIPImageProcessorPil,
    CLIPVisionConfig,
    LlamaConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaProcessor,
    PreTrainedTokenizerFast,
    Qwen2VLConfig,
    Qwen2VLForConditionalGeneration,
    Qwen2VLImageProcessorPil,
    Qwen2VLProcessor,
)

WORDS = (
    "USER",
    "ASSISTANT",
    "SYSTEM",
    ":",
    "This",
    "this",
    "is",
    "a",
    "an",
    "the",
    "image",
    "photo",
    "real",
    "fake",
    "not",
    "yes",
    "Yes",
    "no",
    "No",
    "tampered",
    "full",
    "synthetic",
    "Is",
    "Does",
    "looks",
    "or",
    "AI",
    "generated",
    "by",
    "model",
    "it",
    "answer",
    "with",
    "lighting",
    "odd",
    "edges",
    "blurry",
    "I",
    "think",
    ".",
    "?",
    "/",
    ",",
    "(",
    ")",
    "\n",
)
LLAVA_SPECIAL = ("<pad>", "<s>", "</s>", "<unk>", "<image>")
QWEN_SPECIAL = ("<pad>", "<|im_start|>", "<|im_end|>", "<unk>", "<|vision_start|>", "<|image_pad|>", "<|vision_end|>", "<|video_pad|>")

LLAVA_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'system' %}SYSTEM: {{ m['content'][0]['text'] }} {% endif %}"
    "{% if m['role'] == 'user' %}USER: {% for c in m['content'] %}{% if c['type'] == 'image' %}<image> {% else %}{{ c['text'] }}{% endif %}"
    "{% endfor %} {% endif %}{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)
QWEN_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }} {% for c in m['content'] %}{% if c['type'] == 'image' %}"
    "<|vision_start|><|image_pad|><|vision_end|> {% else %}{{ c['text'] }}{% endif %}{% endfor %} <|im_end|> {% endfor %}"
    "{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
)


def word_tokenizer(special: tuple[str, ...], extra: dict[str, str], eos: str, bos: str | None = None) -> PreTrainedTokenizerFast:
    """A word-level tokenizer over ``special + WORDS``; punctuation is split off words."""
    vocab = {word: index for index, word in enumerate((*special, *WORDS))}
    for word in ("user", "assistant", "system"):
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token=bos, eos_token=eos, pad_token="<pad>", unk_token="<unk>", extra_special_tokens=extra
    )
    tokenizer.add_special_tokens({"additional_special_tokens": [t for t in special if t not in ("<pad>", "<unk>")]})
    return tokenizer


def tiny_llava(seed: int = 0):
    """(model, processor) of a randomly initialised LLaVA with a 28x28 CLIP tower (4 image tokens)."""
    tokenizer = word_tokenizer(LLAVA_SPECIAL, {"image_token": "<image>"}, eos="</s>", bos="<s>")
    image_processor = CLIPImageProcessorPil(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28})
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=14,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=LLAVA_TEMPLATE,
    )
    vocab = len(tokenizer)
    vision = CLIPVisionConfig(
        hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=28, patch_size=14
    )
    text = LlamaConfig(
        vocab_size=vocab,
        hidden_size=64,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
        rms_norm_eps=1e-12,  # crafted next-token tables come out exact
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration._from_config(config).eval()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, processor


class ImageOnlyQwen2VLProcessor(Qwen2VLProcessor):
    """Qwen2-VL's processor without its video half, which needs torchvision (not installed here)."""

    @classmethod
    def get_attributes(cls):
        return ["image_processor", "tokenizer"]


def tiny_qwen2vl(seed: int = 0):
    """(model, processor) of a randomly initialised Qwen2-VL with a 2-block vision tower."""
    extra = {
        "image_token": "<|image_pad|>",
        "video_token": "<|video_pad|>",
        "vision_start_token": "<|vision_start|>",
        "vision_end_token": "<|vision_end|>",
    }
    tokenizer = word_tokenizer(QWEN_SPECIAL, extra, eos="<|im_end|>")
    image_processor = Qwen2VLImageProcessorPil(min_pixels=28 * 28, max_pixels=56 * 56, patch_size=14, merge_size=2, temporal_patch_size=2)
    processor = ImageOnlyQwen2VLProcessor(image_processor=image_processor, tokenizer=tokenizer, chat_template=QWEN_TEMPLATE)
    ids = tokenizer.convert_tokens_to_ids
    config = Qwen2VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 64,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 4,
            "rope_parameters": {"rope_type": "default", "mrope_section": [2, 2, 4], "rope_theta": 10000.0},
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": None,
            "tie_word_embeddings": False,
            "rms_norm_eps": 1e-12,
        },
        vision_config={
            "depth": 2,
            "embed_dim": 16,
            "hidden_size": 64,
            "num_heads": 2,
            "mlp_ratio": 2,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "in_chans": 3,
        },
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration._from_config(config).eval()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = None
    return model, processor


def bigram(model, tokenizer, table: dict[str, dict[str, float]], floor: float = -8.0) -> None:
    """Make the language model a next-token table: after token ``a`` the logits are
    ``table[a]`` (token -> logit), and ``floor`` for every other token."""
    embed = model.get_input_embeddings().weight
    vocab, hidden = embed.shape
    assert hidden >= vocab, "a one-hot embedding needs hidden_size >= vocabulary size"
    with torch.no_grad():
        embed.zero_()
        embed[torch.arange(vocab), torch.arange(vocab)] = 1.0
        for name, module in model.named_modules():
            if name.endswith(("self_attn.o_proj", "mlp.down_proj")) and "vision" not in name and "visual" not in name:
                module.weight.zero_()
        head = model.get_output_embeddings().weight
        head.fill_(0.0)
        scale = 1.0 / math.sqrt(hidden)  # RMS-normalising a one-hot vector multiplies it by sqrt(hidden)
        for before, row in table.items():
            a = tokenizer.convert_tokens_to_ids(before)
            head[:, a] = floor * scale
            for after, logit in row.items():
                head[tokenizer.convert_tokens_to_ids(after), a] = logit * scale
