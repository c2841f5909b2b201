"""Forgery-Aware Feature Fusion (paper eqs. 3-6): CLIP tokens attend to DINOv2 tokens, steered by a bias
learnt from DINOv2's own last-layer attention map.

``B = MLP(log(M + 1e-6))`` with M the DINOv2 attention without its CLS row and column and the MLP two
1x1 convolutions over heads (H -> 32 -> H, GELU between); ``A = softmax(Q K^T / sqrt(d) + B)`` with Q from
the projected CLIP tokens and K, V from the projected DINOv2 tokens; then a post-norm residual block
(LayerNorm eps 1e-6) with a ReLU feed-forward of 4x width, dropout 0.1 throughout.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from fdrbench.adapters.fakereasoning.config import FakeReasoningConfig

LOG_EPS = 1e-6


class AttentionBias(nn.Module):
    """One additive attention bias per head from the DINOv2 attention map, by 1x1 convolutions over heads."""

    def __init__(self, heads: int, hidden: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.Conv2d(heads, hidden, kernel_size=1), nn.GELU(), nn.Conv2d(hidden, heads, kernel_size=1))

    def forward(self, attn_map: torch.Tensor) -> torch.Tensor:
        """``attn_map``: [B, H, 1+N, 1+N] softmax probabilities with CLS first -> bias [B, H, N, N]."""
        patches = attn_map[:, :, 1:, 1:]
        return self.mlp(torch.log(patches + LOG_EPS))


class BiasedCrossAttention(nn.Module):
    """Multi-head cross-attention whose scores get an additive per-head bias; dropout on the probabilities."""

    def __init__(self, hidden: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.q_proj = nn.Linear(hidden, hidden)
        self.k_proj = nn.Linear(hidden, hidden)
        self.v_proj = nn.Linear(hidden, hidden)
        self.out_proj = nn.Linear(hidden, hidden)
        self.dropout = dropout

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, query: torch.Tensor, context: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        q = self._split(self.q_proj(query))
        k = self._split(self.k_proj(context))
        v = self._split(self.v_proj(context))
        if bias is not None:
            bias = bias.to(q.dtype)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=self.dropout if self.training else 0.0)
        b, _, n, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, n, self.heads * self.head_dim))


class FeedForward(nn.Module):
    def __init__(self, hidden: int, ff_size: int, dropout: float):
        super().__init__()
        self.fc1 = nn.Linear(hidden, ff_size)
        self.fc2 = nn.Linear(ff_size, hidden)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


class FAFFLayer(nn.Module):
    """``F' = LN(F_C + Drop(MHAtt(F_C, F_D, B)))``, then ``F = LN(F' + Drop(FFN(F')))``."""

    def __init__(self, hidden: int, heads: int, ff_size: int, dropout: float, eps: float):
        super().__init__()
        self.attn = BiasedCrossAttention(hidden, heads, dropout)
        self.drop1 = nn.Dropout(dropout)
        self.norm1 = nn.LayerNorm(hidden, eps=eps)
        self.ffn = FeedForward(hidden, ff_size, dropout)
        self.drop2 = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(hidden, eps=eps)

    def forward(self, query: torch.Tensor, context: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        query = self.norm1(query + self.drop1(self.attn(query, context, bias)))
        return self.norm2(query + self.drop2(self.ffn(query)))


class FAFF(nn.Module):
    """The fusion module; its output (one token per CLIP patch) replaces ``<image>`` in the LLM input."""

    def __init__(self, config: FakeReasoningConfig):
        super().__init__()
        hidden = config.hidden_size
        self.bias_mlp = AttentionBias(config.faff_heads, config.faff_bias_hidden)
        self.layers = nn.ModuleList(
            FAFFLayer(hidden, config.faff_heads, config.ff_size, config.faff_dropout, config.faff_eps) for _ in range(config.faff_layers)
        )

    def forward(self, clip_tokens: torch.Tensor, dino_tokens: torch.Tensor, dino_attention: torch.Tensor | None) -> torch.Tensor:
        bias = self.bias_mlp(dino_attention.to(clip_tokens.dtype)) if dino_attention is not None else None
        out = clip_tokens
        for layer in self.layers:
            out = layer(out, dino_tokens, bias)
        return out
