"""What every released-benchmark loader shares: strict annotation reading, missing-image policy, a load report.

Annotation files are untrusted and often quirky, so each reader here fails with a
:class:`~fdrbench.errors.DataError` that names the file, the record and what was expected.
A missing image is an error by default; the ``skip_missing`` option turns it into a counted,
reported skip (``fdrbench run --skip-missing``). Whatever a loader drops or notices is counted
in :class:`LoadReport`, printed as a warning after loading and recorded in the run manifest.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdrbench.api.task import Task
from fdrbench.errors import DataError, FdrbenchError, SplitNotFound
from fdrbench.generators import GeneratorTable
from fdrbench.pathsafe import safe_join
from fdrbench.types import Sample

SKIP_HINT = "pass --skip-missing (or --task-arg skip_missing=true) to skip missing images and count them instead"
IMAGE_TOKEN = "<image>"
#: how many examples of each kind of skip or anomaly the report keeps
EXAMPLES_KEPT = 5


@dataclass
class LoadReport:
    """Counts (and a few examples) of what a load skipped or noticed, by kind."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, example: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        kept = self.examples.setdefault(kind, [])
        if len(kept) < EXAMPLES_KEPT:
            kept.append(example)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def to_dict(self) -> dict:
        return {"counts": dict(self.counts), "examples": {k: list(v) for k, v in self.examples.items()}}

    def summary(self) -> str:
        parts = [f"{n} {kind.replace('_', ' ')} (e.g. {self.examples[kind][0]})" for kind, n in sorted(self.counts.items())]
        return "; ".join(parts)


def as_bool(value: Any, name: str) -> bool:
    """A boolean task option given as a bool, 0/1 or a true/false string."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "1", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise FdrbenchError(f"task option {name!r} must be true or false, got {value!r}")


def as_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise FdrbenchError(f"task option {name!r} must be one of {', '.join(choices)}; got {value!r}")
    return str(value)


@dataclass
class LoadContext:
    """What a family's loader needs from the task that runs it: the missing-image policy and the
    report it fills. Loaders take this, not the task, so they read files and nothing else."""

    skip_missing: bool = False
    report: LoadReport = field(default_factory=LoadReport)

    def image_present(self, path: Path, record: object, source: object = None) -> bool:
        """True if the image file exists; otherwise a DataError, or a counted skip with ``skip_missing``."""
        if path.is_file():
            return True
        if self.skip_missing:
            self.report.add("missing_images", f"{record}: {path}")
            return False
        where = f" (listed in {source})" if source is not None else ""
        raise DataError(f"image file not found: {path}{where}", record=record, hint=SKIP_HINT)


class DatasetTask(Task):
    """A task read from a released dataset folder, with the ``skip_missing`` option and a load report.

    Subclasses list their own options in ``extra_options`` (name -> default) and read them with
    :meth:`option`; their loaders get :attr:`context` (a fresh one for every :meth:`load`).
    """

    extra_options: dict[str, Any] = {}

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.skip_missing = as_bool(self.options.get("skip_missing", False), "skip_missing")
        self.context = LoadContext(self.skip_missing)

    @property
    def report(self) -> LoadReport:
        return self.context.report

    def option_names(self) -> tuple[str, ...]:
        return ("skip_missing", *self.extra_options)

    def option(self, name: str) -> Any:
        return self.options.get(name, self.extra_options[name])

    def option_value(self, name: str) -> Any:
        if name == "skip_missing":
            return self.skip_missing
        return self.option(name) if name in self.extra_options else super().option_value(name)

    def load(self, data_dir=None, split=None, limit=None, seed=0) -> list[Sample]:
        self.context = LoadContext(self.skip_missing)
        samples = super().load(data_dir, split, limit, seed)
        if self.report:
            warnings.warn(f"task {self.name!r}: {self.report.summary()}", stacklevel=2)
        return samples

    def load_report(self) -> dict:
        return self.report.to_dict()

    def generator_table(self) -> GeneratorTable | None:
        """The shipped generator table's names for this task (``tasks/common/generators.json``), if it covers it."""
        from fdrbench.tasks.common.generators import table_for

        return table_for(self.name)


class _NotJSON(ValueError):
    pass


def _not_json(name: str) -> Any:
    raise _NotJSON(f"{name} is not a JSON value")


def read_json(path: Path, encoding: str = "utf-8") -> Any:
    """Parse one annotation file; a missing, undecodable or malformed file is a DataError naming it."""
    if not path.is_file():
        raise SplitNotFound("annotation file not found", path=path)
    try:
        with open(path, encoding=encoding) as handle:
            return json.load(handle, parse_constant=_not_json)
    except _NotJSON as exc:
        raise DataError(f"not valid JSON ({exc})", path=path) from exc
    except UnicodeError as exc:
        raise DataError(f"cannot decode the file as {encoding} ({exc})", path=path) from exc
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc})", path=path) from exc


def read_text(path: Path) -> str:
    """A UTF-8 annotation file's text (a byte-order mark dropped); undecodable bytes are a DataError naming it."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeError as exc:
        raise DataError(f"cannot decode the file as UTF-8 ({exc})", path=path) from exc


def jsonl_objects(path: Path, text: str | None = None) -> Iterator[tuple[str, dict]]:
    """(``line N``, object) for each non-blank line of a JSONL file (``text``: its contents, when read
    already); a line that is not a JSON object is a DataError naming the file and the line."""
    for number, line in enumerate((read_text(path) if text is None else text).splitlines(), start=1):
        if not line.strip():
            continue
        record = f"line {number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON ({exc})", path=path, record=record) from exc
        expect(isinstance(item, dict), f"expected an object, got {type(item).__name__}", path, record)
        yield record, item


def expect(condition: bool, message: str, path: object, record: object) -> None:
    """Raise a DataError naming the file and record unless ``condition`` holds."""
    if not condition:
        raise DataError(message, path=path, record=record)


def expect_str(value: Any, what: str, path: object, record: object, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise DataError(f"expected {what} as a {'string' if allow_empty else 'non-empty string'}, got {value!r}", path=path, record=record)
    return value


def record_image(root: Path, relative: Any, record: object, source: object) -> tuple[Path, str]:
    """The image an annotation names, kept inside ``root``: (absolute path, posix path relative to root)."""
    relative = expect_str(relative, "an image path", source, record)
    path = safe_join(root, relative, record=record, source=source)
    return path, path.relative_to(root.resolve()).as_posix()


def strip_image_token(text: str) -> str:
    """A question as a model without LLaVA-style placeholders sees it: ``<image>`` tokens and the
    newlines right after them removed, the rest verbatim (the raw text stays in ``meta['question_raw']``)."""
    out = text
    while IMAGE_TOKEN in out:
        head, _, tail = out.partition(IMAGE_TOKEN)
        out = head + tail.lstrip("\n")
    return out.lstrip()


def first_existing(candidates: Iterable[Path]) -> Path | None:
    for path in candidates:
        if path.exists():
            return path
    return None


def relative_to(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` as a posix string (both resolved), for ``Sample.image_ref``."""
    return Path(os.path.relpath(path.resolve(), root.resolve())).as_posix()
