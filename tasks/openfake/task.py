"""``openfake``: OpenFake's core test split (HF ``ComplexDataLab/OpenFake``), read from its parquet shards.

Layout (the revision that added the ``core`` and ``reddit`` configurations, ``a2d0d4e``, and later ones
with the same schema)::

    <root>/core/{train,validation,test}-*.parquet      columns image, prompt, label, model, type, release_date
    <root>/reddit/test-*.parquet                        (--task-arg config=reddit)

The earliest revision's ``data/test-*.parquet`` (columns image, prompt, label, model) is read too.
The card, splits and license changed across revisions, so pin one: ``revision=<commit>`` with
``hub=true``, or pass it for a local copy; the commit is recorded with every sample (part of the
fingerprint). **``label`` is the string ``real`` or ``fake``**; anything else is an error (a
ClassLabel integer is read through its names). ``model`` is the generator of a fake and the source
of a real: groups ``generator`` (fakes), ``real_source`` (reals) and ``type``. The ``release_date``
column is kept with each sample but not used for slicing: its meaning changed between revisions
(later code writes a Hub repository's creation date); the released-after slices use fdrbench's
generator table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fdrbench.errors import DataError
from fdrbench.tasks.common.loading import SplitNotFound, relative_to
from fdrbench.tasks.common.parquet import ParquetCell, ParquetImage, ParquetSourceTask, iter_rows, label_names, require_columns
from fdrbench.types import FAKE, REAL, Sample

HUB_REPO = "ComplexDataLab/OpenFake"
PROMPT = "Is this image real or fake?"
LABELS = {"real": REAL, "fake": FAKE}
DOWNLOAD_HINT = (
    f"download the test shards of HF {HUB_REPO} at a pinned revision (`huggingface-cli download {HUB_REPO} --repo-type dataset "
    "--revision <commit> --include 'core/test-*' README.md --local-dir <folder>`) and pass --data-dir <folder> --task-arg revision=<commit>, "
    "or use --task-arg hub=true --task-arg revision=<commit> with network"
)


def label_of(value: object, names: list[str] | None, path: Path, record: str) -> int:
    word = names[value] if isinstance(value, int) and not isinstance(value, bool) and names and 0 <= value < len(names) else value
    if not isinstance(word, str) or word.strip().lower() not in LABELS:
        raise DataError(f"unknown label {value!r}; OpenFake labels are the strings 'real' and 'fake'", path=path, record=record)
    return LABELS[word.strip().lower()]


class OpenFake(ParquetSourceTask):
    """OpenFake core test split: real photos and fakes of many open and commercial generators."""

    name = "openfake"
    version = "1"
    description = "OpenFake core test split (91,398 images): real photos and fakes of open and commercial generators, pinned revision"
    prompt = PROMPT
    group_keys = ("generator", "type", "real_source")
    splits = ("test", "validation", "train")
    download_hint = DOWNLOAD_HINT
    hub_repo = HUB_REPO
    extra_options = {**ParquetSourceTask.extra_options, "config": "core"}

    def samples(self, data_dir: Path, split: str) -> Iterator[Sample]:
        root, files = self.parquet_source(data_dir, split, self.option("config"))
        if not files:
            raise SplitNotFound(f"no parquet files for split {split!r} (expected {self.option('config')}/{split}-*.parquet)", path=root)
        names, _ = label_names(files, root / "README.md")
        identity = self.data_identity(root)
        if identity is None:
            self.report.add("revision_not_pinned", "pass --task-arg revision=<commit>: the card and splits changed across revisions")
        for path in files:
            require_columns(path, ("image", "label", "model"))
            relative = relative_to(path, root)
            for number, group, row, values in iter_rows(path, ("label", "model", "type", "release_date"), presence=("image",)):
                record = f"{relative}#{number}"
                label = label_of(values["label"], names, path, record)
                model = values["model"].strip() if isinstance(values["model"], str) else ""
                groups = {"generator": model or "unknown"} if label == FAKE else ({"real_source": model.lower()} if model else {})
                if isinstance(values["type"], str) and values["type"].strip():
                    groups["type"] = values["type"].strip()
                yield Sample(
                    id=record,
                    label=label,
                    image=ParquetImage(ParquetCell(str(path), group, row, "image", record)),
                    image_ref=record,
                    group=groups,
                    content=identity,
                    meta={"release_date": values["release_date"], "model": values["model"]},
                )
