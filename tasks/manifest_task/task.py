"""``--task manifest --data-dir D --task-arg file=labels.csv``: one's own images listed in a CSV or JSONL file.

The label polarity is declared (``fake_is=1`` or ``fake_is=fake``, or ``label_map``) and never
guessed; see :mod:`fdrbench.tasks.common.own_data`. Paths in the file are relative to the data folder and
may not leave it. See :mod:`fdrbench.tasks.manifest_task.loader` for the columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fdrbench.errors import DataError, FdrbenchError
from fdrbench.tasks.common.loading import expect_str, record_image
from fdrbench.tasks.common.own_data import OwnDataTask, label_rule, sample_of
from fdrbench.tasks.manifest_task import loader
from fdrbench.types import Reference, Sample

DOWNLOAD_HINT = "pass --data-dir (the folder the image paths are relative to) and --task-arg file=<labels.csv or .jsonl>"


class ManifestTask(OwnDataTask):
    """Images listed in a CSV or JSONL file: ``image``, ``label``, optional ``generator``, ``class``, ``mask``, ``reference``."""

    name = "manifest"
    version = "1"
    description = (
        "your own images listed in a CSV/JSONL file (image, label; generator, class, mask, reference; other columns become groups)"
    )
    prompt = "Is this image real or fake?"
    download_hint = DOWNLOAD_HINT
    #: ``groups``: the extra columns scored as groups; ``auto`` becomes every column beyond the known ones
    extra_options = {**OwnDataTask.extra_options, "file": None, "fake_is": None, "real_is": None, "label_map": None, "groups": "auto"}

    @property
    def group_keys(self) -> tuple[str, ...]:  # type: ignore[override]
        groups = self.options.get("groups", "auto")
        return ("generator", *(groups if isinstance(groups, list) else []))

    def labels_file(self, data_dir: Path) -> Path:
        name = self.option("file")
        if name in (None, ""):
            raise FdrbenchError("task 'manifest' needs --task-arg file=<labels.csv or labels.jsonl> (relative to --data-dir, or absolute)")
        path = Path(str(name)).expanduser()
        return path if path.is_absolute() else data_dir / path

    def samples(self, data_dir: Path, split: str) -> Iterator[Sample]:
        path = self.labels_file(data_dir)
        rows = loader.read_rows(path)
        rule = label_rule(
            [row.get("label") for _, row in rows if row.get("label") is not None],
            self.option("fake_is"),
            self.option("real_is"),
            self.option("label_map"),
        )
        extra = sorted({k for _, row in rows for k in row} - set(loader.SPECIAL))
        chosen = self.options.get("groups", "auto")
        if chosen == "auto":
            self.options["groups"] = extra
        else:
            chosen = [g.strip() for g in chosen.split(",") if g.strip()] if isinstance(chosen, str) else list(chosen)
            unknown = [g for g in chosen if g not in extra]
            if unknown:
                raise DataError(f"task option groups names column(s) {unknown} the file does not have (it has {extra})", path=path)
            self.options["groups"] = chosen
        extra = self.options["groups"]
        seen: dict[str, int] = {}
        for record, row in rows:
            image, relative = record_image(data_dir, row.get("image"), record, path)
            if row.get("label") is None:
                raise DataError("expected a 'label'", path=path, record=record)
            label, cls = rule(row["label"], path, record)
            cls = self.class_of(row.get("class"), cls, path, record)
            if not self.context.image_present(image, record, path):
                continue
            seen[relative] = seen.get(relative, 0) + 1
            sample_id = relative if seen[relative] == 1 else f"{relative}#{seen[relative]}"
            groups = {key: loader.group_value(row.get(key), key, path, record) for key in ("generator", *extra)}
            mask = None
            if row.get("mask") is not None:
                mask_path, _ = record_image(data_dir, row["mask"], record, path)
                mask = self.mask_for(mask_path, sample_id, image)
            reference = row.get("reference")
            text = expect_str(reference, "'reference' as text", path, record) if reference is not None else None
            yield sample_of(
                self,
                sample_id,
                label,
                cls,
                image,
                data_dir,
                group={k: v for k, v in groups.items() if v is not None},
                mask=mask,
                reference=Reference(text=text) if text else Reference(),
            )

    @staticmethod
    def class_of(value, from_label: str | None, path: Path, record: str) -> str | None:
        """The ``class`` column's three-way class (it must agree with the label's, if that names one)."""
        if value is None:
            return from_label
        cls = str(value).strip().lower()
        if cls not in ("real", "full_synthetic", "tampered"):
            raise DataError(f"class {value!r} is not real, full_synthetic or tampered", path=path, record=record)
        if from_label is not None and from_label != cls:
            raise DataError(f"class {cls!r} disagrees with the label's class {from_label!r}", path=path, record=record)
        return cls
