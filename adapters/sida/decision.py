"""How SIDA turns last-layer hidden states into a class, its probabilities and mask prompts.

Facts from the authors' ``model_forward`` / ``evaluate`` (LISA's indexing):

- A head reads the hidden state of the token *before* its special token, the one that predicts
  it: for ``[CLS]`` that is the last prompt token (``ASSISTANT:``), so the class depends on the
  image and the question only, never on the answer that follows. Positions after the image
  shift by ``P - 1`` because one ``<image>`` placeholder stands for ``P`` patch features.
- The class is ``argmax`` of ``cls_head`` at the **last** ``[CLS]`` (0 real, 1 full synthetic,
  2 tampered); its softmax gives the three class probabilities.
- Only for a tampered image are masks made: each ``[SEG]`` embedding (``seg_projection``) is
  enriched by attention whose query is the projected cls logits of the **first** ``[CLS]``
  (``cls_projection``); keys and values are all ``[SEG]`` embeddings of the sequence; the
  attention output is added to every ``[SEG]`` embedding. Each result prompts SAM's decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fdrbench.adapters.sida.config import CLASS_NAMES, IMAGE_TOKEN_INDEX


def predictor_positions(input_ids: torch.Tensor, token_id: int, n_patches: int) -> torch.Tensor:
    """Hidden-state positions (in the image-expanded sequence) of the tokens just before each ``token_id``.

    ``input_ids`` is one row of token ids with the ``<image>`` placeholder. Position 0 (BOS)
    never counts, as in the authors' ``input_ids[:, 1:]`` indexing.
    """
    found = torch.nonzero(input_ids == token_id).flatten()
    before = found[found >= 1] - 1
    image_at = torch.nonzero(input_ids == IMAGE_TOKEN_INDEX).flatten()
    if image_at.numel():
        before = torch.where(before >= image_at[0], before + n_patches - 1, before)
    return before


@dataclass
class Readout:
    """The heads' view of one sequence."""

    cls_logits: torch.Tensor | None  # (n_cls, 3): one row per [CLS]
    seg_positions: torch.Tensor  # hidden positions read for [SEG]

    @property
    def has_class(self) -> bool:
        return self.cls_logits is not None and len(self.cls_logits) > 0

    @property
    def decision_logits(self) -> torch.Tensor:
        """The logits that decide the class: those of the last ``[CLS]``."""
        return self.cls_logits[-1]

    @property
    def probs(self) -> list[float]:
        """Softmax in double precision, so a confident verdict keeps a non-zero p_fake for ranking."""
        return torch.softmax(self.decision_logits.double(), dim=-1).tolist()

    @property
    def p_fake(self) -> float:
        """1 - p(real), summed from the two fake classes so it does not round to 0 near certainty."""
        probs = self.probs
        return probs[1] + probs[2]

    @property
    def class_index(self) -> int:
        return int(torch.argmax(self.decision_logits).item())

    @property
    def class_name(self) -> str:
        return CLASS_NAMES[self.class_index]

    def class_probs(self) -> dict[str, float]:
        return dict(zip(CLASS_NAMES, self.probs, strict=True))


def read_classes(model, hidden: torch.Tensor, input_ids: torch.Tensor, cls_id: int, seg_id: int) -> Readout:
    """Class logits at every ``[CLS]`` of one sequence; ``hidden`` is (L', H), ``input_ids`` (L,)."""
    n_patches = model.config.n_patches
    cls_at = predictor_positions(input_ids, cls_id, n_patches)
    seg_at = predictor_positions(input_ids, seg_id, n_patches)
    logits = model.cls_head(hidden[cls_at]) if cls_at.numel() else None
    return Readout(cls_logits=logits, seg_positions=seg_at)


def mask_prompts(model, hidden: torch.Tensor, readout: Readout) -> torch.Tensor:
    """(n_seg, out_dim) SAM prompts: every ``[SEG]`` embedding plus the class-guided attention output."""
    seg = model.seg_projection(hidden[readout.seg_positions])
    query = model.cls_projection(readout.cls_logits[0])[None]
    attended, _ = model.cls_seg_attention(query, seg, seg, need_weights=False)
    return seg + attended
