"""SID-Set (SIDA): real, fully synthetic and tampered images, with masks of the tampered regions.

Two released forms, both read from ``--data-dir``:

- the Google Drive folders, ``<root>/<split>/{real/*.jpg, full_synthetic/*.png, tampered/*.png,
  masks/<name>_mask.png}`` (``<root>`` may hold ``SID_Set/``); the class is the folder. A
  tampered image without its mask is dropped and counted, as SIDA's loader does
  (``missing_mask=keep|error`` to change that). The SID_Set_description release adds
  ``<split>/description/<class>_GT.json`` (file name -> description), used as the reference.
- the Hub parquet files, ``<root>/data/<split>-*.parquet`` (columns img_id, image, mask, width,
  height, label with 0 real / 1 full synthetic / 2 tampered), or a Hub id with ``--task-arg hub=true``.
  The Hub holds train and validation only; the test split is the Drive ``test.zip``.

Masks are read as SIDA's evaluation reads them (``utils/SID_Set.py``): the gray mask is resized,
bilinearly, so that the image's longest side is 1024 (SAM's ``ResizeLongestSide``), and only then
are the pixels equal to 255 foreground. The ground truth therefore lives on that 1024 grid, under
every protocol. Sample ids are ``<class>/<file stem>`` (folders) or ``<class>/<img_id>`` (parquet).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from fdrbench.errors import DataError
from fdrbench.pathsafe import inside
from fdrbench.protocols import Protocol
from fdrbench.tasks.loading import SplitNotFound, as_choice, expect, first_existing, read_json, relative_to
from fdrbench.tasks.masks import BinaryMask
from fdrbench.tasks.parquet import ParquetCell, ParquetImage, ParquetSourceTask, iter_rows, require_columns
from fdrbench.tasks.verdicts import sida_class
from fdrbench.types import Reference, Sample, label_of_class
from fdrbench.verdicts import generic_binary

PROMPT = "Can you identify if this image is real, full synthetic, or tampered image? Please mask the tampered regions if it is tampered."
#: the dataset's int64 label column
LABEL_CLASSES = {0: "real", 1: "full_synthetic", 2: "tampered"}
#: class folder -> the glob SIDA's loader uses in it
CLASS_GLOBS = {"real": "*.jpg", "full_synthetic": "*.png", "tampered": "*.png"}
HUB_REPO = "saberzl/SID_Set"
#: the resolution SIDA resizes masks to before keeping the pixels equal to 255
MASK_LONGEST_SIDE = 1024
MASK_RULE = f"bilinear to longest side {MASK_LONGEST_SIDE}, then == 255"
DOWNLOAD_HINT = (
    "download the SID_Set zips linked from github.com/hzlsaber/SIDA (put both train_full_synthetic parts in train/; "
    "test.zip holds the test split) and pass --data-dir <folder holding train/ validation/ test/>, or the HF "
    f"parquet files of {HUB_REPO} (train and validation) with --data-dir, or --task-arg hub=true with network"
)


def split_folder(data_dir: Path, split: str) -> Path | None:
    return first_existing(base / split for base in (data_dir, data_dir / "SID_Set"))


def read_descriptions(split_dir: Path) -> dict[str, str]:
    """File name -> GPT-4o description from ``description/<class>_GT.json``, when the split has them."""
    out: dict[str, str] = {}
    for cls in CLASS_GLOBS:
        path = split_dir / "description" / f"{cls}_GT.json"
        if not path.is_file():
            continue
        data = read_json(path)
        expect(isinstance(data, dict), "expected a JSON object of file name -> description", path, None)
        for name, text in data.items():
            expect(isinstance(text, str), f"expected a description string, got {type(text).__name__}", path, name)
            out[name] = text
    return out


class SIDSet(ParquetSourceTask):
    name = "sidset"
    version = "2"  # 2: ground-truth masks on SIDA's 1024 grid (resized, then == 255)
    description = "SID-Set (SIDA): real / fully synthetic / tampered images with tampering masks"
    label_space = "ternary"
    has_masks = True
    prompt = PROMPT
    group_keys = ()
    headline_metrics = ("accuracy", "macro_f1", "balanced_accuracy", "f1", "ap", "roc_auc", "giou", "ciou", "failure_rate")
    splits = ("train", "validation", "test")
    default_split = "test"
    download_hint = DOWNLOAD_HINT
    hub_repo = HUB_REPO
    extra_options = {**ParquetSourceTask.extra_options, "format": "auto", "missing_mask": "drop"}

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: SIDA's evaluation (per-class figures, macro F1, both IoUs at 1024)."""
        from fdrbench.tasks.paper_protocols import sidset_paper

        return {**super().protocols(), "paper": sidset_paper()}

    def parse_answer(self, text: str | None, sample: Sample) -> int | None:
        """SIDA's stated class (``[CLS] The image is ...`` / ``classified as ...``), else a generic verdict."""
        cls = sida_class(text)
        return label_of_class(cls) if cls else generic_binary(text)

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        form = as_choice(self.option("format"), "format", ("auto", "folders", "parquet"))
        as_choice(self.option("missing_mask"), "missing_mask", ("drop", "keep", "error"))
        if form != "parquet" and not self.hub_id():
            folder = split_folder(data_dir, split)
            if folder is not None:
                yield from self.folder_samples(folder, data_dir, split)
                return
            if form == "folders":
                raise SplitNotFound(f"no {split}/ folder (looked in the folder and in SID_Set/)", path=data_dir, hint=DOWNLOAD_HINT)
        root, files = self.parquet_source(data_dir, split)
        if not files:
            raise SplitNotFound(f"no {split}/ folder and no parquet files for split {split!r}", path=root, hint=DOWNLOAD_HINT)
        yield from self.parquet_samples(root, files, split)

    def mask_missing(self, record: str, where: Path) -> bool:
        """Policy for a tampered image without a mask: True to keep the sample (without mask)."""
        policy = self.option("missing_mask")
        if policy == "error":
            raise DataError("tampered image has no mask (missing_mask=error)", path=where, record=record)
        self.report.add("tampered_without_mask" + ("_dropped" if policy == "drop" else "_kept"), f"{record}: {where}")
        return policy == "keep"

    def folder_samples(self, split_dir: Path, data_dir: Path, split: str) -> Iterator[Sample]:
        missing = [cls for cls in CLASS_GLOBS if not (split_dir / cls).is_dir()]
        if missing:
            raise DataError(f"missing class folder(s) {missing}; SID-Set splits hold real/, full_synthetic/ and tampered/", path=split_dir)
        descriptions = read_descriptions(split_dir)
        for cls, pattern in CLASS_GLOBS.items():
            for found in sorted((split_dir / cls).glob(pattern)):
                if not found.is_file():
                    continue
                record = f"{split}/{cls}/{found.name}"
                path = inside(split_dir, found, record=record, shown=record)
                mask = None
                if cls == "tampered":
                    mask_path = split_dir / "masks" / f"{found.stem}_mask.png"
                    if mask_path.is_file():
                        mask_path = inside(split_dir, mask_path, record=record, shown=f"masks/{mask_path.name}")
                        mask = BinaryMask(
                            record=record, rule="eq255", path=str(mask_path), image_path=str(path), longest_side=MASK_LONGEST_SIDE
                        )
                    elif not self.mask_missing(record, mask_path):
                        continue
                text = descriptions.get(found.name)
                yield Sample(
                    id=f"{cls}/{found.stem}",
                    label=label_of_class(cls),
                    cls=cls,
                    image=path,
                    image_ref=relative_to(path, data_dir),
                    reference=Reference(text=text) if text else Reference(),
                    mask=mask,
                    meta={"mask_rule": MASK_RULE} if mask is not None else {},
                )

    def parquet_samples(self, root: Path, files: list[Path], split: str) -> Iterator[Sample]:
        for path in files:
            require_columns(path, ("img_id", "image", "label"))
            relative = relative_to(path, root)
            for number, group, row, values in iter_rows(path, ("img_id", "label", "width", "height"), presence=("mask",)):
                record = f"{relative}#{number}"
                cls = LABEL_CLASSES.get(values["label"])
                if cls is None:
                    raise DataError(
                        f"unknown label {values['label']!r}; expected 0 (real), 1 (full synthetic) or 2 (tampered)",
                        path=path,
                        record=record,
                    )
                img_id = values["img_id"]
                expect(isinstance(img_id, str) and bool(img_id), f"expected a non-empty img_id, got {img_id!r}", path, record)
                mask = None
                if cls == "tampered":
                    if values["has_mask"]:
                        size = (values["width"], values["height"]) if values["width"] and values["height"] else None
                        cell = ParquetCell(str(path), group, row, "mask", img_id)
                        mask = BinaryMask(record=img_id, rule="eq255", cell=cell, size=size, longest_side=MASK_LONGEST_SIDE)
                    elif not self.mask_missing(img_id, path):
                        continue
                yield Sample(
                    id=f"{cls}/{img_id}",
                    label=label_of_class(cls),
                    cls=cls,
                    image=ParquetImage(ParquetCell(str(path), group, row, "image", img_id)),
                    image_ref=record,
                    mask=mask,
                    meta={"mask_rule": MASK_RULE} if mask is not None else {},
                )
