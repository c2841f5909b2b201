"""The whole FakeReasoning network: vision towers -> two projectors -> FAFF -> LLaMA.

The 576 fused tokens replace the single ``<image>`` placeholder (id -200) of each prompt, as in LLaVA,
with no image start/end tokens. Training sequences are padded on the right (LLaVA's setting); prompts
for generation on the left, so a batch decodes together.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from fdrbench.adapters.fakereasoning.config import IGNORE_INDEX, IMAGE_TOKEN_INDEX, FakeReasoningConfig
from fdrbench.adapters.fakereasoning.encoders import DualVisionEncoder
from fdrbench.adapters.fakereasoning.faff import FAFF
from fdrbench.errors import FdrbenchError


def build_projector(config: FakeReasoningConfig, in_features: int) -> nn.Module:
    """LLaVA's ``linear`` / ``mlpNx_gelu`` projector: Linear, then (GELU, Linear) N-1 times."""
    hidden = config.hidden_size
    depth = config.projector_depth()
    modules: list[nn.Module] = [nn.Linear(in_features, hidden)]
    for _ in range(1, depth):
        modules += [nn.GELU(), nn.Linear(hidden, hidden)]
    return modules[0] if depth == 1 else nn.Sequential(*modules)


@dataclass
class MultimodalBatch:
    """LLM inputs after the image tokens are spliced in."""

    inputs_embeds: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor | None
    image_spans: list[tuple[int, int]]


class FakeReasoningModel(nn.Module):
    """Dual encoder, projectors, FAFF and the language model, with LLaVA's input splicing."""

    def __init__(self, config: FakeReasoningConfig, attn_implementation: str | None = "sdpa"):
        super().__init__()
        from transformers import LlamaForCausalLM

        self.config = config
        self.vision = DualVisionEncoder(config, attn_implementation)
        self.mm_projector = build_projector(config, int(config.clip["hidden_size"]))
        self.dino_mm_projector = build_projector(config, int(config.dino["hidden_size"]))
        self.faff = FAFF(config)
        self.llm = LlamaForCausalLM(config.llama_config(attn_implementation))

    # ------------------------------------------------------------------ pieces

    @property
    def device(self) -> torch.device:
        return self.mm_projector_weight.device

    @property
    def mm_projector_weight(self) -> torch.Tensor:
        return next(self.mm_projector.parameters())

    def language_model(self) -> nn.Module:
        """The LlamaForCausalLM, also when it is wrapped by peft."""
        llm = self.llm
        return llm.get_base_model() if hasattr(llm, "get_base_model") else llm

    def encode_images(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Fused visual tokens [B, N, hidden] for the LLM."""
        clip_tokens, dino_tokens, dino_attention = self.vision(pixel_values)
        dtype = self.mm_projector_weight.dtype
        clip_proj = self.mm_projector(clip_tokens.to(dtype))
        dino_proj = self.dino_mm_projector(dino_tokens.to(dtype))
        return self.faff(clip_proj, dino_proj, dino_attention)

    def splice(
        self,
        input_ids: list[torch.Tensor],
        image_features: torch.Tensor,
        labels: list[torch.Tensor] | None = None,
        padding_side: str = "right",
        max_length: int | None = None,
    ) -> MultimodalBatch:
        """Replace each sequence's one ``<image>`` placeholder by its image's tokens and pad the batch."""
        embed = self.language_model().get_input_embeddings()
        sequences, targets, spans = [], [], []
        for row, ids in enumerate(input_ids):
            where = (ids == IMAGE_TOKEN_INDEX).nonzero().flatten()
            if len(where) != 1:
                raise FdrbenchError(f"sequence {row} has {len(where)} <image> placeholders; FakeReasoning takes exactly one image")
            at = int(where[0])
            text = embed(torch.cat([ids[:at], ids[at + 1 :]]).to(embed.weight.device))
            feats = image_features[row].to(text.dtype)
            sequences.append(torch.cat([text[:at], feats, text[at:]]))
            spans.append((at, at + feats.shape[0]))
            if labels is not None:
                lab = labels[row].to(embed.weight.device)
                ignore = torch.full((feats.shape[0],), IGNORE_INDEX, dtype=lab.dtype, device=lab.device)
                targets.append(torch.cat([lab[:at], ignore, lab[at + 1 :]]))
        if max_length is not None:
            sequences = [s[:max_length] for s in sequences]
            targets = [t[:max_length] for t in targets]
        width = max(s.shape[0] for s in sequences)
        hidden = sequences[0].shape[1]
        device = sequences[0].device
        embeds = sequences[0].new_zeros((len(sequences), width, hidden))
        mask = torch.zeros((len(sequences), width), dtype=torch.long, device=device)
        out_labels = torch.full((len(sequences), width), IGNORE_INDEX, dtype=torch.long, device=device) if labels is not None else None
        for row, seq in enumerate(sequences):
            n = seq.shape[0]
            sl = slice(0, n) if padding_side == "right" else slice(width - n, width)
            embeds[row, sl] = seq
            mask[row, sl] = 1
            if out_labels is not None:
                out_labels[row, sl] = targets[row]
            if padding_side == "left":
                spans[row] = (spans[row][0] + width - n, spans[row][1] + width - n)
        return MultimodalBatch(embeds, mask, out_labels, spans)

    # ------------------------------------------------------------------ training forward

    def forward(
        self,
        input_ids: list[torch.Tensor],
        pixel_values: torch.Tensor,
        labels: list[torch.Tensor] | None = None,
        output_final_hidden: bool = False,
    ):
        """Teacher-forced pass; returns the LLM output (logits), the spliced batch (with the labels aligned
        to it), the fused image tokens and, on request, the final normalised hidden states (for FACL)."""
        features = self.encode_images(pixel_values)
        batch = self.splice(input_ids, features, labels, "right", self.config.max_length)
        captured: dict[str, torch.Tensor] = {}
        handle = None
        if output_final_hidden:
            norm = self.language_model().model.norm
            handle = norm.register_forward_hook(lambda _m, _i, out: captured.__setitem__("hidden", out))
        try:
            out = self.llm(inputs_embeds=batch.inputs_embeds, attention_mask=batch.attention_mask, use_cache=False)
        finally:
            if handle is not None:
                handle.remove()
        return out, batch, features, captured.get("hidden")

    # ------------------------------------------------------------------ generation

    @torch.no_grad()
    def generate(self, input_ids: list[torch.Tensor], pixel_values: torch.Tensor, **generate_kwargs):
        """Generate from left-padded multimodal prompts; returns transformers' generate output
        (``sequences`` hold the new ids only)."""
        features = self.encode_images(pixel_values)
        batch = self.splice(input_ids, features, None, "left")
        return self.llm.generate(inputs_embeds=batch.inputs_embeds, attention_mask=batch.attention_mask, **generate_kwargs)
