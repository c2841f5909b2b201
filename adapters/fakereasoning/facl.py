"""Forgery-Aligned Contrastive Learning, v1's second loss, as an optional reconstruction.

Only the v1 abstract describes FACL: "cross-modal and intra-modal contrastive learning between images and
forgery attribute reasoning". No code or formula was published and v3 dropped it, so this module
reconstructs it from that sentence; it is off by default (``facl_weight=0``) and its numbers are not the
paper's:

* image feature: the mean of the fused visual tokens (FAFF output), L2-normalised;
* reasoning feature: the mean of the language model's final (normalised) hidden states over the tokens
  of the answer's ``<REASONING>`` text, L2-normalised;
* cross-modal term: symmetric InfoNCE between each image and its own reasoning in the batch (CLIP-style);
* intra-modal term: supervised contrastive loss (Khosla et al., 2020) over the image features with the
  real/fake label, pulling same-label images together.

The FACL loss is the sum of the two terms, each at temperature ``temperature``.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def pooled_reasoning(hidden: torch.Tensor, spans: list[tuple[int, int] | None]) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean hidden state over each row's span [B, H] and which rows have a non-empty span."""
    out = hidden.new_zeros((hidden.shape[0], hidden.shape[-1]))
    valid = torch.zeros(hidden.shape[0], dtype=torch.bool, device=hidden.device)
    for row, span in enumerate(spans):
        if span is None:
            continue
        start, stop = max(0, span[0]), min(hidden.shape[1], span[1])
        if stop > start:
            out[row] = hidden[row, start:stop].mean(dim=0)
            valid[row] = True
    return out, valid


def cross_modal(images: torch.Tensor, texts: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE: image i matches text i among the batch's texts, and the reverse."""
    images, texts = F.normalize(images.float(), dim=-1), F.normalize(texts.float(), dim=-1)
    logits = images @ texts.T / temperature
    target = torch.arange(images.shape[0], device=images.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def supervised_contrastive(features: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """SupCon: for each anchor with at least one same-label partner, the mean log-probability of its
    partners among all other samples; averaged over such anchors (0 when there is none)."""
    features = F.normalize(features.float(), dim=-1)
    n = features.shape[0]
    sim = features @ features.T / temperature
    self_mask = torch.eye(n, dtype=torch.bool, device=features.device)
    sim = sim.masked_fill(self_mask, float("-inf"))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    positives = (labels[:, None] == labels[None, :]) & ~self_mask
    counts = positives.sum(dim=1)
    anchors = counts > 0
    if not anchors.any():
        return features.sum() * 0.0
    per_anchor = -(log_prob.masked_fill(~positives, 0.0)).sum(dim=1)[anchors] / counts[anchors]
    return per_anchor.mean()


def facl_loss(
    image_tokens: torch.Tensor,
    final_hidden: torch.Tensor,
    reasoning_spans: list[tuple[int, int] | None],
    labels: torch.Tensor,
    temperature: float = 0.07,
) -> torch.Tensor:
    """Cross-modal + intra-modal contrastive loss over the batch (rows without reasoning text are left
    out of the cross-modal term)."""
    images = image_tokens.mean(dim=1)
    texts, valid = pooled_reasoning(final_hidden, reasoning_spans)
    intra = supervised_contrastive(images, labels.to(images.device), temperature)
    if int(valid.sum()) < 2:
        return intra
    return cross_modal(images[valid], texts[valid], temperature) + intra
