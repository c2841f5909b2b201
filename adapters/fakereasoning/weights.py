"""The explicit key mapping between the released checkpoint layout and fdrbench's model, both ways.

The released weights use the original LLaVA layout of ``LlavaLlamaForCausalLM``::

    model.embed_tokens.* / model.layers.N.* / model.norm.* / lm_head.weight     LLaMA
    model.mm_projector.{0,2}.*                                                  CLIP projector
    model.dino_mm_projector.{0,2}.*                                             DINOv2 projector
    model.crossattention.attention_mlp.mlp.{0,2}.*                              FAFF attention-bias MLP
    model.crossattention.mhatt.N.linear_{q,k,v,merge}.*                         FAFF attention
    model.crossattention.ffn.N.mlp.fc.linear.* / ffn.N.mlp.linear.*             FAFF feed-forward
    model.crossattention.norm.{2N,2N+1}.{a_2,b_2}                               FAFF layer norms
    model.vision_tower.vision_tower.vision_model.*                              CLIP (when saved)
    model.dino_tower.vision_tower.<DINOv2 names>                                DINOv2 (when saved)
    model.dino_tower.clip_vision_tower.*                                        an unused CLIP copy (ignored)

The DINOv2 file ``dinov2_vitl14_pretrain.pth`` uses the original DINOv2 names (``blocks.N.attn.qkv``,
``ls1.gamma``, ...), mapped here onto transformers' ``Dinov2Model`` (the fused qkv is split in three).
Anything the mapping does not know is an *unexpected* key and anything the model still lacks after all
sources are read is a *missing* key; either is an error that lists them, never silent random weights.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import torch
from torch import nn

from fdrbench.adapters.fakereasoning.checkpoint_files import WeightsError

PEFT_PREFIX = "base_model.model."
LLM_PARTS = ("model.embed_tokens.", "model.layers.", "model.norm.")
IGNORED_SUFFIXES = (".rotary_emb.inv_freq", "embeddings.position_ids")
IGNORED_PREFIXES = ("model.dino_tower.clip_vision_tower.",)
CLIP_PREFIX, DINO_PREFIX, FAFF_PREFIX = "vision.clip.", "vision.dino.", "faff."

#: (original name under ``model.crossattention.``, fdrbench name under ``faff.``); {i} a layer or
#: module index, {p} the parameter.
_FAFF_RULES = (
    ("attention_mlp.mlp.{i}.{p}", "bias_mlp.mlp.{i}.{p}"),
    ("mhatt.{i}.linear_q.{p}", "layers.{i}.attn.q_proj.{p}"),
    ("mhatt.{i}.linear_k.{p}", "layers.{i}.attn.k_proj.{p}"),
    ("mhatt.{i}.linear_v.{p}", "layers.{i}.attn.v_proj.{p}"),
    ("mhatt.{i}.linear_merge.{p}", "layers.{i}.attn.out_proj.{p}"),
    ("ffn.{i}.mlp.fc.linear.{p}", "layers.{i}.ffn.fc1.{p}"),
    ("ffn.{i}.mlp.linear.{p}", "layers.{i}.ffn.fc2.{p}"),
)
_FAFF_NORM = re.compile(r"norm\.(\d+)\.(a_2|b_2)")
_OUR_FAFF_NORM = re.compile(r"layers\.(\d+)\.norm([12])\.(weight|bias)")

#: DINOv2 original names -> transformers names; the layer part depends on the transformers version.
_DINO_TOP = {
    "cls_token": "embeddings.cls_token",
    "pos_embed": "embeddings.position_embeddings",
    "mask_token": "embeddings.mask_token",
    "patch_embed.proj.weight": "embeddings.patch_embeddings.projection.weight",
    "patch_embed.proj.bias": "embeddings.patch_embeddings.projection.bias",
    "norm.weight": "layernorm.weight",
    "norm.bias": "layernorm.bias",
}
_DINO_LAYER_SCHEMES = {
    "split_proj": {"q": "attention.q_proj", "k": "attention.k_proj", "v": "attention.v_proj", "proj": "attention.o_proj"},
    "nested": {
        "q": "attention.attention.query",
        "k": "attention.attention.key",
        "v": "attention.attention.value",
        "proj": "attention.output.dense",
    },
}
_DINO_LAYER_PLAIN = {
    "norm1": "norm1",
    "norm2": "norm2",
    "mlp.fc1": "mlp.fc1",
    "mlp.fc2": "mlp.fc2",
}
_DINO_BLOCK = re.compile(r"blocks\.(\d+)\.(.+)")


@dataclass
class MappedState:
    """A checkpoint's tensors under fdrbench's names, and what the mapping set aside."""

    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def summarize_keys(keys: Iterable[str]) -> str:
    """Keys with numeric parts folded into ranges: ``llm.model.layers.{0-39}.mlp.up_proj.weight``."""
    groups: dict[str, set[tuple[int, ...]]] = defaultdict(set)
    for key in keys:
        parts = key.split(".")
        numbers = tuple(int(p) for p in parts if p.isdigit())
        pattern = ".".join("{}" if p.isdigit() else p for p in parts)
        groups[pattern].add(numbers)
    lines = []
    for pattern in sorted(groups):
        combos = sorted(groups[pattern])
        if not combos[0]:
            lines.append(pattern)
            continue
        if len(combos[0]) == 1:
            lines.append(pattern.replace("{}", "{" + _ranges([c[0] for c in combos]) + "}", 1))
        else:
            lines.extend(pattern.format(*c) for c in combos)
    return "\n  ".join(lines)


def _ranges(values: list[int]) -> str:
    out, start, prev = [], values[0], values[0]
    for v in values[1:] + [None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        out.append(f"{start}-{prev}" if prev != start else f"{start}")
        if v is not None:
            start = prev = v
    return ",".join(out)


def group_of(key: str) -> str:
    """Which part of the model an fdrbench key belongs to (for messages and for filling gaps)."""
    for prefix, name in (
        (CLIP_PREFIX, "clip"),
        (DINO_PREFIX, "dino"),
        (FAFF_PREFIX, "faff"),
        ("mm_projector.", "mm_projector"),
        ("dino_mm_projector.", "dino_mm_projector"),
    ):
        if key.startswith(prefix):
            return name
    return "llm"


class KeyMapper:
    """Translates between the original layout and this model's names (which depend a little on the
    installed transformers version; the variants are detected from the model itself)."""

    def __init__(self, model: nn.Module):
        keys = set(model.state_dict().keys())
        self.model_keys = keys
        self.clip_inner = "vision_model." if f"{CLIP_PREFIX}vision_model.embeddings.class_embedding" in keys else ""
        if f"{DINO_PREFIX}encoder.layer.0.attention.q_proj.weight" in keys:
            self.dino_scheme = _DINO_LAYER_SCHEMES["split_proj"]
        elif f"{DINO_PREFIX}encoder.layer.0.attention.attention.query.weight" in keys:
            self.dino_scheme = _DINO_LAYER_SCHEMES["nested"]
        else:
            raise WeightsError("unrecognised Dinov2Model parameter names in this transformers version")

    # ------------------------------------------------------------------ original -> ours

    def from_original(self, state: dict[str, torch.Tensor]) -> MappedState:
        """Map one checkpoint file (LLaVA layout; a peft ``base_model.model.`` prefix is accepted)."""
        out = MappedState()
        dino_part: dict[str, torch.Tensor] = {}
        for raw_key, tensor in state.items():
            key = raw_key[len(PEFT_PREFIX) :] if raw_key.startswith(PEFT_PREFIX) else raw_key
            if key.endswith(IGNORED_SUFFIXES) or key.startswith(IGNORED_PREFIXES):
                out.ignored.append(raw_key)
                continue
            mapped = self._map_original_key(key)
            if mapped == "dino":
                dino_part[key[len("model.dino_tower.vision_tower.") :]] = tensor
            elif mapped is None:
                out.unexpected.append(raw_key)
            else:
                out.tensors[mapped] = tensor
        if dino_part:
            dino = self.dino_from_original(dino_part)
            out.tensors.update({DINO_PREFIX + k: v for k, v in dino.tensors.items()})
            out.unexpected += ["model.dino_tower.vision_tower." + k for k in dino.unexpected]
        return out

    def _map_original_key(self, key: str) -> str | None:
        if key.startswith(LLM_PARTS):
            return "llm." + key
        if key == "lm_head.weight":
            return "llm.lm_head.weight"
        if key.startswith("model.mm_projector."):
            return key[len("model.") :]
        if key.startswith("model.dino_mm_projector."):
            return key[len("model.") :]
        if key.startswith("model.crossattention."):
            inner = faff_from_original(key[len("model.crossattention.") :])
            return FAFF_PREFIX + inner if inner else None
        if key.startswith("model.vision_tower.vision_tower.vision_model."):
            return CLIP_PREFIX + self.clip_inner + key[len("model.vision_tower.vision_tower.vision_model.") :]
        if key.startswith("model.dino_tower.vision_tower."):
            return "dino"
        return None

    def clip_from_pretrained(self, state: dict[str, torch.Tensor]) -> MappedState:
        """A ``CLIPVisionModel`` state dict (any transformers version) under this model's names."""
        out = MappedState()
        for key, tensor in state.items():
            if key.endswith(IGNORED_SUFFIXES):
                out.ignored.append(key)
                continue
            inner = key[len("vision_model.") :] if key.startswith("vision_model.") else key
            out.tensors[CLIP_PREFIX + self.clip_inner + inner] = tensor
        return out

    def dino_file(self, state: dict[str, torch.Tensor]) -> MappedState:
        """A DINOv2 weight file (``dinov2_vitl14_pretrain.pth``, original names) under this model's names."""
        mapped = self.dino_from_original(state)
        mapped.tensors = {DINO_PREFIX + k: v for k, v in mapped.tensors.items()}
        return mapped

    def dino_from_original(self, state: dict[str, torch.Tensor]) -> MappedState:
        """Original DINOv2 names -> ``Dinov2Model`` names (relative to the tower)."""
        out = MappedState()
        for key, tensor in state.items():
            if key in _DINO_TOP:
                out.tensors[_DINO_TOP[key]] = tensor
                continue
            match = _DINO_BLOCK.fullmatch(key)
            if not match:
                out.unexpected.append(key)
                continue
            layer, rest = match.group(1), match.group(2)
            target = f"encoder.layer.{layer}."
            if rest in ("attn.qkv.weight", "attn.qkv.bias"):
                suffix = rest.rsplit(".", 1)[1]
                q, k, v = tensor.chunk(3, dim=0)
                for name, part in (("q", q), ("k", k), ("v", v)):
                    out.tensors[target + f"{self.dino_scheme[name]}.{suffix}"] = part.clone()
            elif rest.startswith("attn.proj."):
                out.tensors[target + f"{self.dino_scheme['proj']}.{rest.rsplit('.', 1)[1]}"] = tensor
            elif rest == "ls1.gamma":
                out.tensors[target + "layer_scale1.lambda1"] = tensor
            elif rest == "ls2.gamma":
                out.tensors[target + "layer_scale2.lambda1"] = tensor
            else:
                module, _, suffix = rest.rpartition(".")
                if module in _DINO_LAYER_PLAIN:
                    out.tensors[target + f"{_DINO_LAYER_PLAIN[module]}.{suffix}"] = tensor
                else:
                    out.unexpected.append(key)
        return out

    # ------------------------------------------------------------------ ours -> original

    def to_original(self, state: dict[str, torch.Tensor], include_vision: bool = True) -> dict[str, torch.Tensor]:
        """This model's state under the released layout (what ``merge`` and the tiny fixtures write)."""
        out: dict[str, torch.Tensor] = {}
        dino: dict[str, torch.Tensor] = {}
        for key, tensor in state.items():
            group = group_of(key)
            if group == "llm":
                out[key[len("llm.") :]] = tensor
            elif group in ("mm_projector", "dino_mm_projector"):
                out["model." + key] = tensor
            elif group == "faff":
                out["model.crossattention." + faff_to_original(key[len(FAFF_PREFIX) :])] = tensor
            elif group == "clip" and include_vision:
                inner = key[len(CLIP_PREFIX) + len(self.clip_inner) :]
                out["model.vision_tower.vision_tower.vision_model." + inner] = tensor
            elif group == "dino" and include_vision:
                dino[key[len(DINO_PREFIX) :]] = tensor
        if dino:
            out.update({"model.dino_tower.vision_tower." + k: v for k, v in self.dino_to_original(dino).items()})
        return out

    def dino_to_original(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``Dinov2Model`` names -> original DINOv2 names (q, k, v fused back into qkv)."""
        top = {v: k for k, v in _DINO_TOP.items()}
        layer_names = {**{v: k for k, v in _DINO_LAYER_PLAIN.items()}, "layer_scale1": "ls1", "layer_scale2": "ls2"}
        out: dict[str, torch.Tensor] = {}
        qkv: dict[tuple[str, str], dict[str, torch.Tensor]] = defaultdict(dict)
        for key, tensor in state.items():
            if key in top:
                out[top[key]] = tensor
                continue
            match = re.fullmatch(r"encoder\.layer\.(\d+)\.(.+)\.(weight|bias|lambda1)", key)
            if not match:
                raise WeightsError(f"cannot write DINOv2 key {key!r} in the original layout")
            layer, module, suffix = match.groups()
            for part in ("q", "k", "v"):
                if module == self.dino_scheme[part]:
                    qkv[(layer, suffix)][part] = tensor
                    break
            else:
                if module == self.dino_scheme["proj"]:
                    out[f"blocks.{layer}.attn.proj.{suffix}"] = tensor
                elif module in layer_names and suffix == "lambda1":
                    out[f"blocks.{layer}.{layer_names[module]}.gamma"] = tensor
                elif module in layer_names:
                    out[f"blocks.{layer}.{layer_names[module]}.{suffix}"] = tensor
                else:
                    raise WeightsError(f"cannot write DINOv2 key {key!r} in the original layout")
        for (layer, suffix), parts in qkv.items():
            out[f"blocks.{layer}.attn.qkv.{suffix}"] = torch.cat([parts["q"], parts["k"], parts["v"]], dim=0)
        return out


def _template_regex(template: str) -> re.Pattern:
    pattern = re.escape(template).replace(r"\{i\}", r"(?P<i>\d+)").replace(r"\{p\}", r"(?P<p>weight|bias)")
    return re.compile(pattern)


def _translate(name: str, source: str, target: str) -> str | None:
    match = _template_regex(source).fullmatch(name)
    return target.format(**match.groupdict()) if match else None


def faff_from_original(inner: str) -> str | None:
    for original, ours in _FAFF_RULES:
        mapped = _translate(inner, original, ours)
        if mapped:
            return mapped
    match = _FAFF_NORM.fullmatch(inner)
    if match:
        index = int(match.group(1))
        return f"layers.{index // 2}.norm{index % 2 + 1}.{'weight' if match.group(2) == 'a_2' else 'bias'}"
    return None


def faff_to_original(inner: str) -> str:
    match = _OUR_FAFF_NORM.fullmatch(inner)
    if match:
        layer, which, kind = int(match.group(1)), int(match.group(2)), match.group(3)
        return f"norm.{2 * layer + which - 1}.{'a_2' if kind == 'weight' else 'b_2'}"
    for original, ours in _FAFF_RULES:
        mapped = _translate(inner, ours, original)
        if mapped:
            return mapped
    raise WeightsError(f"cannot write FAFF key {inner!r} in the original layout")
