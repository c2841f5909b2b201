"""The sizes of every SIDA part, read from a released checkpoint or made tiny for CPU tests.

SIDA is LISA-shaped: a LLaMA language model fed CLIP ViT-L/14 patch features through one
linear projector, a SAM ViT-H image encoder and mask decoder, and SIDA's own heads (a 3-class
head at ``[CLS]``, the ``[SEG]`` projection, and an attention from the projected class logits
onto the ``[SEG]`` embeddings). The released ``config.json`` describes only the language
model and the projector; the SAM part is always ViT-H and the CLIP part comes from the vision
tower the checkpoint names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fdrbench.adapters.llava_config import llama_fields
from fdrbench.errors import FdrbenchError

if TYPE_CHECKING:  # pragma: no cover
    from transformers import CLIPVisionConfig, LlamaConfig, SamConfig

#: class index -> fdrbench class name; the order of SIDA's head (0 real, 1 full synthetic, 2 tampered)
CLASS_NAMES = ("real", "full_synthetic", "tampered")
TAMPERED = 2
#: the CLIP tower every released SIDA checkpoint names in its config
DEFAULT_VISION_TOWER = "openai/clip-vit-large-patch14"
#: LLaVA's placeholder id for the image inside token ids; never a real vocabulary entry
IMAGE_TOKEN_INDEX = -200


@dataclass
class SidaConfig:
    """Everything needed to build the modules; ``out_dim`` is the SAM prompt width (256)."""

    llm: LlamaConfig
    clip: CLIPVisionConfig
    sam: SamConfig
    out_dim: int = 256
    num_classes: int = 3
    attention_heads: int = 8
    vision_select_layer: int = -2

    def __post_init__(self) -> None:
        prompt_width = self.sam.prompt_encoder_config.hidden_size
        if self.out_dim != prompt_width:
            raise FdrbenchError(f"SIDA out_dim {self.out_dim} must equal the SAM prompt width {prompt_width}")
        if self.out_dim % self.attention_heads:
            raise FdrbenchError(f"SIDA out_dim {self.out_dim} is not divisible by {self.attention_heads} attention heads")

    @property
    def n_patches(self) -> int:
        """Image tokens the language model sees: CLIP patches without the class token (256 for ViT-L/14 at 224)."""
        return (self.clip.image_size // self.clip.patch_size) ** 2

    @property
    def sam_image_size(self) -> int:
        return int(self.sam.vision_config.image_size)

    def summary(self) -> dict[str, Any]:
        """Sizes for the manifest."""
        return {
            "llm_hidden_size": self.llm.hidden_size,
            "llm_layers": self.llm.num_hidden_layers,
            "vocab_size": self.llm.vocab_size,
            "clip_image_size": self.clip.image_size,
            "clip_patch_size": self.clip.patch_size,
            "sam_hidden_size": self.sam.vision_config.hidden_size,
            "sam_layers": self.sam.vision_config.num_hidden_layers,
            "sam_image_size": self.sam_image_size,
            "out_dim": self.out_dim,
        }


def read_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise FdrbenchError(f"{what}: {path} not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FdrbenchError(f"{what}: {path} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise FdrbenchError(f"{what}: {path} must hold a JSON object")
    return data


def llm_config(checkpoint_config: dict, where: str = "config.json") -> LlamaConfig:
    """The LLaMA part of a released SIDA ``config.json`` (a LLaVA-LLaMA config)."""
    from transformers import LlamaConfig

    fields = llama_fields(checkpoint_config)
    missing = [k for k in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads") if k not in fields]
    if missing:
        raise FdrbenchError(f"{where}: not a LLaMA-based SIDA config, it lacks {', '.join(missing)}")
    return LlamaConfig(**fields)


def sam_vit_h_config() -> SamConfig:
    """SAM ViT-H, the segmenter every SIDA checkpoint carries (``build_sam_vit_h``)."""
    from transformers import SamConfig, SamVisionConfig

    vision = SamVisionConfig(hidden_size=1280, num_hidden_layers=32, num_attention_heads=16, global_attn_indexes=[7, 15, 23, 31])
    return SamConfig(vision_config=vision)


def clip_vit_l14_config() -> CLIPVisionConfig:
    """The vision half of ``openai/clip-vit-large-patch14`` (224 px, 14 px patches)."""
    from transformers import CLIPVisionConfig

    return CLIPVisionConfig(
        hidden_size=1024,
        intermediate_size=4096,
        num_hidden_layers=24,
        num_attention_heads=16,
        image_size=224,
        patch_size=14,
        projection_dim=768,
        hidden_act="quick_gelu",
    )


def sam_config_from(source: str | dict | None) -> SamConfig:
    """``None`` or ``"vit_h"``: SIDA's ViT-H; a dict, a JSON file or a folder with ``config.json``: that SamConfig."""
    from transformers import SamConfig

    if source is None or source == "vit_h":
        return sam_vit_h_config()
    if isinstance(source, dict):
        return SamConfig(**source)
    path = Path(source).expanduser()
    if path.is_dir():
        path = path / "config.json"
    return SamConfig(**read_json(path, "SAM config"))


def tiny_config(vocab_size: int = 64) -> SidaConfig:
    """A SIDA of a few hundred thousand parameters: the same code path, seconds on a CPU."""
    from transformers import CLIPVisionConfig, LlamaConfig, SamConfig, SamVisionConfig
    from transformers.models.sam.configuration_sam import SamMaskDecoderConfig, SamPromptEncoderConfig

    llm = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=256,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    clip = CLIPVisionConfig(hidden_size=24, intermediate_size=48, num_hidden_layers=3, num_attention_heads=2, image_size=28, patch_size=7)
    out_dim = 16
    sam = SamConfig(
        vision_config=SamVisionConfig(
            hidden_size=24,
            num_hidden_layers=2,
            num_attention_heads=2,
            global_attn_indexes=[1],
            image_size=64,
            patch_size=16,
            output_channels=out_dim,
            window_size=2,
            mlp_dim=48,
            num_pos_feats=out_dim // 2,
        ),
        prompt_encoder_config=SamPromptEncoderConfig(hidden_size=out_dim, image_size=64, image_embedding_size=4, mask_input_channels=4),
        mask_decoder_config=SamMaskDecoderConfig(
            hidden_size=out_dim, mlp_dim=32, num_hidden_layers=2, num_attention_heads=2, iou_head_hidden_dim=16
        ),
    )
    return SidaConfig(llm=llm, clip=clip, sam=sam, out_dim=out_dim, attention_heads=2)
