"""FakeBench as released (github.com/Yixuan423/FakeBench): the JSON files of ``Evaluation/`` and the image folders.

Layout (the README's first step; the evaluation scripts join the folder to ``image_id``)::

    <root>/[Evaluation/]FakeClass.json      6,000 detection questions, one per image
    <root>/[Evaluation/]FakeClue.json       3,000 interpretation / reasoning queries (fakes only)
    <root>/[FakeBench_images/]fake_images/<image_id>
    <root>/[FakeBench_images/]real_images/<image_id>

**``authenticity`` is 0 for fake and 1 for real**; it is converted here. ``answer`` is the
expected answer to that record's question (``fake``/``real``, or ``yes``/``no`` whose meaning
depends on the question) and is checked against ``authenticity``. Fakes are named
``<generator>-NNNNN.<ext>`` (the prefixes' case varies as released: compared lower-cased);
reals follow their source's naming (ImageNet ``n########_#.JPEG``, COCO's 12 digits, DIV2K's
``####x4.png``), which gives the ``real_source`` group (inferred from the names). An image not
found where the folder says is looked for by file name anywhere under that folder.

This FakeBench "FakeClue" subtask is FakeBench's own, not FakeVLM's FakeClue dataset.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fdrbench.errors import DataError, SplitNotFound
from fdrbench.pathsafe import check_name, inside
from fdrbench.tasks.common.loading import expect, expect_str, first_existing, read_json
from fdrbench.types import FAKE, REAL

#: FakeBench's ``authenticity`` -> fdrbench's label
AUTHENTICITY = {0: FAKE, 1: REAL}
IMAGE_FOLDERS = {FAKE: "fake_images", REAL: "real_images"}
DOWNLOAD_HINT = (
    "clone github.com/Yixuan423/FakeBench (for Evaluation/*.json) into <folder>, download FakeBench_images "
    "(fake_images/ and real_images/) from the link in its README beside it, and pass --data-dir <folder>"
)
_GENERATOR = re.compile(r"^(.+?)-\d+\.[A-Za-z]+$")
REAL_SOURCES = (
    ("imagenet", re.compile(r"^n\d{8}_\d+\.jpe?g$", re.I)),
    ("coco", re.compile(r"^\d{12}\.jpe?g$", re.I)),
    ("div2k", re.compile(r"^\d{4}x\d\.png$", re.I)),
)


def question_kind(question: str) -> str | None:
    """``what`` ("... fake or real?"), ``is_fake`` ("Is this a fake image, yes or no?") or ``is_real``."""
    text = question.lower()
    if "yes or no" in text:
        if "fake" in text and "real" not in text:
            return "is_fake"
        if "real" in text and "fake" not in text:
            return "is_real"
        return None
    return "what" if "fake" in text and "real" in text else None


def expected_answer(kind: str, label: int) -> str:
    if kind == "what":
        return "fake" if label == FAKE else "real"
    asks_fake = kind == "is_fake"
    return "yes" if (label == FAKE) == asks_fake else "no"


def generator_of(image_id: str) -> str | None:
    match = _GENERATOR.match(image_id)
    return match.group(1).lower() if match else None


def real_source(image_id: str) -> str:
    return next((name for name, pattern in REAL_SOURCES if pattern.match(image_id)), "other")


def find_file(root: Path, name: str) -> Path:
    found = first_existing((root / name, root / "Evaluation" / name))
    if found is None:
        raise SplitNotFound(f"no {name} (expected <folder>/Evaluation/{name} or <folder>/{name})", path=root, hint=DOWNLOAD_HINT)
    return found


def read_records(path: Path) -> list[dict]:
    records = read_json(path)
    expect(isinstance(records, list), f"expected a JSON list of records, got {type(records).__name__}", path, None)
    for i, item in enumerate(records):
        expect(isinstance(item, dict), f"expected an object, got {type(item).__name__}", path, f"#{i}")
    return records


@dataclass
class ImageFolders:
    """Where a label's images are: ``[FakeBench_images/]{fake,real}_images/``, looked up by file name."""

    root: Path
    _index: dict[int, dict[str, Path | None]] | None = None

    def folder(self, label: int) -> Path:
        name = IMAGE_FOLDERS[label]
        found = first_existing((self.root / "FakeBench_images" / name, self.root / name, self.root / "images" / name))
        return found if found is not None else self.root / "FakeBench_images" / name

    def path(self, label: int, image_id: str, source: Path, record: str) -> Path:
        """The image file of ``image_id`` (a plain file name), kept inside the data folder."""
        check_name(image_id, "image_id", source, record)
        folder = self.folder(label)
        direct = folder / image_id
        if direct.is_file() or not folder.is_dir():
            return inside(self.root, direct, source, record, shown=image_id)
        index = self.by_name(label, folder)
        found = index.get(image_id)
        if found is None and image_id in index:
            raise DataError(f"image {image_id!r} is found more than once under {folder}", path=source, record=record)
        return inside(self.root, found or direct, source, record, shown=image_id)

    def by_name(self, label: int, folder: Path) -> dict[str, Path | None]:
        """file name -> its one path under ``folder`` (None when the name occurs twice); built on first need."""
        self._index = self._index or {}
        if label not in self._index:
            names: dict[str, Path | None] = {}
            for path in folder.rglob("*"):
                if path.is_file():
                    names[path.name] = None if path.name in names else path
            self._index[label] = names
        return self._index[label]


def fakeclass_records(path: Path) -> Iterator[tuple[str, dict, int, str]]:
    """(record, item, label, question kind) of every FakeClass record, checked."""
    for i, item in enumerate(read_records(path)):
        image_id = expect_str(item.get("image_id"), "'image_id'", path, f"#{i}")
        record = f"#{i} ({image_id})"
        raw = item.get("authenticity")
        expect(
            raw in AUTHENTICITY and not isinstance(raw, bool),
            f"unknown authenticity {raw!r}; FakeBench uses 0 (fake) and 1 (real)",
            path,
            record,
        )
        question = expect_str(item.get("question"), "'question'", path, record)
        kind = question_kind(question)
        expect(kind is not None, f"question {question!r} is neither 'fake or real?' nor a yes/no question about one of them", path, record)
        yield record, item, AUTHENTICITY[raw], kind
