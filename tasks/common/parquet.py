"""Benchmarks released as Hugging Face parquet (SID-Set, So-Fake-OOD): local files or a Hub dataset id.

Rows are read column by column: the small metadata columns once at load time, the image and
mask bytes only when a detector asks for that sample (one row group at a time, the last few
kept in memory), so a 100 GB split loads in seconds and never converts to another format.

Label names come from the dataset itself: the ``huggingface`` features metadata that
``datasets`` writes into every parquet file (read back with ``datasets.Features``, exactly as
``load_dataset(...).features['label'].names`` would), else the dataset card's YAML.

A Hub id is fetched with ``huggingface_hub.snapshot_download`` (the parquet files of the split,
into the Hugging Face cache) and read in place. Without network the call fails within seconds,
with a message that says how to download the files and pass them as ``--data-dir``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from fdrbench.errors import DataError, FdrbenchError
from fdrbench.pathsafe import inside
from fdrbench.tasks.common.loading import DatasetTask

HUB_ENDPOINT = "https://huggingface.co"
#: seconds to wait for the Hub to answer before treating the machine as offline
HUB_TIMEOUT_S = 5.0
_ROW_GROUP_CACHE = 4
DATA_EXTRA_HINT = "install the data extra: pip install 'fdrbench[data]'"


def _pyarrow_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise FdrbenchError(f"reading parquet files needs pyarrow; {DATA_EXTRA_HINT}") from exc
    return pq


def find_parquet_files(root: Path, split: str, config: str | None = None) -> list[Path]:
    """The parquet shards of ``split`` in a Hub snapshot layout (``data/<split>-*.parquet``) or a folder per
    split; with ``config``, that configuration's folder first (``<config>/<split>-*.parquet``)."""
    patterns = (
        *((f"{config}/{split}-*.parquet", f"{config}/{split}/*.parquet", f"data/{config}/{split}-*.parquet") if config else ()),
        f"data/{split}-*.parquet",
        f"{split}-*.parquet",
        f"data/{split}/*.parquet",
        f"{split}/*.parquet",
        f"*/data/{split}-*.parquet",
    )
    for pattern in patterns:
        found = sorted(p for p in root.glob(pattern) if p.is_file())
        if found:
            return found
    return []


# --------------------------------------------------------------------------- label names


def features_of(path: Path) -> Any | None:
    """The ``datasets.Features`` stored in a parquet file's schema metadata, or None if it has none."""
    pq = _pyarrow_parquet()
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not parquet
        raise DataError(f"not a readable parquet file ({exc})", path=path) from exc
    if not schema.metadata or b"huggingface" not in schema.metadata:
        return None
    try:
        from datasets import Features
    except ImportError as exc:
        raise FdrbenchError(f"reading the dataset's label names needs `datasets`; {DATA_EXTRA_HINT}") from exc
    try:
        return Features.from_arrow_schema(schema)
    except Exception as exc:  # malformed metadata JSON or an unknown feature type
        raise DataError(f"the parquet's 'huggingface' features metadata cannot be read ({exc})", path=path) from exc


def card_label_names(card: Path, column: str = "label") -> list[str] | None:
    """ClassLabel names of ``column`` from a dataset card's YAML header (``dataset_info.features``)."""
    if not card.is_file():
        return None
    text = card.read_text(encoding="utf-8", errors="replace")
    if not text.startswith("---"):
        return None
    header = text.split("\n---", 1)[0].lstrip("-\n")
    import yaml

    try:
        meta = yaml.safe_load(header) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"the dataset card's YAML header does not parse ({exc})", path=card) from exc
    infos = meta.get("dataset_info") if isinstance(meta, dict) else None
    for info in infos if isinstance(infos, list) else [infos]:
        for feature in (info or {}).get("features") or []:
            if not isinstance(feature, dict) or feature.get("name") != column:
                continue
            names = ((feature.get("dtype") or {}).get("class_label") or {}).get("names") if isinstance(feature.get("dtype"), dict) else None
            if isinstance(names, dict):
                return [str(names[k]) for k in sorted(names, key=lambda k: int(k))]
            if isinstance(names, list):
                return [str(n) for n in names]
    return None


def label_names(files: Sequence[Path], card: Path | None, column: str = "label") -> tuple[list[str] | None, str]:
    """The dataset's own ClassLabel names for ``column`` and where they were read; (None, why) if it has none."""
    features = features_of(files[0]) if files else None
    if features is not None and column in features:
        names = getattr(features[column], "names", None)
        if names:
            return [str(n) for n in names], f"{files[0].name} (parquet features metadata)"
        return None, f"{files[0].name} declares {column!r} as {features[column]!r}, not a ClassLabel"
    names = card_label_names(card, column) if card is not None else None
    if names:
        return names, f"{card} (dataset card)"
    return None, "no features metadata in the parquet files and no class_label in a dataset card"


