"""A tiny SIDA checkpoint written in the released layout, so tests load it the way users load SIDA-7B.

``write_checkpoint`` saves a randomly initialised :func:`tiny_config` model under the released
key names (``model.visual_model...``, ``model.cls_head.0.3...``; CLIP tower left out), a
``config.json`` in LLaVA-LLaMA style, a word-level tokenizer with SIDA's added tokens, a tiny
CLIP tower folder the config names, and the tiny SAM config. Two optional edits make outputs
predictable without training:

- ``class_bias``: the last bias of the class head, e.g. ``(0, 0, 20)`` makes every image tampered;
- ``script``: an "echo" language model whose layers add nothing (so each last hidden state is
  the normalised embedding of its token) and whose ``lm_head`` maps each word of the script to
  the next, so greedy decoding after ``ASSISTANT:`` writes the script.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fdrbench.adapters.sida import prompts

ADDED = ["[CLS]", "[SEG]", "[END]", "<im_start>", "<im_end>"]
EXTRA_WORDS = ["edges", "look", "blurred", "lighting", "mismatch", "near", "the", "cat"]


def vocabulary() -> list[str]:
    from tokenizers.pre_tokenizers import Whitespace

    texts = [prompts.SYSTEM, "USER: ASSISTANT:", *prompts.ANSWERS.values(), *prompts.CANNED.values(), " ".join(EXTRA_WORDS)]
    for variant in prompts.QUESTIONS.values():
        texts.extend(variant.values())
    words: list[str] = []
    for text in texts:
        for token, _ in Whitespace().pre_tokenize_str(text):
            if token not in words and token not in ADDED and not token.startswith("["):
                words.append(token)
    return words


def build_tokenizer():
    """Word-level tokenizer: <unk>=0, <s>=1, </s>=2, the words, then SIDA's added tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for word in vocabulary():
        vocab.setdefault(word, len(vocab))
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<unk>")
    tokenizer.add_tokens(ADDED[:3])
    tokenizer.add_tokens(ADDED[3:], special_tokens=True)
    return tokenizer


@dataclass
class TinyCheckpoint:
    folder: Path  # the SIDA checkpoint folder (weights=...)
    clip: Path  # the CLIP tower folder its config.json names
    sam: Path  # the SAM config (sam=...)
    state: dict  # the module state dict that was written


