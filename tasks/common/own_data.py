"""What the tasks over one's own data share (``folder``, ``manifest``, ``hf``): declared label polarity,
flags resolved from the data, content identities, and the generator table of every known spelling.

- **Label polarity is declared, never guessed.** ``fake_is=1`` (or ``fake_is=fake``) names the
  value that marks a fake; the other value found is real, and a third value is an error naming it
  (``real_is`` names the real value outright). ``label_map=0:real,1:fake`` maps every value (also
  to ``full_synthetic`` / ``tampered`` for three-way data). A dataset whose label column is a
  ClassLabel needs neither when its names say which class is which (``real`` / ``fake``, ...).
- **Masks, reference texts and three-way classes are found in the data** (options ``masks``,
  ``references``, ``label_space``, default ``auto``): on loading, ``auto`` becomes what the
  samples carry and is recorded among the run's task options, so a re-score builds the same
  protocols from the stored run alone.
- **The data is named by its content**: every sample's truth carries the sha256 of its image file
  (``content_hash=false`` turns it off), or for a Hub dataset its id and resolved commit, so the
  data fingerprint (and the leaderboard's cohorts) tell two folders with the same file names apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fdrbench.errors import DataError, FdrbenchError
from fdrbench.generators import GeneratorTable
from fdrbench.pathsafe import inside
from fdrbench.tasks.common.generators import general_table
from fdrbench.tasks.common.loading import DatasetTask, as_bool, as_choice, relative_to
from fdrbench.tasks.common.masks import RULES, BinaryMask
from fdrbench.types import FAKE, REAL, TERNARY_CLASSES, Sample, label_of_class

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")
#: ClassLabel names read as a class without a label_map (compared lower-cased)
CLASS_WORDS = {
    "real": "real",
    "authentic": "real",
    "nature": "real",
    "natural": "real",
    "fake": "fake",
    "ai": "fake",
    "generated": "fake",
    "ai-generated": "fake",
    "ai_generated": "fake",
    "synthetic": "fake",
    "full_synthetic": "full_synthetic",
    "tampered": "tampered",
}
FLAG_CHOICES = ("auto", True, False)
_HASH_CHUNK = 1 << 20


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


@dataclass(frozen=True)
class FileDigest:
    """``Sample.content`` for an image file: its sha256, computed when the truth is first taken."""

    path: str

    def __call__(self) -> str:
        digest = hashlib.sha256()
        try:
            with open(self.path, "rb") as handle:
                for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
                    digest.update(chunk)
        except OSError as exc:
            raise DataError(f"cannot read the image to hash it ({exc})", path=self.path) from exc
        return f"sha256:{digest.hexdigest()}"


# --------------------------------------------------------------------------- label polarity


def _class_name(value: Any, where: str) -> str:
    name = str(value).strip().lower()
    if name not in ("real", "fake", *TERNARY_CLASSES):
        raise FdrbenchError(f"{where}: {value!r} is not a class; use real, fake, full_synthetic or tampered")
    return name


def parse_label_map(text: Any) -> dict[str, str]:
    """``0:real,1:fake`` (or a JSON object) -> ``{"0": "real", "1": "fake"}``."""
    pairs = text.items() if isinstance(text, dict) else [p.partition(":")[::2] for p in str(text).split(",") if p.strip()]
    out = {str(k).strip(): _class_name(v, "task option 'label_map'") for k, v in pairs}
    if not out or "" in out:
        raise FdrbenchError(f"task option 'label_map' must map values to classes, e.g. 0:real,1:fake; got {text!r}")
    return out


def _key(value: Any) -> str:
    """A label value as it is compared with the declared ones (``1``, ``"1"`` and ``True`` are ``"1"``)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True)
class LabelRule:
    """How the raw values of a label column become classes; built by :func:`label_rule`."""

    classes: dict[str, str]
    source: str

    def __call__(self, value: Any, path: object, record: object) -> tuple[int, str | None]:
        """(label, three-way class or None) of one raw value; an undeclared value is an error."""
        cls = self.classes.get(_key(value))
        if cls is None:
            raise DataError(
                f"label {value!r} is none of the declared values {sorted(self.classes)} ({self.source})", path=path, record=record
            )
        label = REAL if cls == "real" else FAKE
        return label, (cls if cls in TERNARY_CLASSES else None)