# --------------------------------------------------------------------------- rows and lazy cells


def iter_rows(path: Path, columns: Sequence[str], presence: Sequence[str] = ()) -> Iterator[tuple[int, int, int, dict]]:
    """(row number in file, row group, row within group, values) for each row of a parquet file.

    ``values`` holds the metadata ``columns`` and, for each of the (large) ``presence`` columns,
    only whether the row has a value, under ``has_<column>``; their bytes are not kept.
    Optional columns absent from the file are given as None.
    """
    pq = _pyarrow_parquet()
    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:
        raise DataError(f"not a readable parquet file ({exc})", path=path) from exc
    names = set(handle.schema_arrow.names)
    wanted = [c for c in columns if c in names]
    checked = [c for c in presence if c in names]
    number = 0
    for group in range(handle.metadata.num_row_groups):
        table = handle.read_row_group(group, columns=wanted + checked)
        flags = {c: table.column(c).is_valid().to_pylist() for c in checked}
        rows = table.select(wanted).to_pylist() if wanted else [{} for _ in range(table.num_rows)]
        for row, values in enumerate(rows):
            for c in columns:
                values.setdefault(c, None)
            for c in presence:
                values[f"has_{c}"] = flags[c][row] if c in flags else False
            yield number, group, row, values
            number += 1


def require_columns(path: Path, required: Sequence[str]) -> list[str]:
    """The file's column names; a DataError naming the file if any ``required`` one is missing."""
    try:
        names = column_names(path)
    except Exception as exc:
        raise DataError(f"not a readable parquet file ({exc})", path=path) from exc
    missing = [c for c in required if c not in names]
    if missing:
        raise DataError(f"missing column(s) {missing}; the file has {names}", path=path)
    return names


def column_names(path: Path) -> list[str]:
    return list(_pyarrow_parquet().read_schema(path).names)


@lru_cache(maxsize=_ROW_GROUP_CACHE)
def _row_group_column(path: str, group: int, column: str) -> list:
    """One column of one row group, kept for the next samples (rows are usually read in order)."""
    pq = _pyarrow_parquet()
    return pq.ParquetFile(path).read_row_group(group, columns=[column]).column(0).to_pylist()


def cell_bytes(value: Any, column: str, path: object, record: object) -> bytes | None:
    """The encoded image an arrow cell holds: an ``Image`` feature's embedded bytes, or a binary value."""
    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("bytes") is None:
            raise DataError(f"{column!r} holds no embedded bytes (path {value.get('path')!r} only)", path=path, record=record)
        return value["bytes"]
    if isinstance(value, bytes):
        return value
    raise DataError(f"{column!r} is not an image cell ({type(value).__name__})", path=path, record=record)


def snapshot_commit(root: Path) -> str | None:
    """The commit a Hugging Face cache snapshot folder holds (``.../snapshots/<commit>``), else None."""
    return root.name if root.parent.name == "snapshots" and len(root.name) == 40 else None


@dataclass(frozen=True)
class ParquetCell:
    """Where one image (or mask) lives: file, row group, row and column. Picklable, so DataLoader workers can use it."""

    path: str
    group: int
    row: int
    column: str
    record: str

    def read_bytes(self) -> bytes | None:
        try:
            value = _row_group_column(self.path, self.group, self.column)[self.row]
        except Exception as exc:
            raise DataError(
                f"cannot read column {self.column!r} row {self.row} of row group {self.group} ({exc})", path=self.path, record=self.record
            ) from exc
        return cell_bytes(value, self.column, self.path, self.record)

    def open(self):
        from fdrbench.types import decode_image

        data = self.read_bytes()
        if data is None:
            raise DataError(f"{self.column!r} is null", path=self.path, record=self.record)
        return decode_image(data, "image", self.path, self.record, subject=repr(self.column))


@dataclass(frozen=True)
class ParquetImage:
    """``Sample.image`` for a parquet row: decodes the embedded bytes on demand."""

    cell: ParquetCell

    def __call__(self):
        return self.cell.open()

    def encoded(self) -> bytes | None:
        """The stored bytes, undecoded: format parity reads their header and JPEG tables."""
        return self.cell.read_bytes()


# --------------------------------------------------------------------------- the Hub


