"""Names of the released SIDA checkpoints mapped onto this package's modules, one rule each.

The released ``saberzl/SIDA-*`` folders hold the state dict of the authors' ``SIDAForCausalLM``
(LISA layout, LoRA merged, CLIP tower left out). Every checkpoint key must match exactly one
rule below; a key no rule knows, or a module weight no key fills, is an error that lists them,
so a checkpoint from another model or a partial download never loads silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fdrbench.errors import FdrbenchError

if TYPE_CHECKING:  # pragma: no cover
    import torch

# (checkpoint pattern, module name) pairs; \1, \2 carry layer indexes and parameter names.
_SAM_ENCODER = [
    (r"patch_embed\.proj\.(weight|bias)", r"patch_embed.projection.\1"),
    (r"pos_embed", r"pos_embed"),
    (r"blocks\.(\d+)\.norm([12])\.(weight|bias)", r"layers.\1.layer_norm\2.\3"),
    (r"blocks\.(\d+)\.attn\.(qkv|proj)\.(weight|bias)", r"layers.\1.attn.\2.\3"),
    (r"blocks\.(\d+)\.attn\.(rel_pos_h|rel_pos_w)", r"layers.\1.attn.\2"),
    (r"blocks\.(\d+)\.mlp\.(lin1|lin2)\.(weight|bias)", r"layers.\1.mlp.\2.\3"),
    (r"neck\.0\.weight", r"neck.conv1.weight"),
    (r"neck\.1\.(weight|bias)", r"neck.layer_norm1.\1"),
    (r"neck\.2\.weight", r"neck.conv2.weight"),
    (r"neck\.3\.(weight|bias)", r"neck.layer_norm2.\1"),
]
_SAM_PROMPT = [
    (r"point_embeddings\.(\d+)\.weight", r"point_embed.\1.weight"),
    (r"not_a_point_embed\.weight", r"not_a_point_embed.weight"),
    (r"no_mask_embed\.weight", r"no_mask_embed.weight"),
    (r"mask_downscaling\.0\.(weight|bias)", r"mask_embed.conv1.\1"),
    (r"mask_downscaling\.1\.(weight|bias)", r"mask_embed.layer_norm1.\1"),
    (r"mask_downscaling\.3\.(weight|bias)", r"mask_embed.conv2.\1"),
    (r"mask_downscaling\.4\.(weight|bias)", r"mask_embed.layer_norm2.\1"),
    (r"mask_downscaling\.6\.(weight|bias)", r"mask_embed.conv3.\1"),
]
_ATTN = r"(q_proj|k_proj|v_proj|out_proj)\.(weight|bias)"
_SAM_DECODER = [
    (r"iou_token\.weight", r"iou_token.weight"),
    (r"mask_tokens\.weight", r"mask_tokens.weight"),
    (
        rf"transformer\.layers\.(\d+)\.(self_attn|cross_attn_token_to_image|cross_attn_image_to_token)\.{_ATTN}",
        r"transformer.layers.\1.\2.\3.\4",
    ),
    (r"transformer\.layers\.(\d+)\.norm([1-4])\.(weight|bias)", r"transformer.layers.\1.layer_norm\2.\3"),
    (r"transformer\.layers\.(\d+)\.mlp\.(lin1|lin2)\.(weight|bias)", r"transformer.layers.\1.mlp.\2.\3"),
    (rf"transformer\.final_attn_token_to_image\.{_ATTN}", r"transformer.final_attn_token_to_image.\1.\2"),
    (r"transformer\.norm_final_attn\.(weight|bias)", r"transformer.layer_norm_final_attn.\1"),
    (r"output_upscaling\.0\.(weight|bias)", r"upscale_conv1.\1"),
    (r"output_upscaling\.1\.(weight|bias)", r"upscale_layer_norm.\1"),
    (r"output_upscaling\.3\.(weight|bias)", r"upscale_conv2.\1"),
    (r"output_hypernetworks_mlps\.(\d+)\.layers\.0\.(weight|bias)", r"output_hypernetworks_mlps.\1.proj_in.\2"),
    (r"output_hypernetworks_mlps\.(\d+)\.layers\.1\.(weight|bias)", r"output_hypernetworks_mlps.\1.layers.0.\2"),
    (r"output_hypernetworks_mlps\.(\d+)\.layers\.2\.(weight|bias)", r"output_hypernetworks_mlps.\1.proj_out.\2"),
    (r"iou_prediction_head\.layers\.0\.(weight|bias)", r"iou_prediction_head.proj_in.\1"),
    (r"iou_prediction_head\.layers\.1\.(weight|bias)", r"iou_prediction_head.layers.0.\1"),
    (r"iou_prediction_head\.layers\.2\.(weight|bias)", r"iou_prediction_head.proj_out.\1"),
]


def _rules(clip_prefix: str) -> list[tuple[str, str]]:
    rules = [
        (r"model\.embed_tokens\.weight", r"language_model.model.embed_tokens.weight"),
        (r"model\.layers\.(\d+)\.(.+)", r"language_model.model.layers.\1.\2"),
        (r"model\.norm\.weight", r"language_model.model.norm.weight"),
        (r"lm_head\.weight", r"language_model.lm_head.weight"),
        (r"model\.mm_projector\.(weight|bias)", r"mm_projector.\1"),
        (r"model\.vision_tower\.vision_tower\.vision_model\.(.+)", clip_prefix + r"\1"),
        (r"model\.cls_head\.0\.0\.(weight|bias)", r"cls_head.0.\1"),
        (r"model\.cls_head\.0\.3\.(weight|bias)", r"cls_head.3.\1"),
        (r"model\.text_hidden_fcs\.0\.0\.(weight|bias)", r"seg_projection.0.\1"),
        (r"model\.text_hidden_fcs\.0\.2\.(weight|bias)", r"seg_projection.2.\1"),
        (r"model\.sida_fc1\.(weight|bias)", r"cls_projection.\1"),
        (r"model\.attention_layer\.(in_proj_weight|in_proj_bias)", r"cls_seg_attention.\1"),
        (r"model\.attention_layer\.out_proj\.(weight|bias)", r"cls_seg_attention.out_proj.\1"),
    ]
    for prefix, target, table in (
        ("image_encoder", "vision_encoder", _SAM_ENCODER),
        ("prompt_encoder", "prompt_encoder", _SAM_PROMPT),
        ("mask_decoder", "mask_decoder", _SAM_DECODER),
    ):
        rules += [(rf"model\.visual_model\.{prefix}\.{pat}", rf"sam.{target}.{rep}") for pat, rep in table]
    return rules


#: SAM's random-Fourier matrix, shared by the prompt encoder and the image-wide positional embedding
POSITIONAL = "model.visual_model.prompt_encoder.pe_layer.positional_encoding_gaussian_matrix"
POSITIONAL_TARGETS = ("sam.prompt_encoder.shared_embedding.positional_embedding", "sam.shared_image_embedding.positional_embedding")
#: keys that hold values derived from the configuration, not learned: recomputed, never loaded
DERIVED = (
    re.compile(r"model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq\Z"),
    re.compile(r"model\.visual_model\.pixel_(mean|std)\Z"),
)
#: the CLIP tower's own checkpoint: ``vision_model.*`` in ``openai/clip-vit-large-patch14`` (a full
#: CLIPModel, whose text half is not used), bare names in a ``CLIPVisionModel`` saved by transformers 5
CLIP_VISION = re.compile(r"(?:vision_model\.)?((?:embeddings|encoder|pre_layrnorm|post_layernorm)\..+)\Z")
_GROUP = re.compile(r"\((?:[^()]|\([^()]*\))*\)")


def _inverse(ckpt_pattern: str, replacement: str) -> tuple[re.Pattern, str]:
    """A rule read right to left: each ``\\N`` of the module name becomes the N-th group of the
    checkpoint pattern, and each group of the checkpoint pattern becomes ``\\N`` again."""
    groups = _GROUP.findall(ckpt_pattern)
    pattern = re.escape(replacement)
    template = ckpt_pattern
    for number, group in enumerate(groups, start=1):
        pattern = pattern.replace(re.escape(f"\\{number}"), group, 1)
        template = template.replace(group, f"\\{number}", 1)
    return re.compile(pattern + r"\Z"), template.replace("\\.", ".")


class KeyMap:
    """Both directions between released names and module names.

    ``clip_prefix`` is where the CLIP tower's own names start inside the model: transformers 5
    keeps ``CLIPVisionModel``'s layers at its top (``vision_tower.``), earlier releases under
    ``vision_tower.vision_model.``.
    """

    def __init__(self, clip_prefix: str = "vision_tower."):
        self.clip_prefix = clip_prefix
        self.rules = [(re.compile(pat + r"\Z"), rep) for pat, rep in _rules(clip_prefix)]
        self.inverse_rules = [_inverse(pat, rep) for pat, rep in _rules(clip_prefix)]

    @classmethod
    def for_model(cls, model) -> KeyMap:
        return cls("vision_tower.vision_model." if hasattr(model.vision_tower, "vision_model") else "vision_tower.")

    def module_names(self, key: str) -> tuple[str, ...]:
        """Where one checkpoint tensor goes (two places for the shared positional matrix); () for derived buffers.

        Raises ``KeyError`` for a key no rule knows.
        """
        if key == POSITIONAL:
            return POSITIONAL_TARGETS
        if any(p.match(key) for p in DERIVED):
            return ()
        for pattern, replacement in self.rules:
            match = pattern.match(key)
            if match:
                return (match.expand(replacement),)
        raise KeyError(key)

    def checkpoint_name(self, module_key: str) -> str:
        """The inverse of :meth:`module_names`: the released name of one of this package's weights."""
        if module_key in POSITIONAL_TARGETS:
            return POSITIONAL
        for pattern, template in self.inverse_rules:
            match = pattern.match(module_key)
            if match:
                return match.expand(template)
        raise KeyError(module_key)

    def to_checkpoint(self, state: dict[str, torch.Tensor], with_tower: bool = False) -> dict[str, torch.Tensor]:
        """A module state dict under the released names; the CLIP tower is left out unless asked for,
        as the released folders leave it out."""
        return {self.checkpoint_name(k): v for k, v in state.items() if with_tower or not k.startswith("vision_tower.")}

    def clip_tensors(self, items: Iterable[tuple[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """The vision half of a CLIP checkpoint (``CLIPModel`` or ``CLIPVisionModel``) in module names."""
        out = {}
        for key, tensor in items:
            match = CLIP_VISION.match(key)
            if match and not key.endswith("position_ids"):
                out[self.clip_prefix + match.group(1)] = tensor
        return out

    def remap(
        self, checkpoint: Iterable[tuple[str, torch.Tensor]], expected: Iterable[str], extra: dict[str, torch.Tensor] | None = None
    ) -> tuple[dict[str, torch.Tensor], KeyReport]:
        """Rename checkpoint tensors to module names and report what is missing or unknown.

        Missing weights are named as this package names them, unexpected keys as the checkpoint
        names them. ``extra`` holds tensors from another source already in module names (the CLIP
        tower); the checkpoint wins where both have one.
        """
        wanted = set(expected)
        out = {k: v for k, v in (extra or {}).items() if k in wanted}
        unexpected, derived = [], []
        for key, tensor in checkpoint:
            try:
                targets = self.module_names(key)
            except KeyError:
                unexpected.append(key)
                continue
            if not targets:
                derived.append(key)
            elif any(t not in wanted for t in targets):
                unexpected.append(key)
            else:
                out.update(dict.fromkeys(targets, tensor))
        missing = sorted(wanted - set(out))
        return out, KeyReport(missing=missing, unexpected=sorted(unexpected), derived=sorted(derived))


@dataclass
class KeyReport:
    """The outcome of matching a checkpoint's names against the modules' names."""

    missing: list[str]
    unexpected: list[str]
    derived: list[str]

    def raise_if_bad(self, where: str) -> None:
        if not (self.missing or self.unexpected):
            return
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} weight(s) missing: {', '.join(self.missing)}")
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} unexpected key(s): {', '.join(self.unexpected)}")
        raise FdrbenchError(f"{where} is not a SIDA checkpoint this adapter can load; " + "; ".join(parts))


# --------------------------------------------------------------------------- checkpoint files


def weight_files(folder: Path) -> list[Path]:
    """The tensor files of a checkpoint folder: safetensors preferred, else PyTorch ``.bin``."""
    from fdrbench.adapters.sida.config import read_json

    for index_name, single in (
        ("model.safetensors.index.json", "model.safetensors"),
        ("pytorch_model.bin.index.json", "pytorch_model.bin"),
    ):
        index = folder / index_name
        if index.is_file():
            weight_map = read_json(index, "checkpoint index").get("weight_map")
            if not isinstance(weight_map, dict) or not weight_map:
                raise FdrbenchError(f"{index}: no 'weight_map'")
            files = [folder / name for name in sorted(set(weight_map.values()))]
            absent = [f.name for f in files if not f.is_file()]
            if absent:
                raise FdrbenchError(f"{folder}: the index names files that are not there (incomplete download?): {', '.join(absent)}")
            return files
        if (folder / single).is_file():
            return [folder / single]
    raise FdrbenchError(f"{folder}: no model.safetensors, pytorch_model.bin or their index files")


def iter_tensors(files: Iterable[Path], device: str = "cpu") -> Iterator[tuple[str, torch.Tensor]]:
    """Every tensor of the files, one at a time (safetensors memory-mapped, ``.bin`` loaded weights-only)."""
    import torch

    for path in files:
        if path.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="pt", device=device) as handle:
                for key in handle.keys():  # noqa: SIM118 - safe_open is not a mapping
                    yield key, handle.get_tensor(key)
        else:
            try:
                state = torch.load(path, map_location=device, weights_only=True)
            except Exception as exc:  # the unpickler's errors have no common base class
                raise FdrbenchError(f"{path}: cannot be read as a weights-only PyTorch file ({type(exc).__name__}: {exc})") from exc
            if not isinstance(state, dict):
                raise FdrbenchError(f"{path}: expected a state dict, got {type(state).__name__}")
            yield from state.items()


def checkpoint_keys(files: list[Path]) -> list[str]:
    """The tensor names of a checkpoint, from its index or the safetensors headers where it has them."""
    from fdrbench.adapters.sida.config import read_json

    index_name = "model.safetensors.index.json" if files[0].suffix == ".safetensors" else "pytorch_model.bin.index.json"
    index = files[0].parent / index_name
    if index.is_file():
        return sorted(read_json(index, "checkpoint index").get("weight_map", {}))
    if files[0].suffix == ".safetensors":
        from safetensors import safe_open

        keys: list[str] = []
        for path in files:
            with safe_open(str(path), framework="pt") as handle:
                keys.extend(handle.keys())
        return sorted(keys)
    return sorted(k for k, _ in iter_tensors(files))