def label_rule(
    values: Iterable[Any], fake_is: Any = None, real_is: Any = None, label_map: Any = None, names: Sequence[str] | None = None
) -> LabelRule:
    """The rule for a column with these raw ``values``: from ``label_map``, ``fake_is`` / ``real_is``, or
    the column's ClassLabel ``names``; anything else is an error saying what to declare."""
    seen = sorted({_key(v) for v in values})
    if label_map not in (None, ""):
        return LabelRule(parse_label_map(label_map), "the label_map task option")
    if fake_is is not None:
        fake, real = _key(fake_is), (_key(real_is) if real_is is not None else None)
        others = [v for v in seen if v != fake]
        if real is None and len(others) > 1:
            raise FdrbenchError(
                f"the labels hold {seen}: with fake_is={fake_is!r} more than one value is left for real; "
                "name it with real_is, or map every value with label_map"
            )
        real = real if real is not None else (others[0] if others else None)
        return LabelRule({fake: "fake", **({real: "real"} if real is not None else {})}, f"fake_is={fake_is!r}")
    if names:
        classes = {}
        for index, name in enumerate(names):
            cls = CLASS_WORDS.get(str(name).strip().lower())
            if cls is None:
                raise FdrbenchError(
                    f"the label column's class names {list(names)} do not say which is real; pass label_map, e.g. 0:real,1:fake"
                )
            classes[str(index)] = cls
            classes[str(name)] = cls
        return LabelRule(classes, f"the dataset's ClassLabel names {list(names)}")
    raise FdrbenchError(
        f"the label polarity must be declared, never guessed (the labels hold {seen[:6]}): "
        "pass --task-arg fake_is=<value of a fake> (e.g. fake_is=1 or fake_is=fake), or label_map=0:real,1:fake"
    )


# --------------------------------------------------------------------------- the shared task


class OwnDataTask(DatasetTask):
    """A task over a user's own data: flags resolved on load, content identity, every generator spelling."""

    extra_options = {"masks": "auto", "references": "auto", "label_space": "auto", "mask_rule": "gt127", "content_hash": True}

    def _flag(self, name: str) -> bool:
        value = self.options.get(name, "auto")
        return value is True or (isinstance(value, str) and value.lower() == "true")

    @property
    def has_masks(self) -> bool:  # type: ignore[override]
        return self._flag("masks")

    @property
    def has_reference_text(self) -> bool:  # type: ignore[override]
        return self._flag("references")

    @property
    def label_space(self) -> str:  # type: ignore[override]
        return "ternary" if self.options.get("label_space") == "ternary" else "binary"

    def __init__(self, **options: Any):
        super().__init__(**options)
        for name in ("masks", "references"):
            value = self.options.get(name, "auto")
            if value != "auto":
                self.options[name] = as_bool(value, name)
        as_choice(self.options.get("label_space", "auto"), "label_space", ("auto", "binary", "ternary"))
        as_choice(self.option("mask_rule"), "mask_rule", (*RULES, "values"))
        self.hash_content = as_bool(self.options.get("content_hash", self.extra_options.get("content_hash", False)), "content_hash")

    def load(self, data_dir=None, split=None, limit=None, seed=0) -> list[Sample]:
        samples = super().load(data_dir, split, limit, seed)
        self.resolve_flags(samples)
        return samples

    def resolve_flags(self, samples: list[Sample]) -> None:
        """``auto`` flags become what the samples carry; the values are recorded with the run."""
        if self.options.get("masks", "auto") == "auto":
            self.options["masks"] = any(s.mask is not None for s in samples)
        if self.options.get("references", "auto") == "auto":
            self.options["references"] = any(s.reference.all_texts() for s in samples)
        if self.options.get("label_space", "auto") == "auto":
            self.options["label_space"] = "ternary" if samples and all(s.cls is not None for s in samples) else "binary"
        elif self.options["label_space"] == "ternary" and any(s.cls is None for s in samples):
            missing = next(s.id for s in samples if s.cls is None)
            raise DataError(f"label_space=ternary, but sample {missing!r} has no three-way class")

    def generator_table(self) -> GeneratorTable | None:
        """Every generator under every spelling the shipped table knows (canonical names, aliases)."""
        return general_table()

    def content_for(self, path: Path) -> FileDigest | None:
        return FileDigest(str(path)) if self.hash_content else None

    def mask_for(self, path: Path, record: str, image: Path | None = None) -> BinaryMask:
        """A mask file, read with the ``mask_rule`` option (``gt127``, ``eq255`` or ``values``)."""
        return BinaryMask(record=record, rule=self.option("mask_rule"), path=str(path), image_path=str(image) if image else None)


def image_files(folder: Path, root: Path, report) -> Iterator[Path]:
    """Image files under ``folder`` (recursively, sorted), each kept inside ``root``; others counted."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if not is_image_file(path):
            report.add("non_image_files", path.relative_to(root).as_posix())
            continue
        inside(root, path, shown=path.relative_to(root).as_posix())
        yield path


def sample_of(task: OwnDataTask, sample_id: str, label: int, cls: str | None, path: Path, root: Path, **fields: Any) -> Sample:
    """A sample of a user's image file, with its content identity (a class that disagrees with the label is an error)."""
    if cls is not None and label_of_class(cls) != label:
        raise DataError(f"class {cls!r} disagrees with label {'fake' if label == FAKE else 'real'}", record=sample_id)
    return Sample(
        id=sample_id, label=label, cls=cls, image=path, image_ref=relative_to(path, root), content=task.content_for(path), **fields
    )
