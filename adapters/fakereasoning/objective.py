"""The training objective (paper eq. 11): ``L = L_LM + L_CE`` (CPM cross-entropy, 1:1), plus v1's FACL
when its weight is not zero."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from fdrbench.adapters.fakereasoning.config import IGNORE_INDEX
from fdrbench.adapters.fakereasoning.cpm import CPMIds, cpm_loss
from fdrbench.adapters.fakereasoning.facl import facl_loss


@dataclass(frozen=True)
class LossWeights:
    lm: float = 1.0
    cpm: float = 1.0
    facl: float = 0.0
    facl_temperature: float = 0.07
    tau: float = 10.0


def lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy over the supervised positions (0, not NaN, when there are none)."""
    shift_logits = logits[:, :-1].reshape(-1, logits.shape[-1]).float()
    shift_labels = labels[:, 1:].reshape(-1)
    total = F.cross_entropy(shift_logits, shift_labels, ignore_index=IGNORE_INDEX, reduction="sum")
    count = (shift_labels != IGNORE_INDEX).sum()
    return total / count.clamp(min=1)


def shift_spans(spans: list[tuple[int, int] | None], image_spans: list[tuple[int, int]]) -> list[tuple[int, int] | None]:
    """Token spans of ``input_ids`` (one placeholder per image) -> positions after the image tokens are spliced in."""
    out = []
    for span, (img_start, img_stop) in zip(spans, image_spans, strict=True):
        if span is None:
            out.append(None)
            continue
        extra = img_stop - img_start - 1
        out.append(tuple(p + extra if p > img_start else p for p in span))
    return out


def training_loss(model, batch: dict, ids: CPMIds, weights: LossWeights) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss of one micro-batch and its parts (for logging)."""
    want_hidden = weights.facl > 0
    out, spliced, features, hidden = model(batch["input_ids"], batch["pixel_values"], batch["labels"], output_final_hidden=want_hidden)
    logits = out.logits
    lm = lm_loss(logits, spliced.labels)
    cpm, found = cpm_loss(logits, batch["forgery_labels"], ids, weights.tau)
    total = weights.lm * lm + weights.cpm * cpm
    parts = {"lm": float(lm.detach()), "cpm": float(cpm.detach()), "cpm_found": float(found.float().mean())}
    if want_hidden:
        spans = shift_spans(batch["reasoning_spans"], spliced.image_spans)
        facl = facl_loss(features, hidden, spans, batch["forgery_labels"], weights.facl_temperature)
        total = total + weights.facl * facl
        parts["facl"] = float(facl.detach())
    parts["loss"] = float(total.detach())
    return total, parts
