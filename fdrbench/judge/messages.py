"""The judge's conversation for one sample, built from the rubric and the sample's stored truth.

What the judge is shown comes from the run folder (the explanation and the ground truth stored
beside it) plus, when the rubric uses it, the image (and crops of annotated regions) read
through the task's own loader. Annotations are read from ``truth.reference``:

- ``parts["global"]``: a string, or a list of strings or ``{"desc": ...}`` objects; else ``text``;
- ``parts["regions"]`` (or ``parts["regional"]``): a list of ``{"box"|"region": [x, y, w, h],
  "desc"|"text"|"description": ...}`` in pixels, as benchmarks with regional notes release them;
- ``text`` / ``texts``: the reference explanation(s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fdrbench.backends.images import crop_box, png_data_url
from fdrbench.judge.rubric import Rubric
from fdrbench.record import Truth
from fdrbench.types import Reference

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

VERDICT_WORDS = {"real": "authentic (real)", "full_synthetic": "fully AI-generated", "tampered": "tampered (partly edited)"}


@dataclass(frozen=True)
class Region:
    box: list[float] | None
    text: str


def _text_of(item: Any) -> str:
    if isinstance(item, str):
        return item.strip()
    if isinstance(item, dict):
        for key in ("desc", "text", "description"):
            if isinstance(item.get(key), str):
                return item[key].strip()
    return ""


def global_note(reference: Reference) -> str:
    parts = reference.parts
    value = parts.get("global")
    items = value if isinstance(value, list) else [value]
    text = "\n".join(t for t in (_text_of(i) for i in items) if t)
    return text or (reference.text or "").strip()


def regions(reference: Reference) -> list[Region]:
    parts = reference.parts
    raw = parts.get("regions") if parts.get("regions") is not None else parts.get("regional")
    out = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        box = item.get("box") if item.get("box") is not None else item.get("region")
        valid = isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)
        text = _text_of(item)
        if text or valid:
            out.append(Region([float(v) for v in box] if valid else None, text))
    return out


def references(reference: Reference) -> list[str]:
    texts = [t.strip() for t in reference.texts if t.strip()]
    if not texts and reference.text and reference.text.strip():
        texts = [reference.text.strip()]
    return texts


def applicable(rubric: Rubric, truth: Truth) -> str | None:
    """None when the rubric can grade this sample, else why it cannot."""
    reference = truth.reference
    if rubric.uses.get("annotations") and not (global_note(reference) or regions(reference)):
        return "the sample has no global or regional annotation"
    if rubric.uses.get("reference") and not references(reference):
        return "the sample has no reference explanation"
    return None


def _verdict_line(truth: Truth) -> str:
    if truth.cls in VERDICT_WORDS:
        return VERDICT_WORDS[truth.cls]
    return "authentic (real)" if truth.label == 0 else "AI-generated or manipulated (fake)"


def criteria_text(rubric: Rubric) -> str:
    blocks = []
    for number, criterion in enumerate(rubric.criteria, start=1):
        levels = "\n".join(f"  {score}: {text}" for score, text in sorted(criterion.levels.items(), key=lambda kv: int(kv[0])))
        blocks.append(
            f'{number}. {criterion.title} (key "{criterion.key}", {rubric.minimum}-{rubric.maximum}): {criterion.question}\n{levels}'
        )
    return "\n\n".join(blocks)


def build_messages(rubric: Rubric, explanation: str, truth: Truth, image: Image.Image | None, image_max_side: int | None) -> list[dict]:
    """System and user messages asking the judge to grade ``explanation`` by ``rubric``."""
    reference = truth.reference
    content: list[dict[str, Any]] = [{"type": "text", "text": f"{rubric.task}\n\nCriteria:\n\n{criteria_text(rubric)}"}]
    if rubric.uses.get("image"):
        if image is not None:
            content += [
                {"type": "text", "text": "The image:"},
                {"type": "image_url", "image_url": {"url": png_data_url(image, image_max_side)}},
            ]
        else:
            content.append({"type": "text", "text": "(The image is not available; grade from the text.)"})
    if rubric.uses.get("truth"):
        content.append({"type": "text", "text": f"Ground truth: the image is {_verdict_line(truth)}."})
    if rubric.uses.get("reference"):
        texts = references(reference)
        lines = (
            [f"Reference explanation {i}:\n{t}" for i, t in enumerate(texts, start=1)]
            if len(texts) > 1
            else [f"Reference explanation:\n{texts[0]}"]
        )
        content.append({"type": "text", "text": "\n\n".join(lines)})
    if rubric.uses.get("annotations"):
        content.append({"type": "text", "text": f"Global note:\n{global_note(reference) or '(none)'}"})
        for number, region in enumerate(regions(reference), start=1):
            box = f"box {[round(v, 1) for v in region.box]}" if region.box else "no box"
            content.append({"type": "text", "text": f"Regional note {number} ({box}): {region.text or '(no text)'}"})
            box_px = crop_box(image.size, region.box) if image is not None and region.box and rubric.uses.get("region_crops") else None
            if box_px is not None:
                content.append({"type": "image_url", "image_url": {"url": png_data_url(image.crop(box_px), image_max_side)}})
    content.append(
        {"type": "text", "text": f"The assistant's explanation, between the markers:\n<<<\n{explanation}\n>>>\n\n{rubric.answer_format}"}
    )
    return [{"role": "system", "content": rubric.system}, {"role": "user", "content": content}]


def correction(problem: str, rubric: Rubric) -> str:
    """What the judge is told after an unusable answer."""
    return f"Your reply could not be used: {problem}. Reply again with only the JSON object, every score an integer from {rubric.minimum} to {rubric.maximum}. {rubric.answer_format}"
