"""A tiny FakeReasoning, built in code: every code path of the real model at a size that runs on CPU in
milliseconds (no download). Tests use it, and so can anyone trying the pipeline without a GPU.

The tokenizer is a byte-level BPE trained on the method's fixed texts (templates, the paper's prompt,
the answer skeleton), so any text round-trips exactly and " real", " fake" are single tokens as CPM
requires. Its CPM pattern ids differ from the LLaMA ones; they are derived the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fdrbench.adapters.fakereasoning.config import FakeReasoningConfig
from fdrbench.adapters.fakereasoning.conversation import PAPER_PROMPT, TEMPLATES

SPECIAL_TOKENS = ("<unk>", "<s>", "</s>")
ANSWER_SKELETON = (
    "<SUMMARY> I will determine if the image is real or fake by analyzing its content and identifying forgery attributes "
    "from both low-level and high-level perspectives. </SUMMARY> <CAPTION> The image shows a photo of an object. </CAPTION> "
    "<REASONING> From low-level perspective: the lighting, shadows, edges, texture and quality are natural and consistent. "
    "From high-level perspective: the content is semantically rational. </REASONING> <CONCLUSION> This image is {verdict}. </CONCLUSION>"
)


def corpus() -> list[str]:
    texts = [t.system for t in TEMPLATES.values()] + ["USER: ASSISTANT:", PAPER_PROMPT]
    texts += [ANSWER_SKELETON.format(verdict=v) for v in ("real", "fake")]
    texts += ["This image is real. This image is fake. real fake"]
    return texts * 8


def tiny_tokenizer(vocab_size: int = 512):
    """A byte-level BPE tokenizer with LLaMA's special ids (unk 0, BOS 1, EOS 2) and a leading BOS."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus(), trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<unk>")


def tiny_config(vocab_size: int, **overrides) -> FakeReasoningConfig:
    """CLIP and DINOv2 of width 32 and 2 layers, a 2-layer LLaMA of width 64, 28-px images (2x2 patches).

    DINOv2's position grid is 3x3 (42 px), so the 2x2 input exercises the position interpolation as the
    released 37x37 -> 24x24 does.
    """
    settings = {
        "llm": {
            "vocab_size": vocab_size,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 4,
            "max_position_embeddings": 2048,
            "rms_norm_eps": 1e-5,
            "bos_token_id": 1,
            "eos_token_id": 2,
            "pad_token_id": 0,
            "tie_word_embeddings": False,
        },
        "clip": {
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 28,
            "patch_size": 14,
            "projection_dim": 32,
            "hidden_act": "quick_gelu",
        },
        "dino": {
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "mlp_ratio": 2,
            "image_size": 42,
            "patch_size": 14,
            "layerscale_value": 1.0,
            "qkv_bias": True,
        },
        "faff_heads": 4,
        "faff_bias_hidden": 8,
        "image_size": 28,
        "max_length": 1024,
        "vision_source": "",
    }
    settings.update(overrides)
    return FakeReasoningConfig.from_dict(settings)


@dataclass(frozen=True)
class TinyCheckpoint:
    """Paths of a tiny checkpoint in the released layout and of its separate vision weights."""

    weights: Path
    clip: Path
    dino: Path


def write_tiny_checkpoint(folder: Path, seed: int = 0, include_vision: bool = False, **overrides) -> TinyCheckpoint:
    """A randomly initialised tiny model written as the released checkpoint is: LLaVA ``config.json``,
    tokenizer and weights in the original key layout; CLIP as a transformers folder and DINOv2 as an
    original-layout ``.pth``, next to it (or inside the checkpoint with ``include_vision``)."""
    import torch

    from fdrbench.adapters.fakereasoning.modeling import FakeReasoningModel
    from fdrbench.adapters.fakereasoning.pretrained import save_pretrained
    from fdrbench.adapters.fakereasoning.weights import DINO_PREFIX, KeyMapper

    folder = Path(folder)
    tokenizer = tiny_tokenizer()
    torch.manual_seed(seed)
    overrides.setdefault("vision_source", str(folder / "clip"))
    model = FakeReasoningModel(tiny_config(len(tokenizer), **overrides)).eval()
    save_pretrained(model, tokenizer, folder / "model", include_vision=include_vision)
    clip_dir = folder / "clip"
    model.vision.clip.save_pretrained(str(clip_dir))
    dino_state = {k[len(DINO_PREFIX) :]: v for k, v in model.state_dict().items() if k.startswith(DINO_PREFIX)}
    dino_path = folder / "dinov2_tiny_pretrain.pth"
    torch.save(KeyMapper(model).dino_to_original(dino_state), str(dino_path))
    return TinyCheckpoint(folder / "model", clip_dir, dino_path)
