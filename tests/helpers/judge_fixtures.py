"""A task whose fake images carry global and regional annotations (LOKI's open-ended layout), a
detector that writes explanations, and a judge that answers like a chat model would.

Loaded the way users load their own classes: ``path/to/judge_fixtures.py:Class``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from PIL import Image

from fdrbench.detector import Detector
from fdrbench.task import Task
from fdrbench.types import Prediction, Reference, Sample

EXPLANATIONS = {
    "a0": "The left hand has six fingers and the shadow falls the wrong way.",
    "a1": "The text on the sign is garbled.",
    "a2": "",  # no explanation: graded at the rubric minimum without a call
    "a3": "FAIL",  # the detector fails on this sample
    "r0": "The photo looks natural.",  # a real image without annotations: the rubric does not apply
}


def make_images(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index, sid in enumerate(EXPLANATIONS):
        Image.new("RGB", (64, 48), (30 * index, 120, 200)).save(folder / f"{sid}.png")


class AnnotatedTask(Task):
    prompt = "Why is this image AI-generated?"

    def judge_rubric(self, references):
        """Samples with global and regional notes are graded with the annotation rubric."""
        return "loki_explanation" if any(ref.parts.get("regional") for ref in references) else None

    def samples(self, data_dir: Path, split: str):
        for sid in EXPLANATIONS:
            fake = sid.startswith("a")
            parts = {}
            if fake:
                parts = {
                    "global": [{"desc": "Lighting is inconsistent across the scene."}],
                    "regional": [
                        {"region": [4, 4, 20, 16], "desc": "The hand has six fingers."},
                        {"region": [30, 20, 30, 20], "desc": "The sign text is garbled."},
                        {"region": [100, 100, 5, 5], "desc": "A box outside the image."},
                    ],
                }
            yield Sample(id=sid, label=int(fake), image=data_dir / f"{sid}.png", image_ref=f"{sid}.png", reference=Reference(parts=parts))


class ExplainingDetector(Detector):
    name = "explainer"
    uses_device = False

    def predict(self, batch):
        out = []
        for sample in batch:
            text = EXPLANATIONS[sample.id]
            if text == "FAIL":
                raise RuntimeError("detector failure")
            out.append(
                Prediction(
                    sample_id=sample.id, label=sample.label, p_fake=0.9 if sample.label else 0.1, explanation=text or None, raw_output=text
                )
            )
        return out


def explanation_in(body: dict) -> str:
    """The explanation the judge was asked to grade (between the <<< >>> markers)."""
    texts = [part["text"] for part in body["messages"][1]["content"] if part.get("type") == "text"]
    match = re.search(r"<<<\n(.*?)\n>>>", "\n".join(texts), re.S)
    return match.group(1) if match else ""


def images_in(body: dict) -> int:
    return sum(1 for m in body["messages"] if isinstance(m["content"], list) for p in m["content"] if p.get("type") == "image_url")


def scores_json(keys: tuple[str, ...], value: int) -> str:
    return json.dumps({key: {"score": value, "reason": f"graded {value}"} for key in keys})
