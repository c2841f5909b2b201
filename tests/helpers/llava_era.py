"""A FakeVLM checkpoint folder whose processor files have only the keys of the 4.4x era.

``llava-hf/llava-1.5-7b-hf`` at the revision FakeVLM pins ships a ``preprocessor_config.json``
(CLIP settings), ``tokenizer.json``, ``tokenizer_config.json`` (``LlamaTokenizer``, a ``legacy``
flag) and ``special_tokens_map.json``, and no ``processor_config.json``: no ``patch_size``,
``vision_feature_select_strategy`` or ``num_additional_image_tokens``. The tokenizer here is a
small SentencePiece-style BPE written in either of the two ``tokenizer.json`` layouts LLaMA
conversions produced: ``prepend`` (a normalizer that prefixes every text piece with ``▁``, so the
word after ``<image>`` is ``▁Does``) and ``first`` (a Metaspace pre-tokenizer that prefixes only the
start of the text, so it is ``Does``).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from fdrbench.task import Task

from ..conformance.released import LLAVA_HF_SPECIAL_TOKENS_MAP, clip_config, llava_hf_tokenizer_config

PROMPT_WORDS = "Does the image looks real/fake? This is a fake real image . it"
SPECIALS = ("<unk>", "<s>", "</s>")
ADDED = ("<image>", "<pad>")
STYLES = ("prepend", "first")


class Plain(Task):
    """A task whose question is FakeVLM's (the adapter's own prompt is used anyway)."""

    name = "plain"
    prompt = "Does the image looks real/fake?"

    def samples(self, data_dir, split):
        return []


def tokenizer_json(style: str):
    """A ``tokenizers.Tokenizer``: BPE over the prompt's words with and without ``▁``, LLaMA's ids 0-2."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    words = PROMPT_WORDS.split()
    corpus = [" ".join(["▁" + w for w in words] + words)] * 20
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator(corpus, trainers.BpeTrainer(special_tokens=list(SPECIALS), show_progress=False))
    if style == "prepend":
        tok.pre_tokenizer = None
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    else:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in ADDED])
    return tok


def write_processor(folder: Path, style: str = "prepend", legacy: bool = False, processor_config: dict | None = None) -> Path:
    """The era's processor files in ``folder`` (``processor_config`` adds a later-era file)."""
    tok = tokenizer_json(style)
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    ids = {t: tok.token_to_id(t) for t in (*SPECIALS, *ADDED)}
    (folder / "tokenizer_config.json").write_text(json.dumps(llava_hf_tokenizer_config(ids, legacy), indent=2))
    (folder / "special_tokens_map.json").write_text(json.dumps(LLAVA_HF_SPECIAL_TOKENS_MAP, indent=2))
    preprocessor = {**clip_config(28, old_format=False), "processor_class": "LlavaProcessor"}
    (folder / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2))
    if processor_config is not None:
        (folder / "processor_config.json").write_text(json.dumps({"processor_class": "LlavaProcessor", **processor_config}))
    return folder


def write_checkpoint(
    folder: Path, style: str = "prepend", legacy: bool = False, processor_config: dict | None = None, seed: int = 0
) -> Path:
    """A tiny random LLaVA (28 px CLIP tower: 4 patches plus CLS) and the era's processor files."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

    tok = tokenizer_json(style)
    vision = CLIPVisionConfig(
        hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=28, patch_size=14
    )
    text = LlamaConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        pad_token_id=tok.token_to_id("<pad>"),
        bos_token_id=1,
        eos_token_id=2,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tok.token_to_id("<image>"),
        vision_feature_select_strategy="default",
        vision_feature_layer=-2,
    )
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration._from_config(config).eval()
    model.generation_config.eos_token_id = 2
    model.generation_config.pad_token_id = tok.token_to_id("<pad>")
    model.save_pretrained(folder)
    return write_processor(folder, style, legacy, processor_config)


def saved_pipeline_ids(folder: Path, text: str) -> list[int]:
    """The ids the folder's ``tokenizer.json`` gives as saved (what transformers 4.45.2 ran)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(folder / "tokenizer.json")).encode(text).ids
