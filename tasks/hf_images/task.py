"""``--task hf``: any Hugging Face image dataset, by Hub id at a pinned revision or from a local copy.

Options: ``dataset=ORG/NAME``, ``revision=<commit>`` (pinned into the data fingerprint), ``config``,
``image_column`` (default ``image``: an ``Image`` feature or encoded bytes), ``label_column``
(default ``label``), ``label_map`` (default: read from the column's ClassLabel names when it has
them), or ``fake_is`` / ``real_is``, ``group_columns`` (comma-separated, each scored as a group),
``generator_column`` (scored as the ``generator`` group; default the column ``generator`` when
there is one), ``reference_column``, ``mask_column``, ``id_column``, ``splits`` (split names beyond
test, validation and train). See :mod:`fdrbench.tasks.hf_images.loader` for the sources.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fdrbench.errors import DataError, FdrbenchError
from fdrbench.tasks.common.masks import BinaryMask
from fdrbench.tasks.common.own_data import OwnDataTask, label_rule
from fdrbench.tasks.hf_images.loader import open_source
from fdrbench.types import Reference, Sample

DOWNLOAD_HINT = (
    "pass --task-arg dataset=ORG/NAME (with revision=<commit>), or --data-dir with the dataset's parquet files or save_to_disk folder"
)


def column_list(value: Any, option: str) -> list[str]:
    if value in (None, ""):
        return []
    names = [c.strip() for c in value.split(",")] if isinstance(value, str) else list(value)
    if not all(isinstance(c, str) and c for c in names):
        raise FdrbenchError(f"task option {option!r} must list column names separated by commas, got {value!r}")
    return names


class HFImagesTask(OwnDataTask):
    """Any Hugging Face image dataset: image and label columns, label polarity from its ClassLabel names or declared."""

    name = "hf"
    version = "1"
    description = "any Hugging Face image dataset (dataset=ORG/NAME, revision=...; or a local parquet / save_to_disk copy)"
    prompt = "Is this image real or fake?"
    download_hint = DOWNLOAD_HINT
    default_split = "test"
    extra_options = {
        **{k: v for k, v in OwnDataTask.extra_options.items() if k != "content_hash"},
        "dataset": None,
        "revision": None,
        "config": None,
        "splits": None,
        "image_column": "image",
        "label_column": "label",
        "label_map": None,
        "fake_is": None,
        "real_is": None,
        "group_columns": None,
        "generator_column": None,
        "reference_column": None,
        "mask_column": None,
        "id_column": None,
    }
    local_options = ("dataset", "revision")

    def __init__(self, **options: Any):
        super().__init__(**options)
        repo = self.option("dataset")
        if repo not in (None, "") and (not isinstance(repo, str) or repo.count("/") != 1):
            raise FdrbenchError(f"task option 'dataset' must be a Hub dataset id 'owner/name', got {repo!r}")
        self.splits = tuple(dict.fromkeys(("test", "validation", "train", *column_list(self.option("splits"), "splits"))))
        self.groups = column_list(self.option("group_columns"), "group_columns")

    @property
    def group_keys(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("generator", *(g for g in self.groups if g != "generator"))

    def ensure_data(self, data_dir: Path) -> Path:
        """A Hub id needs no data folder; otherwise it must exist."""
        return data_dir if self.option("dataset") else super().ensure_data(data_dir)

    def samples(self, data_dir: Path, split: str) -> Iterator[Sample]:
        repo = self.option("dataset") or None
        label_col, image_col = self.option("label_column"), self.option("image_column")
        source = open_source(
            None if repo else data_dir, split, self.default_split, label_col, repo, self.option("revision"), self.option("config")
        )
        generator_col = self.option("generator_column")
        named = [generator_col, self.option("reference_column"), self.option("id_column")]
        columns = [label_col, *(c for c in named if c), *self.groups, *([] if generator_col else ["generator"])]
        images = [image_col, *([self.option("mask_column")] if self.option("mask_column") else [])]
        rows = list(source.rows(list(dict.fromkeys(columns)), images, [label_col, image_col, *(c for c in named if c), *self.groups]))
        rule = label_rule(
            [r.values[label_col] for r in rows if r.values[label_col] is not None],
            self.option("fake_is"),
            self.option("real_is"),
            self.option("label_map"),
            source.names,
        )
        seen: dict[str, int] = {}
        for row in rows:
            yield self.row_sample(row, rule, source, generator_col or "generator", seen)

    def row_sample(self, row, rule, source, generator_col: str, seen: dict[str, int]) -> Sample:
        values, record = row.values, row.record
        if values[self.option("label_column")] is None:
            raise DataError("the label is null", path=source.root, record=record)
        label, cls = rule(values[self.option("label_column")], source.root, record)
        image = row.cells.get(self.option("image_column"))
        if image is None:
            raise DataError(f"column {self.option('image_column')!r} is null", path=source.root, record=record)
        id_col = self.option("id_column")
        base = str(values[id_col]) if id_col and values.get(id_col) is not None else record
        seen[base] = seen.get(base, 0) + 1
        sample_id = base if seen[base] == 1 else f"{base}#{seen[base]}"
        groups = {"generator": values.get(generator_col), **{g: values.get(g) for g in self.groups}}
        text = values.get(self.option("reference_column")) if self.option("reference_column") else None
        mask_cell = row.cells.get(self.option("mask_column")) if self.option("mask_column") else None
        return Sample(
            id=sample_id,
            label=label,
            cls=cls,
            image=image,
            image_ref=record,
            group={k: str(v) for k, v in groups.items() if v not in (None, "")},
            reference=Reference(text=str(text)) if text not in (None, "") else Reference(),
            mask=BinaryMask(record=sample_id, rule=self.option("mask_rule"), cell=mask_cell.cell) if mask_cell is not None else None,
            content=source.identity,
        )
