"""SIDA's modules on transformers parts, and the forward passes the adapter needs.

- ``vision_tower`` (``CLIPVisionModel``) -> patch features of the second-to-last layer without
  the class token -> ``mm_projector`` (one ``Linear``, LLaVA-v1 style) -> spliced into the token
  embeddings where the ``<image>`` placeholder stands.
- ``language_model`` (``LlamaForCausalLM``): its last, normalised hidden states feed the heads.
- ``cls_head`` (H -> H/2 -> 3) and ``seg_projection`` (H -> H -> 256, the released
  ``text_hidden_fcs``), ``cls_projection`` (3 -> 256, ``sida_fc1``) and ``cls_seg_attention``
  (``attention_layer``, 8 heads): see :mod:`fdrbench.adapters.sida.decision` for how they combine.
- ``sam`` (``SamModel``): the ViT-H image encoder, and the mask decoder prompted with one
  ``[SEG]`` embedding as a sparse prompt and SAM's no-mask dense embedding.
"""

from __future__ import annotations

import torch
from torch import nn

from fdrbench.adapters.sida.config import IMAGE_TOKEN_INDEX, SidaConfig


class SidaModel(nn.Module):
    def __init__(self, config: SidaConfig):
        super().__init__()
        from transformers import CLIPVisionModel, LlamaForCausalLM, SamModel

        self.config = config
        hidden = config.llm.hidden_size
        self.vision_tower = CLIPVisionModel(config.clip)
        self.mm_projector = nn.Linear(config.clip.hidden_size, hidden)
        self.language_model = LlamaForCausalLM(config.llm)
        self.sam = SamModel(config.sam)
        self.cls_head = nn.Sequential(
            nn.Linear(hidden, hidden // 2), nn.ReLU(), nn.Dropout(0.0), nn.Linear(hidden // 2, config.num_classes)
        )
        self.seg_projection = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, config.out_dim), nn.Dropout(0.0))
        self.cls_projection = nn.Linear(config.num_classes, config.out_dim)
        self.cls_seg_attention = nn.MultiheadAttention(config.out_dim, config.attention_heads, batch_first=True)

    @property
    def dtype(self) -> torch.dtype:
        return self.mm_projector.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.mm_projector.weight.device

    # ----------------------------------------------------------------- language side

    def image_features(self, clip_pixels: torch.Tensor) -> torch.Tensor:
        """(B, 3, h, w) -> (B, P, H): projected CLIP patch features, the class token dropped."""
        out = self.vision_tower(pixel_values=clip_pixels.to(self.device, self.dtype), output_hidden_states=True)
        patches = out.hidden_states[self.config.vision_select_layer][:, 1:]
        return self.mm_projector(patches)

    def embed(self, input_ids: torch.Tensor, features: torch.Tensor, attention_mask: torch.Tensor | None = None):
        """Token embeddings with each row's single ``<image>`` placeholder replaced by its features.

        Returns ``(inputs_embeds, attention_mask)`` of length ``L + P - 1``.
        """
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        image_at = image_positions(input_ids)
        tokens = self.language_model.get_input_embeddings()(input_ids.clamp(min=0))
        rows, masks = [], []
        for b, p in enumerate(image_at.tolist()):
            rows.append(torch.cat([tokens[b, :p], features[b].to(tokens.dtype), tokens[b, p + 1 :]]))
            ones = attention_mask.new_ones(features.shape[1])
            masks.append(torch.cat([attention_mask[b, :p], ones, attention_mask[b, p + 1 :]]))
        return torch.stack(rows), torch.stack(masks)

    def last_hidden(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """(B, L', H) last-layer hidden states after the final norm: what ``lm_head`` and SIDA's heads read."""
        out = self.language_model.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask, use_cache=False)
        return out.last_hidden_state

    @torch.no_grad()
    def generate(
        self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor, max_new_tokens: int, eos_token_id: int, pad_token_id: int
    ):
        """Greedy decoding (one beam), as the authors' ``evaluate``; returns the new token ids only."""
        out = self.language_model.generate(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            eos_token_id=eos_token_id,
            pad_token_id=pad_token_id,
        )
        return out

    # ----------------------------------------------------------------- SAM side

    def sam_embeddings(self, sam_pixels: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) -> (B, 256, S/16, S/16) SAM image embeddings."""
        return self.sam.get_image_embeddings(sam_pixels.to(self.device, self.dtype))

    def decode_masks(self, image_embedding: torch.Tensor, prompts: torch.Tensor) -> torch.Tensor:
        """Low-resolution mask logits (n, 4h, 4w) of one image, one per prompt embedding (n, 256),
        each prompt decoded on its own, single-mask output."""
        _, _, height, width = image_embedding.shape
        sparse = prompts.to(image_embedding.dtype)[None, :, None, :]
        dense = self.sam.prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(1, -1, height, width)
        positional = self.sam.get_image_wide_positional_embeddings().to(image_embedding.dtype)
        masks, _ = self.sam.mask_decoder(
            image_embeddings=image_embedding,
            image_positional_embeddings=positional,
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=False,
        )
        return masks[0, :, 0]


def image_positions(input_ids: torch.Tensor) -> torch.Tensor:
    """The index of the single ``<image>`` placeholder in each row; an error when a row has none or several."""
    is_image = input_ids == IMAGE_TOKEN_INDEX
    counts = is_image.sum(dim=1)
    if not bool((counts == 1).all()):
        raise ValueError(f"every sequence needs exactly one <image> placeholder, found {counts.tolist()}")
    return is_image.int().argmax(dim=1)
