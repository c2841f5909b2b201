"""Classification Probability Mapper (paper eqs. 7-9): calibrated binary probabilities from LM logits.

Find the first place where the ids spell the pattern ``"<CONCLUSION> This image is"``; the logits at
``k = start + len(pattern)`` predict the word after "is". The pattern is the part of that text whose
tokens do not depend on what precedes it: for LLaMA the authors' 8 ids ``CON CL US ION > ▁This ▁image
▁is``, without the ``<`` that is ``▁<`` after a space but ``<`` after a newline. ``[z_real, z_fake] / tau`` (tau = 10) through a
softmax give ``p_fake``; in training, the cross-entropy against the label, with weight 0 for samples whose
ids lack the pattern, averaged as ``sum / (sum of weights + 1e-6)``.

During training the ids are the argmax of the teacher-forced logits (as released); at inference they
are the generated ids and the logits are the ones each generated token was drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from fdrbench.adapters.fakereasoning.config import RELEASED_FAKE_ID, RELEASED_PATTERN_IDS, RELEASED_REAL_ID, FakeReasoningConfig
from fdrbench.errors import FdrbenchError

WEIGHT_EPS = 1e-6


@dataclass(frozen=True)
class CPMIds:
    pattern: tuple[int, ...]
    real_id: int
    fake_id: int

    def matches_released(self) -> bool:
        """True when these are the ids the released training code hard-codes (LLaMA vocabulary)."""
        return self.pattern == RELEASED_PATTERN_IDS and (self.real_id, self.fake_id) == (RELEASED_REAL_ID, RELEASED_FAKE_ID)

    def to_dict(self) -> dict:
        return {"pattern": list(self.pattern), "real_id": self.real_id, "fake_id": self.fake_id}


#: what generated text may put before the pattern's first character
PATTERN_CONTEXTS = ("", " ", "\n", "x\n", ". ", "> ")


def context_free_ids(tokenizer, text: str) -> tuple[int, ...]:
    """The longest tail of ``text``'s ids that is the same whatever precedes the text.

    A tokenizer spells the first character of a text differently after a space, a newline or
    nothing (LLaMA: ``▁<`` / ``<``), so only the ids that follow it identify the text wherever
    it occurs. Encoding it after each of :data:`PATTERN_CONTEXTS` and keeping the common tail
    gives, for LLaMA, the 8 ids the released training code hard-codes.
    """
    variants = [list(tokenizer(prefix + text, add_special_tokens=False).input_ids) for prefix in PATTERN_CONTEXTS]
    shortest = min(len(v) for v in variants)
    n = 0
    while n < shortest and len({v[-1 - n] for v in variants}) == 1:
        n += 1
    return tuple(variants[0][len(variants[0]) - n :])


def cpm_ids(tokenizer, config: FakeReasoningConfig) -> CPMIds:
    """The pattern and verdict ids from the model's own tokenizer (never hard-coded)."""
    pattern = context_free_ids(tokenizer, config.cpm_text)
    if not pattern:
        raise FdrbenchError(f"the tokenizer spells every token of the CPM pattern {config.cpm_text!r} differently by context")
    ids = []
    for word in (config.real_word, config.fake_word):
        pieces = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(word))
        if len(pieces) != 1:
            raise FdrbenchError(f"CPM needs {word!r} to be one token, the tokenizer makes {len(pieces)}: {pieces}")
        ids.append(int(pieces[0]))
    return CPMIds(pattern, ids[0], ids[1])


def find_positions(ids: torch.Tensor, pattern: tuple[int, ...]) -> torch.Tensor:
    """For each row of ``ids`` [B, L], ``start + len(pattern)`` of the first match, or -1."""
    length = len(pattern)
    batch, width = ids.shape
    if width < length:
        return torch.full((batch,), -1, dtype=torch.long, device=ids.device)
    windows = ids.unfold(1, length, 1)
    target = torch.tensor(pattern, dtype=ids.dtype, device=ids.device)
    hits = (windows == target).all(dim=-1)
    first = hits.to(torch.int8).argmax(dim=1)
    found = hits.any(dim=1)
    return torch.where(found, first + length, torch.full_like(first, -1))


def binary_logits(logits: torch.Tensor, positions: torch.Tensor, ids: CPMIds, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``[z_real, z_fake] / tau`` at each row's position [B, 2], and which rows have a usable position."""
    valid = (positions >= 0) & (positions < logits.shape[1])
    safe = positions.clamp(min=0, max=logits.shape[1] - 1)
    rows = torch.arange(logits.shape[0], device=logits.device)
    picked = logits[rows, safe][:, [ids.real_id, ids.fake_id]]
    return picked.float() / tau, valid


def cpm_loss(logits: torch.Tensor, labels: torch.Tensor, ids: CPMIds, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted CE of the binary logits against ``labels`` (fake = 1); returns (loss, found mask)."""
    positions = find_positions(logits.argmax(dim=-1), ids.pattern)
    pair, valid = binary_logits(logits, positions, ids, tau)
    per_sample = F.cross_entropy(pair, labels.to(pair.device).long(), reduction="none")
    weights = valid.float()
    return (per_sample * weights).sum() / (weights.sum() + WEIGHT_EPS), valid


def p_fake_from_generation(sequences: torch.Tensor, step_logits: torch.Tensor, ids: CPMIds, tau: float) -> tuple[list, list]:
    """``p_fake`` per row from generated ids [B, T] and the logits of each step [B, T, V]; None where
    the generated text never states the pattern. Also returns the step index used (or None)."""
    positions = find_positions(sequences, ids.pattern)
    pair, valid = binary_logits(step_logits, positions, ids, tau)
    probs = pair.softmax(dim=-1)[:, 1]
    p_values = [float(p) if ok else None for p, ok in zip(probs.tolist(), valid.tolist(), strict=True)]
    where = [int(k) if ok else None for k, ok in zip(positions.tolist(), valid.tolist(), strict=True)]
    return p_values, where