def _offline_by_env() -> bool:
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on") for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def hub_reachable(endpoint: str, timeout: float = HUB_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the Hub endpoint opens within ``timeout`` seconds."""
    parsed = urlparse(endpoint)
    host = parsed.hostname
    if not host:
        return False
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def hub_download_hint(repo_id: str, split: str) -> str:
    return (
        f"on a machine with network: `huggingface-cli download {repo_id} --repo-type dataset "
        f"--include 'data/{split}-*' README.md --local-dir <dir>` (or git clone https://huggingface.co/datasets/{repo_id}), "
        f"copy <dir> here and pass --data-dir <dir> instead of the Hub id"
    )


def hub_snapshot(repo_id: str, split: str, revision: str | None = None, config: str | None = None) -> Path:
    """A local folder with the dataset card and the parquet files of ``split`` of a Hub dataset.

    Uses the Hugging Face cache when the files are there; otherwise downloads them, which needs
    network. Offline (``HF_HUB_OFFLINE=1``, or the endpoint unreachable within a few seconds)
    only the cache is used, and a DataError says how to get the data when it is not there.
    """
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:
        raise FdrbenchError(f"reading a Hub dataset needs huggingface_hub; {DATA_EXTRA_HINT}") from exc
    endpoint = os.environ.get("HF_ENDPOINT") or HUB_ENDPOINT
    # behind a proxy a direct connection says nothing; the client's own timeout applies then
    proxied = any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"))
    offline = _offline_by_env() or (not proxied and not hub_reachable(endpoint))
    patterns = ["README.md", f"data/{split}-*", f"{split}/*", f"data/{split}/*"]
    if config:
        patterns += [f"{config}/{split}-*", f"{config}/{split}/*", f"data/{config}/{split}-*"]
    try:
        folder = snapshot_download(
            repo_id,
            repo_type="dataset",
            revision=revision,
            allow_patterns=patterns,
            local_files_only=offline,
            etag_timeout=HUB_TIMEOUT_S,
            endpoint=endpoint,
            cache_dir=os.environ.get("HF_HUB_CACHE") or None,
        )
    except Exception as exc:  # the hub client raises many types for "not cached" / "not reachable"
        why = "offline and not in the Hugging Face cache" if offline else f"{type(exc).__name__}: {exc}"
        raise DataError(f"cannot get Hub dataset {repo_id!r} ({why})", hint=hub_download_hint(repo_id, split)) from exc
    root = Path(folder)
    if not find_parquet_files(root, split, config):
        raise DataError(
            f"Hub dataset {repo_id!r} has no parquet files for split {split!r}", path=root, hint=hub_download_hint(repo_id, split)
        )
    return root


# --------------------------------------------------------------------------- tasks with a parquet source


class ParquetSourceTask(DatasetTask):
    """A task whose data can also come as parquet: local files under ``--data-dir`` or, with the
    ``hub`` option (a dataset id, or true for the task's own), from the Hugging Face Hub."""

    hub_repo: str = ""
    extra_options = {"hub": None, "revision": None}
    local_options = ("hub", "revision")

    def hub_id(self) -> str | None:
        value = self.option("hub")
        if value in (None, False, "", "false", "False"):
            return None
        if value is True or value in ("true", "True"):
            return self.hub_repo
        if not isinstance(value, str) or value.count("/") != 1:
            raise FdrbenchError(f"task option 'hub' must be true or a Hub dataset id 'owner/name', got {value!r}")
        return value

    def data_identity(self, root: Path) -> str | None:
        """``<dataset>@<commit>`` of the files read: the Hub snapshot's commit, or the ``revision`` option
        naming a local copy's; None when neither says it (the fingerprint then covers the annotations only)."""
        commit = snapshot_commit(root) or self.option("revision")
        return f"{self.hub_id() or self.hub_repo}@{commit}" if commit else None

    def ensure_data(self, data_dir: Path) -> Path:
        """With a Hub id the data folder is not needed; otherwise it must exist."""
        if self.hub_id():
            return data_dir
        return super().ensure_data(data_dir)

    def parquet_source(self, data_dir: Path, split: str, config: str | None = None) -> tuple[Path, list[Path]]:
        """(root the files are relative to, parquet files of ``split``, named so in the files): from the Hub
        or the data folder; ``config`` looks in that configuration's folder first."""
        repo = self.hub_id()
        root = hub_snapshot(repo, split, self.option("revision"), config) if repo else data_dir
        # a Hub snapshot's files are links into the cache's blobs/ folder, two levels up
        allowed = root.parents[1] if repo and len(root.parents) > 1 else root
        return root, [inside(allowed, path, shown=path.name) for path in find_parquet_files(root, split, config)]
