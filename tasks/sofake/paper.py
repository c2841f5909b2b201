"""So-Fake's evaluation: So-Fake-R1's answer format and the scoring protocol of its paper.

``SoFakeOOD.parse_answer`` and the ``paper`` protocol read answers with :func:`sofake_answer`.
"""

from __future__ import annotations

import re

from fdrbench.protocols import THREE_WAY_METRICS, Protocol
from fdrbench.verdicts import class_reparse

_SOFAKE = re.compile(
    r"<answer>\s*(REAL|TAMPERED|FULL_SYNTHETIC)\s*(?:,\s*\((\d+(?:\.\d+)?),\s*(\d+(?:\.\d+)?)\)\s*,\s*\((\d+(?:\.\d+)?),\s*(\d+(?:\.\d+)?)\))?\s*\.?\s*</answer>",
    re.I,
)


def sofake_answer(text: str | None) -> tuple[str | None, tuple[float, float, float, float] | None]:
    """So-Fake-R1's ``<answer>CLASS[,(x1,y1),(x2,y2)]</answer>``: the class and the box, if any."""
    match = _SOFAKE.search(text or "")
    if not match:
        return None, None
    cls = match.group(1).lower()
    box = tuple(float(v) for v in match.groups()[1:]) if match.group(2) is not None else None
    return cls, box


SOFAKE_DESCRIPTION = (
    "So-Fake's evaluation: class from <answer>CLASS[,(x1,y1),(x2,y2)]</answer>, detection accuracy and F1, "
    "per-class figures and macro F1, localization F1 and both IoU variants (the paper leaves per-image vs "
    "cumulative open), ROUGE-L and CSS of the explanation (encoder in the options). Unparsed outputs are wrong."
)


def sofake_paper(mask_size: int | None = None, css_encoder: str = "minilm", css_model: str | None = None) -> Protocol:
    """So-Fake paper protocol (So-Fake-R1's answer format)."""
    return Protocol(
        "paper",
        SOFAKE_DESCRIPTION,
        metrics=("accuracy", "f1", *THREE_WAY_METRICS, "rouge_l", "css"),
        reparse=class_reparse(lambda text: sofake_answer(text)[0], "sofake_answer"),
        options={"mask_size": mask_size, "rouge_stemmer": True, "css_encoder": css_encoder, "css_model": css_model},
    )