def write_checkpoint(
    root: Path,
    seed: int = 0,
    class_bias: tuple[float, float, float] | None = None,
    script: list[str] | None = None,
    fmt: str = "safetensors",
    with_tower: bool = False,
) -> TinyCheckpoint:
    import torch
    from safetensors.torch import save_file

    from fdrbench.adapters.sida.config import tiny_config
    from fdrbench.adapters.sida.modeling import SidaModel
    from fdrbench.adapters.sida.weights import KeyMap

    tokenizer = build_tokenizer()
    config = tiny_config(vocab_size=len(tokenizer))
    torch.manual_seed(seed)
    model = SidaModel(config).eval()
    with torch.no_grad():
        if class_bias is not None:
            model.cls_head[3].weight.zero_()
            model.cls_head[3].bias.copy_(torch.tensor(class_bias))
        if script:
            make_echo(model, tokenizer, script)
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    keymap = KeyMap.for_model(model)

    root.mkdir(parents=True, exist_ok=True)
    clip_dir = root / "clip"
    clip_dir.mkdir(parents=True, exist_ok=True)
    # the layout of openai/clip-vit-large-patch14: a whole CLIPModel, vision half under vision_model.
    clip_state = {"vision_model." + k.removeprefix(keymap.clip_prefix): v for k, v in state.items() if k.startswith("vision_tower.")}
    clip_state["logit_scale"] = torch.tensor(2.6592)
    clip_state["visual_projection.weight"] = torch.zeros(8, config.clip.hidden_size)
    save_file(clip_state, str(clip_dir / "model.safetensors"))
    (clip_dir / "config.json").write_text(json.dumps({"model_type": "clip", "vision_config": config.clip.to_dict()}))
    side = config.clip.image_size
    (clip_dir / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "image_processor_type": "CLIPImageProcessor",
                "size": {"shortest_edge": side},
                "crop_size": {"height": side, "width": side},
                "do_center_crop": True,
                "do_normalize": True,
                "do_resize": True,
                "do_rescale": True,
                "resample": 3,
                "image_mean": [0.48145466, 0.4578275, 0.40821073],
                "image_std": [0.26862954, 0.26130258, 0.27577711],
            }
        )
    )
    folder = root / "sida"
    folder.mkdir(exist_ok=True)
    released = keymap.to_checkpoint(state, with_tower=with_tower)
    released.pop("model.visual_model.prompt_encoder.pe_layer.positional_encoding_gaussian_matrix")
    released["model.visual_model.prompt_encoder.pe_layer.positional_encoding_gaussian_matrix"] = state[
        "sam.prompt_encoder.shared_embedding.positional_embedding"
    ]
    # transformers 4.31 kept the rotary frequencies in the state dict; the loader must skip them
    for layer in range(config.llm.num_hidden_layers):
        released[f"model.layers.{layer}.self_attn.rotary_emb.inv_freq"] = torch.ones(
            config.llm.hidden_size // config.llm.num_attention_heads // 2
        )
    if fmt == "safetensors":
        save_file(released, str(folder / "model.safetensors"))
    else:
        torch.save(released, folder / "pytorch_model.bin")
    llm = config.llm
    (folder / "config.json").write_text(
        json.dumps(
            {
                "architectures": ["SIDAForCausalLM"],
                "model_type": "llava",
                "hidden_size": llm.hidden_size,
                "intermediate_size": llm.intermediate_size,
                "num_hidden_layers": llm.num_hidden_layers,
                "num_attention_heads": llm.num_attention_heads,
                "num_key_value_heads": llm.num_key_value_heads,
                "max_position_embeddings": llm.max_position_embeddings,
                "rms_norm_eps": llm.rms_norm_eps,
                "vocab_size": llm.vocab_size,
                "hidden_act": "silu",
                "mm_hidden_size": config.clip.hidden_size,
                "mm_use_im_start_end": True,
                "mm_vision_select_layer": -2,
                "mm_vision_tower": str(clip_dir),
                "vision_tower": str(clip_dir),
                "out_dim": config.out_dim,
                "train_mask_decoder": True,
                "use_mm_proj": True,
            },
            indent=1,
        )
    )
    tokenizer.save_pretrained(folder)
    sam_path = root / "sam_config.json"
    sam_path.write_text(json.dumps(config.sam.to_dict()))
    return TinyCheckpoint(folder, clip_dir, sam_path, state)


def make_echo(model, tokenizer, script: list[str]) -> None:
    """Layers that add nothing, and an ``lm_head`` that maps each script word to the next."""
    import torch

    lm = model.language_model
    for layer in lm.model.layers:
        layer.self_attn.o_proj.weight.zero_()
        layer.mlp.down_proj.weight.zero_()
    embed = lm.model.embed_tokens.weight
    generator = torch.Generator().manual_seed(1)
    embed.copy_(torch.randn(embed.shape, generator=generator))
    normed = lm.model.norm(embed)  # what the last hidden state is for each token
    head = torch.zeros_like(lm.lm_head.weight)
    ids = [tokenizer.convert_tokens_to_ids(word) for word in script]
    for current, following in zip(ids, ids[1:], strict=False):
        head[following] += 10.0 * normed[current] / normed[current].norm()
    lm.lm_head.weight.copy_(head)


def write_llama_tokenizer(folder: Path) -> Path:
    """A SentencePiece LLaMA tokenizer folder as LISA/SIDA ship it (``tokenizer.model``, a config
    with ``legacy`` true, ``added_tokens.json`` with SIDA's added tokens), trained in code on SIDA's prompts."""
    import io

    import sentencepiece as spm

    texts = [prompts.SYSTEM, "USER: ASSISTANT:", *prompts.ANSWERS.values(), *prompts.CANNED.values()]
    texts += [q for variant in prompts.QUESTIONS.values() for q in variant.values()]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts * 20),
        model_writer=model,
        vocab_size=400,
        model_type="bpe",
        character_coverage=1.0,
        bos_id=1,
        eos_id=2,
        unk_id=0,
        pad_id=-1,
        byte_fallback=True,
        normalization_rule_name="identity",
        minloglevel=2,
    )
    out = folder / "tokenizer"
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokenizer.model").write_bytes(model.getvalue())
    config = {"tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False, "legacy": True}
    (out / "tokenizer_config.json").write_text(json.dumps({**config, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}))
    added = [*ADDED[:2], *ADDED[3:]]
    (out / "added_tokens.json").write_text(json.dumps({token: 400 + i for i, token in enumerate(added)}))
    return out
