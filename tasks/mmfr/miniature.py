"""A miniature MMFR release, as the joined archive extracts: two evaluation sets and the training files.

The quirks kept: real entries carry an extra, non-canonical attribute key (GPT's, kept by the
release), most attributes are null, an image on disk has no reasoning entry (dropped in review),
and the training CoT answers are tagged LLaVA conversations.
"""

from __future__ import annotations

from pathlib import Path

from fdrbench.tasks.common.miniature import COLOURS, write_image, write_json
from fdrbench.tasks.mmfr.loader import AUTHENTIC_ATTRIBUTES, FORGERY_ATTRIBUTES
from fdrbench.tasks.mmfr.task import PROMPT


def fake_attributes(i: int) -> dict:
    attrs = {key: None for key in FORGERY_ATTRIBUTES}
    attrs["Semantic Irrationality"] = f"The hands of figure {i} have six fingers."
    attrs["Anomalous Image Texture"] = f"The skin of figure {i} is waxy."
    return attrs


def real_attributes(i: int) -> dict:
    attrs = {key: None for key in AUTHENTIC_ATTRIBUTES}
    attrs["Consistent Lighting and Shadows"] = f"Shadows in scene {i} fall one way."
    attrs["High Image Quality"] = f"Scene {i} is sharp."
    attrs["Natural Color Distribution"] = "Colours are natural."  # the release keeps GPT's extra real keys
    return attrs


def cot_record(path: str, verdict: str, i: int) -> dict:
    """One training conversation in the release's LLaVA format, its answer in the four tags."""
    answer = (
        "<SUMMARY> I will look. </SUMMARY> <CAPTION> A scene. </CAPTION> "
        f"<REASONING> From low-level perspective: cue {i}. From high-level perspective: none. </REASONING> "
        f"<CONCLUSION> This image is {verdict}. </CONCLUSION>"
    )
    return {"image": path, "conversations": [{"from": "human", "value": "<image>\n" + PROMPT}, {"from": "gpt", "value": answer}]}


def build(root: Path, sets=("stablediffusion", "gigagan"), per_label: int = 2) -> Path:
    """``root/dataset/...``: ``per_label`` real and fake images per set, one unannotated image per set,
    two training images of each label with their reasoning entries and CoT conversations."""
    base = root / "dataset"
    for s, set_name in enumerate(sets):
        reasoning = {}
        for i in range(per_label):
            fake = f"{set_name}/1_fake/{i:06d}.png"
            real = f"{set_name}/0_real/{i:06d}.jpg"
            write_image(base / "evaluation_sets" / fake, COLOURS[(s + i) % 6])
            write_image(base / "evaluation_sets" / real, COLOURS[(s + i + 3) % 6])
            reasoning[fake] = fake_attributes(i)
            reasoning[real] = real_attributes(i)
        # an image whose annotation was dropped in review: on disk, not in the reasoning file
        write_image(base / "evaluation_sets" / set_name / "1_fake" / "dropped.png")
        write_json(base / "evaluation_sets" / set_name / f"{set_name}_reasoning.json", reasoning)
    cot = []
    fake_reasoning, real_reasoning = {}, {}
    for i in range(2):
        fake = f"diffusiondb/part-000001/0a3c75bb-4bd0-47c8-a2ba-e2aee92ad4{i:02d}.png"
        real = f"laion/00000/{i:09d}.jpg"
        write_image(base / fake, COLOURS[i])
        write_image(base / real, COLOURS[i + 2])
        fake_reasoning[fake] = fake_attributes(i)
        real_reasoning[real] = real_attributes(i)
        cot += [cot_record(fake, "fake", i), cot_record(real, "real", i)]
    write_json(base / "diffusiondb" / "diffusiondb_reasoning.json", fake_reasoning)
    write_json(base / "laion" / "laion_reasoning.json", real_reasoning)
    write_json(base / "forgery_reasoning_cot.json", cot)
    return root
