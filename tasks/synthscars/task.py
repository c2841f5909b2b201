"""``synthscars``: LEGION's SynthScars, fully synthetic images with artifact masks, explanations and region texts.

The test split (1,000 images) is the default; ``--split train`` reads the 11,236 training entries
(a file name annotated twice gives ``<name>#2``). Reference (``reference``): ``caption`` (default,
the whole explanation) or ``regions`` (the regions' explanations joined, each also in
``Reference.texts``). The paper splits its localization table by content type (Human / Object /
Animal / Scene), in a field the release does not document: ``groups`` (default ``auto``: every
image-level text field beyond the documented ones, recorded with the run) names the fields scored
as groups, e.g. ``groups=content_type``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fdrbench.protocols import Protocol
from fdrbench.tasks.common.loading import DatasetTask, as_choice, expect, expect_str, relative_to
from fdrbench.tasks.synthscars import loader
from fdrbench.types import FAKE, Reference, Sample

#: LEGION's localization-and-explanation instruction (scripts/loc_exp/infer.py), verbatim
PROMPT = (
    "Please provide a detailed analysis of artifacts in this photo, considering physical artifacts (e.g., optical display issues, "
    "violations of physical laws, and spatial/perspective errors), structural artifacts (e.g., deformed objects, asymmetry, or "
    "distorted text), and distortion artifacts (e.g., color/texture distortion, noise/blur, artistic style errors, and material "
    "misrepresentation). Output with interleaved segmentation masks for the corresponding parts of the answer."
)
PAPER_DESCRIPTION = (
    "LEGION's tables on SynthScars: localization mIoU as the mean of foreground and background IoU (inferred from the "
    "published values: an empty prediction scores about 48, HiFi-Net 44-46 with F1 near 0) and pixel F1, per image "
    "(miou, pixel_f1) and summed over images (cmiou); the paper does not say which; explanation ROUGE-L and CSS "
    "(encoder not named: MiniLM) against the caption; every image is fake."
)


class SynthScars(DatasetTask):
    """SynthScars (LEGION): fully synthetic images with polygon artifact masks and explanations."""

    name = "synthscars"
    version = "1"
    description = "SynthScars (LEGION): 1,000 fully synthetic test images with artifact masks, explanations and region texts"
    prompt = PROMPT
    has_reference_text = True
    has_masks = True
    splits = ("test", "train")
    default_split = "test"
    download_hint = loader.DOWNLOAD_HINT
    headline_metrics = ("fake_accuracy", "miou", "pixel_f1", "giou", "rouge_l", "css", "failure_rate")
    extra_options = {"reference": "caption", "groups": "auto"}

    @property
    def group_keys(self) -> tuple[str, ...]:  # type: ignore[override]
        groups = self.options.get("groups", "auto")
        if isinstance(groups, str) and groups != "auto":
            return tuple(g.strip() for g in groups.split(",") if g.strip())
        return tuple(groups) if isinstance(groups, list) else ()

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: LEGION's mIoU (foreground and background), pixel F1, ROUGE-L and CSS."""
        paper = Protocol(
            "paper",
            PAPER_DESCRIPTION,
            metrics=("fake_accuracy", "miou", "cmiou", "pixel_f1", "giou", "ciou", "rouge_l", "css", "failure_rate"),
            options={"rouge_stemmer": True, "css_encoder": "minilm"},
        )
        return {**super().protocols(), "paper": paper}

    def samples(self, data_dir: Path, split: str) -> Iterator[Sample]:
        which = as_choice(self.option("reference"), "reference", ("caption", "regions"))
        base, path = loader.split_root(data_dir, split)
        samples = list(self.entries(base, split, path, which))
        if self.options.get("groups", "auto") == "auto":
            self.options["groups"] = sorted({k for s in samples for k in s.group})
        yield from samples

    def entries(self, base: Path, split: str, path: Path, which: str) -> Iterator[Sample]:
        seen: dict[str, int] = {}
        named = self.group_keys if self.options.get("groups", "auto") != "auto" else None
        for record, key, value in loader.entries(path):
            name = loader.file_name(value.get("img_file_name"), path, record)
            caption = expect_str(value.get("caption"), "'caption'", path, record).strip('"').strip()
            regions, polygons = [], []
            for ref in loader.refs_of(value, path, record):
                shapes = loader.polygons_of(ref, path, record)
                if len(shapes) < len(ref.get("segmentation", [])):
                    self.report.add("degenerate_polygons_skipped", record)
                polygons.extend(shapes)
                regions.append(
                    {
                        "sentence": ref.get("sentence"),
                        "explanation": ref.get("explanation"),
                        "in_caption": isinstance(ref.get("sentence"), str) and ref["sentence"] in caption,
                        **loader.extra_fields(ref, loader.KNOWN_REF_KEYS),
                    }
                )
            image = loader.image_path(base, split, name, path, record)
            if not self.context.image_present(image, record, path):
                continue
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                self.report.add("images_annotated_twice", name)
            extra = loader.extra_fields(value, loader.KNOWN_IMAGE_KEYS)
            groups = {k: v for k, v in extra.items() if isinstance(v, str) and v.strip()}
            if named is not None:
                for key in named:
                    expect(isinstance(extra.get(key), str), f"group field {key!r} is not a text field of this entry", path, record)
                groups = {k: groups[k] for k in named}
            texts = [r["explanation"] for r in regions if isinstance(r["explanation"], str) and r["explanation"].strip()]
            yield Sample(
                id=name if seen[name] == 1 else f"{name}#{seen[name]}",
                label=FAKE,
                image=image,
                image_ref=relative_to(image, base),
                group=groups,
                mask=loader.PolygonMask(record, str(image), tuple(polygons)),
                reference=Reference(
                    text=caption if which == "caption" else " ".join(texts),
                    texts=[] if which == "caption" else texts,
                    parts={"caption": caption, "regions": regions, "annotation_id": key},
                ),
            )
