"""Every size and setting of a FakeReasoning model in one object, so a tiny configuration runs on CPU.

The released model (v3) is LLaVA-1.5-13B with CLIP ViT-L/14-336 and DINOv2 ViT-L/14, two ``mlp2x_gelu``
projectors and one FAFF layer of 16 heads. Checkpoints carry a LLaVA-style ``config.json``; fdrbench adds
a ``fdrbench_fakereasoning`` section to the ones it writes (tiny or merged) with the tower and FAFF sizes,
and falls back to the released sizes when the section is absent.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from fdrbench.adapters.llava_config import llama_fields
from fdrbench.errors import FdrbenchError

OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGE_TOKEN_INDEX = -200
IGNORE_INDEX = -100
CPM_TEXT = "<CONCLUSION> This image is"
#: The CPM pattern and verdict ids of the released model, as written in its training code for the
#: LLaMA tokenizer (``CON CL US ION > ▁This ▁image ▁is``: the pattern starts after the ``<``). fdrbench
#: always derives the ids from the model's own tokenizer; these are the values that derivation gives
#: for the LLaMA vocabulary (checked against the real vocabulary by ``make conformance``).
RELEASED_PATTERN_IDS = (6007, 6154, 3308, 2725, 29958, 910, 1967, 338)
RELEASED_REAL_ID = 1855
RELEASED_FAKE_ID = 25713
DEFAULT_CLIP = "openai/clip-vit-large-patch14-336"
DEFAULT_DINO_URL = "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/dinov2_vitl14_pretrain.pth"
SECTION = "fdrbench_fakereasoning"

CLIP_L14_336 = {
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "image_size": 336,
    "patch_size": 14,
    "projection_dim": 768,
    "hidden_act": "quick_gelu",
    "layer_norm_eps": 1e-5,
}
DINOV2_L14 = {
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "mlp_ratio": 4,
    "image_size": 518,
    "patch_size": 14,
    "layerscale_value": 1.0,
    "layer_norm_eps": 1e-6,
    "qkv_bias": True,
    "use_swiglu_ffn": False,
    "hidden_act": "gelu",
}


@dataclass
class FakeReasoningConfig:
    """Sizes of the three networks and the FAFF block, and the fixed settings of the method."""

    llm: dict[str, Any]
    clip: dict[str, Any] = field(default_factory=lambda: dict(CLIP_L14_336))
    dino: dict[str, Any] = field(default_factory=lambda: dict(DINOV2_L14))
    projector_type: str = "mlp2x_gelu"
    clip_select_layer: int = -2
    select_feature: str = "patch"
    faff_heads: int = 16
    faff_ff_size: int | None = None
    faff_dropout: float = 0.1
    faff_bias_hidden: int = 32
    faff_layers: int = 1
    faff_eps: float = 1e-6
    image_size: int = 336
    image_mean: tuple[float, float, float] = OPENAI_CLIP_MEAN
    image_std: tuple[float, float, float] = OPENAI_CLIP_STD
    image_aspect_ratio: str = "pad"
    dino_pos_interpolation: str = "original"
    max_length: int = 2048
    tau: float = 10.0
    cpm_text: str = CPM_TEXT
    real_word: str = "real"
    fake_word: str = "fake"
    vision_source: str = DEFAULT_CLIP

    def __post_init__(self) -> None:
        self.image_mean = tuple(float(v) for v in self.image_mean)
        self.image_std = tuple(float(v) for v in self.image_std)
        self.validate()

    # ------------------------------------------------------------------ derived sizes

    @property
    def hidden_size(self) -> int:
        return int(self.llm["hidden_size"])

    @property
    def ff_size(self) -> int:
        return int(self.faff_ff_size or 4 * self.hidden_size)

    @property
    def num_patches(self) -> int:
        return (self.image_size // int(self.clip["patch_size"])) ** 2

    def projector_depth(self) -> int:
        """1 for ``linear``, N for ``mlpNx_gelu`` (LLaVA's projector names)."""
        if self.projector_type == "linear":
            return 1
        match = re.fullmatch(r"mlp(\d+)x_gelu", self.projector_type)
        if not match:
            raise FdrbenchError(f"unknown projector type {self.projector_type!r}; expected 'linear' or 'mlpNx_gelu'")
        return int(match.group(1))

    def validate(self) -> None:
        """Refuse sizes the architecture cannot run with, before any weight is allocated."""
        self.projector_depth()
        if self.hidden_size % self.faff_heads:
            raise FdrbenchError(f"FAFF: hidden size {self.hidden_size} is not divisible by {self.faff_heads} heads")
        if int(self.dino["num_attention_heads"]) != self.faff_heads:
            raise FdrbenchError(
                f"FAFF adds one attention bias per DINOv2 head: DINOv2 has {self.dino['num_attention_heads']} heads, FAFF {self.faff_heads}"
            )
        if int(self.clip["patch_size"]) != int(self.dino["patch_size"]):
            raise FdrbenchError("CLIP and DINOv2 must share a patch size: FAFF pairs their patch tokens one to one")
        if self.image_size % int(self.clip["patch_size"]):
            raise FdrbenchError(f"image size {self.image_size} is not a multiple of the patch size {self.clip['patch_size']}")
        if self.select_feature != "patch":
            raise FdrbenchError("FakeReasoning drops the CLS token ('patch' features); other selections break FAFF's token pairing")
        if self.image_aspect_ratio not in ("pad", "square"):
            raise FdrbenchError(f"image_aspect_ratio must be 'pad' or 'square', got {self.image_aspect_ratio!r}")
        if self.dino_pos_interpolation not in ("original", "transformers"):
            raise FdrbenchError("dino_pos_interpolation must be 'original' or 'transformers'")
        if self.tau <= 0:
            raise FdrbenchError(f"CPM temperature tau must be positive, got {self.tau}")

    # ------------------------------------------------------------------ transformers configs

    def llama_config(self, attn_implementation: str | None = None):
        from transformers import LlamaConfig

        cfg = LlamaConfig(**self.llm)
        if attn_implementation:
            cfg._attn_implementation = attn_implementation
        return cfg

    def clip_config(self, attn_implementation: str | None = None):
        from transformers import CLIPVisionConfig

        cfg = CLIPVisionConfig(**self.clip)
        if attn_implementation:
            cfg._attn_implementation = attn_implementation
        return cfg

    def dino_config(self, attn_implementation: str | None = None):
        from transformers import Dinov2Config

        cfg = Dinov2Config(**self.dino)
        if attn_implementation:
            cfg._attn_implementation = attn_implementation
        return cfg

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["image_mean"] = list(self.image_mean)
        out["image_std"] = list(self.image_std)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FakeReasoningConfig:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise FdrbenchError(f"unknown FakeReasoning config field(s): {', '.join(unknown)}")
        return cls(**data)

    def to_llava_json(self) -> dict[str, Any]:
        """A LLaVA-style config.json: LLaMA fields, LLaVA's mm_* fields, and fdrbench's section."""
        section = self.to_dict()
        section.pop("llm")
        return {
            "architectures": ["LlavaLlamaForCausalLM"],
            "model_type": "llava_llama",
            **self.llm,
            "mm_hidden_size": int(self.clip["hidden_size"]),
            "mm_projector_type": self.projector_type,
            "mm_vision_select_layer": self.clip_select_layer,
            "mm_vision_select_feature": self.select_feature,
            "mm_vision_tower": self.vision_source,
            "mm_use_im_start_end": False,
            "mm_use_im_patch_token": False,
            "mm_patch_merge_type": "flat",
            "image_aspect_ratio": self.image_aspect_ratio,
            "tokenizer_model_max_length": self.max_length,
            "tokenizer_padding_side": "right",
            "use_mm_proj": True,
            SECTION: section,
        }

    @classmethod
    def from_llava_json(cls, data: dict[str, Any], where: str = "config.json") -> FakeReasoningConfig:
        """Read a LLaVA config.json (the released one, or one fdrbench wrote)."""
        if not isinstance(data, dict) or "hidden_size" not in data:
            raise FdrbenchError(f"{where}: not a LLaVA/LLaMA config (no 'hidden_size')")
        if data.get("mm_use_im_start_end"):
            raise FdrbenchError(f"{where}: mm_use_im_start_end=true is not FakeReasoning's setting (it uses plain <image>)")
        merge = data.get("mm_patch_merge_type", "flat")
        if merge != "flat":
            raise FdrbenchError(f"{where}: mm_patch_merge_type {merge!r} is not supported (FakeReasoning uses 'flat')")
        llm = llama_fields(data)
        section = dict(data.get(SECTION) or {})
        settings: dict[str, Any] = {
            "projector_type": data.get("mm_projector_type", "mlp2x_gelu"),
            "clip_select_layer": int(data.get("mm_vision_select_layer", -2)),
            "select_feature": data.get("mm_vision_select_feature", "patch"),
            "image_aspect_ratio": data.get("image_aspect_ratio", "pad"),
            "max_length": int(data.get("tokenizer_model_max_length") or 2048),
        }
        if data.get("mm_vision_tower"):
            settings["vision_source"] = str(data["mm_vision_tower"])
        if not section:
            settings["faff_heads"] = 16
        settings.update(section)
        settings["llm"] = llm
        mm_hidden = data.get("mm_hidden_size")
        config = cls.from_dict(settings)
        if mm_hidden is not None and int(mm_hidden) != int(config.clip["hidden_size"]):
            raise FdrbenchError(f"{where}: mm_hidden_size {mm_hidden} differs from the CLIP width {config.clip['hidden_size']}")
        return config
