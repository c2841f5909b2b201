"""``commfor_eval``: Community Forensics' evaluation set (HF ``OwensLab/CommunityForensics-Eval``, split ``CompEval``).

Layout: ``<root>/data/CompEval-*.parquet`` (about 413 shards, 51,836 rows, 206 GB), columns
``image_name``, ``image_data`` (the encoded image as bytes, not an ``Image`` feature), ``model_name``,
``architecture``, ``real_source``, ``label`` and others. **``label`` is 0 for real and 1 for fake**, as
the authors' loader reads it (a ClassLabel is read through its names); any other value is an error.
Real images are paired with a generator and carry its ``model_name``, so the class comes from
``label`` only. Groups: ``generator`` (``model_name``, reals included: the pairing), ``architecture``
(the release's GAN / PixDiff / LatDiff / Commercial / Other) and ``real_source`` (reals only,
lower-cased; ``n/a`` and empty values are none). fdrbench's split is ``test``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fdrbench.errors import DataError
from fdrbench.protocols import Protocol
from fdrbench.tasks.commfor.paper import commfor_paper
from fdrbench.tasks.common.loading import SplitNotFound, relative_to
from fdrbench.tasks.common.parquet import ParquetCell, ParquetImage, ParquetSourceTask, iter_rows, label_names, require_columns
from fdrbench.types import FAKE, REAL, Sample

HUB_REPO = "OwensLab/CommunityForensics-Eval"
FILE_SPLIT = "CompEval"
PROMPT = "Is this image real or fake?"
LABELS = {0: REAL, 1: FAKE}
NO_SOURCE = ("", "n/a", "na", "none")
DOWNLOAD_HINT = (
    f"download HF {HUB_REPO} (`huggingface-cli download {HUB_REPO} --repo-type dataset --include 'data/CompEval-*' "
    "--local-dir <folder>`, about 206 GB) and pass --data-dir <folder>, or use --task-arg hub=true with network"
)


def label_of(value: object, names: list[str] | None, path: Path, record: str) -> int:
    if names and isinstance(value, int) and 0 <= value < len(names) and names[value].lower() in ("real", "fake"):
        return REAL if names[value].lower() == "real" else FAKE
    if isinstance(value, bool) or value not in LABELS:
        raise DataError(f"unknown label {value!r}; Community Forensics labels are 0 (real) and 1 (fake)", path=path, record=record)
    return LABELS[value]


class CommForEval(ParquetSourceTask):
    """Community Forensics CompEval: 21 generators paired with real sets (RAISE, COCO, FFHQ, LAION, ...)."""

    name = "commfor_eval"
    version = "1"
    description = "Community Forensics evaluation set (CompEval): 51,836 images, 21 generators paired with real sources"
    prompt = PROMPT
    group_keys = ("generator", "architecture", "real_source")
    download_hint = DOWNLOAD_HINT
    hub_repo = HUB_REPO

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: accuracy at p_fake 0.5 and average precision, as the authors' evaluation computes."""
        return {**super().protocols(), "paper": commfor_paper()}

    def samples(self, data_dir: Path, split: str) -> Iterator[Sample]:
        root, files = self.parquet_source(data_dir, FILE_SPLIT)
        if not files:
            raise SplitNotFound(f"no parquet files data/{FILE_SPLIT}-*.parquet", path=root, hint=DOWNLOAD_HINT)
        names, _ = label_names(files, root / "README.md")
        identity = self.data_identity(root)
        seen: dict[str, int] = {}
        columns = ("image_name", "label", "model_name", "architecture", "real_source", "subset")
        for path in files:
            require_columns(path, ("image_name", "image_data", "label", "model_name"))
            relative = relative_to(path, root)
            for number, group, row, values in iter_rows(path, columns, presence=("image_data",)):
                record = f"{relative}#{number}"
                label = label_of(values["label"], names, path, record)
                name = values["image_name"] if isinstance(values["image_name"], str) and values["image_name"] else record
                seen[name] = seen.get(name, 0) + 1
                sample_id = name if seen[name] == 1 else f"{name}#{seen[name]}"
                groups = {
                    k: values[c].strip()
                    for k, c in (("generator", "model_name"), ("architecture", "architecture"))
                    if isinstance(values[c], str) and values[c].strip()
                }
                source = values["real_source"].strip().lower() if isinstance(values["real_source"], str) else ""
                if label == REAL and source not in NO_SOURCE:
                    groups["real_source"] = source
                if not values["has_image_data"]:
                    raise DataError("'image_data' is null", path=path, record=record)
                yield Sample(
                    id=sample_id,
                    label=label,
                    image=ParquetImage(ParquetCell(str(path), group, row, "image_data", sample_id)),
                    image_ref=record,
                    group=groups,
                    content=identity,
                    meta={"subset": values["subset"]},
                )
