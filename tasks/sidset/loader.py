"""SID-Set's two released forms read into Samples: the Drive folders and the Hub parquet files.

- the Google Drive folders, ``<root>/<split>/{real/*.jpg, full_synthetic/*.png, tampered/*.png,
  masks/<name>_mask.png}`` (``<root>`` may hold ``SID_Set/``); the class is the folder. A
  tampered image without its mask is dropped and counted, as SIDA's loader does
  (``missing_mask="keep"`` or ``"error"`` to change that). The SID_Set_description release adds
  ``<split>/description/<class>_GT.json`` (file name -> description), used as the reference.
- the Hub parquet files, ``<root>/data/<split>-*.parquet`` (columns img_id, image, mask, width,
  height, label with 0 real / 1 full synthetic / 2 tampered), read in place and lazily.
  The Hub holds train and validation only; the test split is the Drive ``test.zip``.

Each sample carries its three-way class and the label derived from it (real = 0, else fake = 1).
Masks are read as SIDA's evaluation reads them (``utils/SID_Set.py``): the gray mask is resized,
bilinearly, so that the image's longest side is 1024 (SAM's ``ResizeLongestSide``), and only then
are the pixels equal to 255 foreground. The ground truth therefore lives on that 1024 grid, under
every protocol. Sample ids are ``<class>/<file stem>`` (folders) or ``<class>/<img_id>`` (parquet).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fdrbench.errors import DataError
from fdrbench.pathsafe import inside
from fdrbench.tasks.common.loading import LoadContext, expect, first_existing, read_json, relative_to
from fdrbench.tasks.common.masks import BinaryMask
from fdrbench.tasks.common.parquet import ParquetCell, ParquetImage, iter_rows, require_columns
from fdrbench.types import Reference, Sample, label_of_class

#: the dataset's int64 label column
LABEL_CLASSES = {0: "real", 1: "full_synthetic", 2: "tampered"}
#: class folder -> the glob SIDA's loader uses in it
CLASS_GLOBS = {"real": "*.jpg", "full_synthetic": "*.png", "tampered": "*.png"}
HUB_REPO = "saberzl/SID_Set"
#: the resolution SIDA resizes masks to before keeping the pixels equal to 255
MASK_LONGEST_SIDE = 1024
MASK_RULE = f"bilinear to longest side {MASK_LONGEST_SIDE}, then == 255"
MISSING_MASK_POLICIES = ("drop", "keep", "error")
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


def mask_missing(context: LoadContext, policy: str, record: str, where: Path) -> bool:
    """A tampered image without a mask, under ``policy``: True to keep the sample (without mask)."""
    if policy == "error":
        raise DataError("tampered image has no mask (missing_mask=error)", path=where, record=record)
    context.report.add("tampered_without_mask" + ("_dropped" if policy == "drop" else "_kept"), f"{record}: {where}")
    return policy == "keep"


def folder_samples(context: LoadContext, split_dir: Path, data_dir: Path, split: str, missing_mask: str) -> Iterator[Sample]:
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
                elif not mask_missing(context, missing_mask, record, mask_path):
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


def parquet_samples(context: LoadContext, root: Path, files: list[Path], missing_mask: str) -> Iterator[Sample]:
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
                elif not mask_missing(context, missing_mask, img_id, path):
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
