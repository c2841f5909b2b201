"""DeepfakeJudge's benchmark tasks: ``dfj_detect`` (2,000 images: 1,000 real, 500 text-to-image, 500 edits)
and ``dfj_reason`` (924 images; fakes with human-grounded rationales, boxes and artifact flags).

The reasoning split's field names are not documented: the rationale is the first non-empty text of
``reference_field`` (default ``auto``: ``gold_reasoning``, ``reasoning``, ``rationale``,
``explanation``, ``description``, else the ``<reasoning>`` part, or the whole text without its
``<answer>``, of the last assistant turn of ``messages``); boxes, flags and referring expressions
are kept in the reference parts under the names the file uses. A fake with no rationale found is an
error naming the record and the keys it has.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from fdrbench.errors import DataError
from fdrbench.protocols import Protocol
from fdrbench.tasks.common.loading import DatasetTask, relative_to
from fdrbench.tasks.dfj import loader, paper
from fdrbench.types import FAKE, Reference, Sample

#: the answer format the DeepfakeJudge judges read; the paper's detection prompt is not released
PROMPT = (
    "Is this image real or fake (AI-generated or AI-edited)? Explain the evidence you see, then answer in the format "
    "<reasoning>your reasoning</reasoning><answer>real or fake</answer>."
)
REFERENCE_FIELDS = ("gold_reasoning", "reasoning", "rationale", "explanation", "description")
PART_FIELDS = (
    "bboxes",
    "boxes",
    "bbox",
    "regions",
    "flags",
    "artifact_flags",
    "artifact_categories",
    "categories",
    "referring_expressions",
)
_REASONING = re.compile(r"<reasoning>\s*(.*?)\s*</reasoning>", re.S | re.I)
_ANSWER_BLOCK = re.compile(r"<answer>.*?</answer>", re.S | re.I)


def rationale(item: dict, field: str) -> str | None:
    """The gold rationale of a record, from ``field`` or (``auto``) the first field that holds one."""
    if field not in ("auto", "messages"):
        value = item.get(field)
        return value.strip() if isinstance(value, str) and value.strip() else None
    if field == "auto":
        found = next((item[k].strip() for k in REFERENCE_FIELDS if isinstance(item.get(k), str) and item[k].strip()), None)
        if found:
            return found
    text = loader.assistant_text(item)
    if not text:
        return None
    tagged = _REASONING.search(text)
    body = tagged.group(1) if tagged else _ANSWER_BLOCK.sub("", text)
    return body.strip() or None


class DfjDetect(DatasetTask):
    """DeepfakeJudge-Detect: real, text-to-image and edited images; F1 per class as the paper reports."""

    name = "dfj_detect"
    version = "1"
    description = "DeepfakeJudge-Detect: 2,000 images (1,000 real OpenImages, 500 text-to-image, 500 edits of modern commercial models)"
    prompt = PROMPT
    group_keys = ("class", "generator")
    download_hint = loader.DOWNLOAD_HINT
    extra_options = {"label_field": "auto", "generator_field": "auto"}
    split_name = "detect"

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: accuracy and both classes' F1, the answer tag read where present."""
        return {**super().protocols(), "paper": paper.detect_protocol()}

    def parse_answer(self, text: str | None, sample: Sample) -> int | None:
        """``<answer>real|fake|edited</answer>``, else the generic reading."""
        return paper.parse(text)

    def samples(self, data_dir: Path, split: str) -> Iterator[Sample]:
        folder = loader.split_folder(data_dir, self.split_name)
        found = list(loader.records(folder, self.option("label_field"), self.option("generator_field")))
        has_edits = any(r.word in loader.EDITED for r in found)
        if not has_edits:
            self.report.add("edits_not_told_apart", "the labels are real/fake only: the class group cannot split text-to-image from edits")
        for entry in found:
            if not self.context.image_present(entry.image, entry.record, folder / "data.jsonl"):
                continue
            yield self.sample(entry, folder, data_dir, loader.class_of(entry.word, has_edits))

    def sample(self, entry: loader.DfjRecord, folder: Path, data_dir: Path, cls: str) -> Sample:
        group = {"class": cls, **({"generator": entry.generator} if entry.generator else {})}
        return Sample(
            id=entry.relative,
            label=loader.VALUES[entry.word],
            image=entry.image,
            image_ref=relative_to(entry.image, data_dir),
            group=group,
            meta={"dfj_label": entry.word},
        )


class DfjReason(DfjDetect):
    """DeepfakeJudge-Reason: 500 real and 424 fake images; the fakes carry human-grounded rationales."""

    name = "dfj_reason"
    description = "DeepfakeJudge-Reason: 924 images (500 real, 424 fake) with gold rationales, boxes and artifact flags on the fakes"
    has_reference_text = True
    extra_options = {**DfjDetect.extra_options, "reference_field": "auto"}
    split_name = "reason"

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: BLEU-3 and BERTScore against the gold rationale (and the judge's score once judged)."""
        return {**DatasetTask.protocols(self), "paper": paper.reason_protocol()}

    def sample(self, entry: loader.DfjRecord, folder: Path, data_dir: Path, cls: str) -> Sample:
        sample = super().sample(entry, folder, data_dir, cls)
        text = rationale(entry.item, self.option("reference_field"))
        if text is None and sample.label == FAKE:
            raise DataError(
                f"no rationale found for a fake image (the record has {sorted(entry.item)}); "
                "name the field with --task-arg reference_field=<key> (or messages)",
                path=folder / "data.jsonl",
                record=entry.record,
            )
        parts = {k: entry.item[k] for k in PART_FIELDS if k in entry.item}
        sample.reference = Reference(text=text, parts=parts)
        return sample
