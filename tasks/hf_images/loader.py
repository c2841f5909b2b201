"""Where a Hugging Face image dataset's rows come from: Hub parquet shards, local parquet, or ``save_to_disk`` folders.

- ``dataset=ORG/NAME`` (``revision=`` pins a commit, ``config=`` a configuration): the split's
  parquet shards are fetched into the Hugging Face cache (or found there offline) and read in place.
- ``--data-dir D`` with parquet shards (``D/data/<split>-*.parquet``, ``D/<config>/<split>-*.parquet``,
  ``D/<split>/*.parquet``, ...), as a Hub snapshot or a download lays them out.
- ``--data-dir D`` written by ``datasets``: ``DatasetDict.save_to_disk`` (``D/dataset_dict.json``,
  one folder per split) or ``Dataset.save_to_disk`` (``D/state.json``: the ``test`` split).

Rows are read column by column and images only when a detector asks for one, so nothing is
converted or copied. The data's identity (recorded with every sample, so part of the fingerprint)
is ``<dataset>@<commit>`` for a Hub snapshot, ``<name>@<revision>`` when ``revision`` names a local
copy's commit, and otherwise a digest of the data files' names and sizes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fdrbench.errors import DataError, FdrbenchError, SplitNotFound
from fdrbench.pathsafe import check_name, inside
from fdrbench.tasks.common.parquet import (
    DATA_EXTRA_HINT,
    ParquetCell,
    ParquetImage,
    cell_bytes,
    find_parquet_files,
    hub_snapshot,
    iter_rows,
    label_names,
    require_columns,
    snapshot_commit,
)


@dataclass(frozen=True)
class Row:
    """One row: where it is (for messages and ids), its metadata values, and how to read its images."""

    record: str
    values: dict[str, Any]
    cells: dict[str, Any]


@lru_cache(maxsize=4)
def _saved_table(folder: str):
    try:
        from datasets import load_from_disk
    except ImportError as exc:
        raise FdrbenchError(f"reading a saved dataset needs `datasets`; {DATA_EXTRA_HINT}") from exc
    return load_from_disk(folder)


@dataclass(frozen=True)
class SavedCell:
    """An image cell of a ``save_to_disk`` folder (memory-mapped, opened once per process). Picklable."""

    folder: str
    row: int
    column: str
    record: str

    def read_bytes(self) -> bytes | None:
        try:
            value = _saved_table(self.folder).data.table.column(self.column)[self.row].as_py()
        except Exception as exc:  # a truncated or foreign arrow file raises many types
            raise DataError(f"cannot read column {self.column!r} row {self.row} ({exc})", path=self.folder, record=self.record) from exc
        return cell_bytes(value, self.column, self.folder, self.record)

    def open(self):
        from fdrbench.types import decode_image

        data = self.read_bytes()
        if data is None:
            raise DataError(f"{self.column!r} is null", path=self.folder, record=self.record)
        return decode_image(data, "image", self.folder, self.record, subject=repr(self.column))


@dataclass(frozen=True)
class Source:
    """One split of a dataset: its rows, the ClassLabel names of the label column, and its identity."""

    root: Path
    identity: str
    names: list[str] | None
    kind: str
    files: tuple[Path, ...] = ()
    saved: Path | None = None

    def rows(self, columns: Sequence[str], images: Sequence[str], required: Sequence[str]) -> Iterator[Row]:
        """Every row's ``columns`` (absent optional ones as None) and lazy readers of its ``images``;
        a ``required`` column missing from the data is an error naming the file."""
        if self.saved is not None:
            yield from _saved_rows(self.saved, columns, images, required)
            return
        for path in self.files:
            require_columns(path, list(required))
            relative = path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else path.name
            for number, group, row, values in iter_rows(path, list(columns), presence=list(images)):
                record = f"{relative}#{number}"
                cells = {c: ParquetImage(ParquetCell(str(path), group, row, c, record)) for c in images if values.get(f"has_{c}")}
                yield Row(record, values, cells)


def _saved_rows(folder: Path, columns: Sequence[str], images: Sequence[str], required: Sequence[str]) -> Iterator[Row]:
    dataset = _saved_table(str(folder))
    missing = [c for c in required if c not in dataset.column_names]
    if missing:
        raise DataError(f"missing column(s) {missing}; the dataset has {dataset.column_names}", path=folder)
    table = dataset.data.table
    wanted = [c for c in columns if c in dataset.column_names]
    values = {c: table.column(c).to_pylist() for c in wanted}
    valid = {c: table.column(c).is_valid().to_pylist() for c in images if c in dataset.column_names}
    for i in range(dataset.num_rows):
        record = f"{folder.name}#{i}"
        cells = {c: ParquetImage(SavedCell(str(folder), i, c, record)) for c in valid if valid[c][i]}
        yield Row(record, {c: (values[c][i] if c in values else None) for c in columns}, cells)


def _files_digest(root: Path, files: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(f"{path.relative_to(root).as_posix()}\t{path.stat().st_size}\n".encode())
    return digest.hexdigest()[:16]


def _saved_source(root: Path, split: str, default_split: str, column: str, revision: str | None) -> Source | None:
    if (root / "dataset_dict.json").is_file():
        try:
            splits = json.loads((root / "dataset_dict.json").read_text(encoding="utf-8")).get("splits", [])
        except (OSError, json.JSONDecodeError, AttributeError) as exc:
            raise DataError(f"dataset_dict.json cannot be read ({exc})", path=root) from exc
        if split not in splits:
            raise SplitNotFound(f"the saved dataset has no split {split!r} (it has {splits})", path=root)
        folder = inside(root, root / check_name(split, "split name", root), shown=split)
    elif (root / "state.json").is_file():
        if split != default_split:
            raise SplitNotFound(f"a folder saved from one Dataset is the {default_split!r} split; there is no {split!r}", path=root)
        folder = root
    else:
        return None
    features = _saved_table(str(folder)).features
    feature = features.get(column)
    names = [str(n) for n in feature.names] if getattr(feature, "names", None) else None
    files = sorted(p for p in folder.glob("*.arrow") if p.is_file())
    identity = f"{root.name}@{revision}" if revision else f"files:{_files_digest(root, files)}"
    return Source(root, identity, names, "saved", saved=folder)


def open_source(
    data_dir: Path | None, split: str, default_split: str, label_column: str, repo: str | None, revision: str | None, config: str | None
) -> Source:
    """The rows of ``split``: from the Hub (``repo``) or the data folder, in whichever layout it has."""
    if repo:
        root = hub_snapshot(repo, split, revision, config)
        allowed = root.parents[1] if len(root.parents) > 1 else root
        files = tuple(inside(allowed, p, shown=p.name) for p in find_parquet_files(root, split, config))
        commit = snapshot_commit(root) or revision
        identity = f"hf:{repo}@{commit}" if commit else f"hf:{repo}@files:{_files_digest(root, files)}"
        names, _ = label_names(files, root / "README.md", label_column)
        return Source(root, identity, names, "hub", files=files)
    if data_dir is None or not data_dir.is_dir():
        raise DataError("no dataset: pass --task-arg dataset=ORG/NAME or --data-dir <folder>", path=data_dir)
    saved = _saved_source(data_dir, split, default_split, label_column, revision)
    if saved is not None:
        return saved
    files = tuple(inside(data_dir, p, shown=p.name) for p in find_parquet_files(data_dir, split, config))
    if not files:
        raise SplitNotFound(
            f"no parquet files for split {split!r} (data/{split}-*.parquet, {split}/*.parquet, ...) and no saved dataset", path=data_dir
        )
    names, _ = label_names(files, data_dir / "README.md", label_column)
    identity = f"{data_dir.name}@{revision}" if revision else f"files:{_files_digest(data_dir, files)}"
    return Source(data_dir, identity, names, "parquet", files=files)
