"""So-Fake-OOD's parquet files read into Samples, with the class map each released version uses.

Released as Hugging Face parquet (``saberzl/So-Fake-OOD``, split ``test``): read from
``--data-dir`` (``data/test-*.parquet``, as a Hub snapshot lays them out) or, with network,
from the Hub (:class:`~fdrbench.tasks.common.parquet.ParquetSourceTask`).

The two released versions map the label integers differently (v1: 0 full_synthetic, 1 real,
2 tampered; v2: 0 real, 1 tampered, 2 full_synthetic), so the map is never assumed: it is read
from the dataset's own ClassLabel names (parquet features metadata, else the dataset card), or
given as ``label_names``; the label follows from the class (real = 0, else fake = 1). The
``generator`` group is v2's generator column (normalised: lower case, no spaces, dashes or
underscores; the raw string stays in meta), or, for v1, the generator token of tampered file
names (``*_<gen>_tampered.png``); real images are in the group ``real``.

Tampered-region masks: which gray level marks the region is not documented (the README's figures
show masks near gray 100, not 255), so each mask's rule is decided from its own values
(:mod:`fdrbench.tasks.common.masks`, rule ``values``: a two-valued ``{0, v}`` mask has foreground
``v``); the rule and value set are kept with the stored truth and reported in the localization
details, ``data check`` prints the value sets, and a run whose tampered masks all decode empty
cannot be scored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from fdrbench.errors import DataError, FdrbenchError
from fdrbench.tasks.common.loading import LoadContext, expect, relative_to
from fdrbench.tasks.common.masks import BinaryMask
from fdrbench.tasks.common.parquet import ParquetCell, ParquetImage, iter_rows, label_names, require_columns
from fdrbench.types import TERNARY_CLASSES, Sample, label_of_class

HUB_REPO = "saberzl/So-Fake-OOD"
DOWNLOAD_HINT = (
    f"download the parquet files of HF {HUB_REPO} (data/test-*.parquet and README.md) and pass --data-dir <folder>, "
    "or use --task-arg hub=true with network"
)
_V1_TAMPERED = re.compile(r"_([A-Za-z0-9.]+)_tampered\.[A-Za-z]+$")


def normalise_generator(raw: str) -> str:
    """``Seedream3.0`` -> ``seedream3.0``, ``GPT-4o`` -> ``gpt4o``: one spelling per generator."""
    return re.sub(r"[\s_\-]+", "", raw.strip().lower())


def parse_label_names(value: object) -> list[str]:
    names = [n.strip() for n in value.split(",")] if isinstance(value, str) else value
    if not isinstance(names, list) or sorted(names) != sorted(TERNARY_CLASSES):
        raise FdrbenchError(f"label_names must name the three classes {', '.join(TERNARY_CLASSES)} in label order, got {value!r}")
    return [str(n) for n in names]


def class_names(root: Path, files: list[Path], given: object = None) -> tuple[list[str], str]:
    """(class of each label integer, where that map was read): ``given`` (the ``label_names``
    option) if set, else the dataset's own ClassLabel names; an error when neither says."""
    if given is not None:
        return parse_label_names(given), "the label_names task option"
    names, source = label_names(files, root / "README.md")
    if names is None:
        raise DataError(
            f"cannot tell which class each label integer means ({source})",
            path=files[0],
            hint="the released versions differ; pass --task-arg label_names=<name of 0>,<name of 1>,<name of 2>",
        )
    unknown = [n for n in names if n not in TERNARY_CLASSES]
    if unknown or len(names) != 3:
        raise DataError(f"label names {names} are not the three classes {TERNARY_CLASSES}", path=files[0])
    return names, source


def rows(context: LoadContext, root: Path, files: list[Path], names: list[str], names_source: str) -> Iterator[Sample]:
    seen: dict[str, int] = {}
    for path in files:
        require_columns(path, ("image", "label", "filename"))
        relative = relative_to(path, root)
        for number, group, row, values in iter_rows(path, ("label", "filename", "generator", "source"), presence=("mask",)):
            record = f"{relative}#{number}"
            label = values["label"]
            if not isinstance(label, int) or not 0 <= label < len(names):
                raise DataError(f"unknown label {label!r}; the dataset's names are {names} (from {names_source})", path=path, record=record)
            cls = names[label]
            filename = values["filename"]
            expect(isinstance(filename, str) and bool(filename), f"expected a non-empty filename, got {filename!r}", path, record)
            seen[filename] = seen.get(filename, 0) + 1
            sample_id = filename if seen[filename] == 1 else f"{filename}#{seen[filename]}"
            generator_raw = values["generator"]
            if cls == "real":
                generator = "real"
            elif isinstance(generator_raw, str) and generator_raw.strip():
                generator = normalise_generator(generator_raw)
            else:
                match = _V1_TAMPERED.search(filename)
                generator = normalise_generator(match.group(1)) if match and cls == "tampered" else "unknown"
            mask = None
            if values["has_mask"]:
                mask = BinaryMask(record=sample_id, rule="values", cell=ParquetCell(str(path), group, row, "mask", sample_id))
            elif cls == "tampered":
                context.report.add("tampered_without_mask", record)
            group_values = {"generator": generator}
            if isinstance(values["source"], str) and values["source"]:
                group_values["source"] = values["source"]
            yield Sample(
                id=sample_id,
                label=label_of_class(cls),
                cls=cls,
                image=ParquetImage(ParquetCell(str(path), group, row, "image", sample_id)),
                image_ref=record,
                group=group_values,
                mask=mask,
                meta={"generator_raw": generator_raw, "label_names": names, "label_names_source": names_source},
            )
