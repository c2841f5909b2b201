"""The two frozen vision towers, both fed the same CLIP-preprocessed tensor.

CLIP gives ``hidden_states[-2]`` without its CLS token (LLaVA's ``mm_vision_select_layer -2``). DINOv2
gives the last block's output before the final norm (``x_prenorm``) without CLS, and the last block's
softmax attention map, which FAFF turns into its attention bias. The map is recomputed from the last
block's own query and key weights, so the tower itself can run with any attention kernel.

DINOv2 was pre-trained at 518 px (37x37 position embeddings) and is run at 336 px, so its position
embeddings are interpolated. The released code uses the original DINOv2 rule (bicubic with a scale
factor of ``(24 + 0.1) / 37``); transformers uses an output size instead, which gives slightly different
embeddings. ``dino_pos_interpolation="original"`` (the default) reproduces the released rule.
"""

from __future__ import annotations

import math
from types import MethodType

import torch
from torch import nn
from torch.nn import functional as F

from fdrbench.adapters.fakereasoning.config import FakeReasoningConfig
from fdrbench.errors import FdrbenchError

DINO_INTERPOLATE_OFFSET = 0.1


def original_dino_interpolation(self, embeddings: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """DINOv2's own position-embedding interpolation (scale factor with a 0.1 offset, bicubic, no antialias)."""
    num_patches = embeddings.shape[1] - 1
    num_positions = self.position_embeddings.shape[1] - 1
    patch = self.patch_size if isinstance(self.patch_size, int) else self.patch_size[0]
    h0, w0 = height // patch, width // patch
    if num_patches == num_positions and height == width:
        return self.position_embeddings
    pos = self.position_embeddings.float()
    cls_pos, patch_pos = pos[:, :1], pos[:, 1:]
    side = int(math.sqrt(num_positions))
    if side * side != num_positions:
        raise FdrbenchError(f"DINOv2 has {num_positions} position embeddings, not a square grid")
    dim = embeddings.shape[-1]
    grid = patch_pos.reshape(1, side, side, dim).permute(0, 3, 1, 2)
    scale = ((h0 + DINO_INTERPOLATE_OFFSET) / side, (w0 + DINO_INTERPOLATE_OFFSET) / side)
    grid = F.interpolate(grid, scale_factor=scale, mode="bicubic", antialias=False)
    if tuple(grid.shape[-2:]) != (h0, w0):
        raise FdrbenchError(f"DINOv2 position interpolation gave {tuple(grid.shape[-2:])}, expected {(h0, w0)}")
    patch_pos = grid.permute(0, 2, 3, 1).reshape(1, h0 * w0, dim)
    return torch.cat((cls_pos, patch_pos), dim=1).to(self.position_embeddings.dtype)


def attention_weights(layer: nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    """Softmax attention probabilities [B, H, N, N] of one DINOv2 layer for its input ``hidden``."""
    normed = layer.norm1(hidden)
    attn = layer.attention
    if hasattr(attn, "q_proj"):
        q_lin, k_lin, heads = attn.q_proj, attn.k_proj, attn.num_attention_heads
    elif hasattr(attn, "attention") and hasattr(attn.attention, "query"):
        q_lin, k_lin, heads = attn.attention.query, attn.attention.key, attn.attention.num_attention_heads
    else:
        raise FdrbenchError("unrecognised Dinov2 attention layout in this transformers version (no q_proj or attention.query)")
    b, n, d = normed.shape
    head_dim = d // heads
    q = q_lin(normed).view(b, n, heads, head_dim).transpose(1, 2)
    k = k_lin(normed).view(b, n, heads, head_dim).transpose(1, 2)
    scores = torch.matmul(q.float(), k.float().transpose(-2, -1)) * head_dim**-0.5
    return scores.softmax(dim=-1).to(hidden.dtype)


def dino_layers(dino: nn.Module) -> nn.ModuleList:
    return dino.encoder.layer


class DualVisionEncoder(nn.Module):
    """CLIP ViT + DINOv2 ViT, frozen; returns patch features of both and DINOv2's last attention map."""

    def __init__(self, config: FakeReasoningConfig, attn_implementation: str | None = "sdpa"):
        super().__init__()
        from transformers import CLIPVisionModel, Dinov2Model

        self.select_layer = config.clip_select_layer
        self.clip = CLIPVisionModel(config.clip_config(attn_implementation))
        self.dino = Dinov2Model(config.dino_config(attn_implementation))
        if config.dino_pos_interpolation == "original":
            self.dino.embeddings.interpolate_pos_encoding = MethodType(original_dino_interpolation, self.dino.embeddings)
        self.requires_grad_(False)

    def forward(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            clip_out = self.clip(pixel_values=pixel_values.to(self.clip.dtype), output_hidden_states=True)
            clip_tokens = clip_out.hidden_states[self.select_layer][:, 1:]
            dino_out = self.dino(pixel_values=pixel_values.to(self.dino.dtype), output_hidden_states=True)
            dino_tokens = dino_out.hidden_states[-1][:, 1:]
            dino_attention = attention_weights(dino_layers(self.dino)[-1], dino_out.hidden_states[-2])
        if clip_tokens.shape[1] != dino_tokens.shape[1]:
            raise FdrbenchError(f"CLIP gives {clip_tokens.shape[1]} patch tokens but DINOv2 {dino_tokens.shape[1]}; FAFF pairs them")
        return clip_tokens, dino_tokens, dino_attention
