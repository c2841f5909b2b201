"""FakeClue's released annotation file read into Samples.

Layout, as released on HF ``lingcco/FakeClue`` and unpacked per the FakeVLM README::

    <root>/data_json/{train,test}.json
    <root>/{train,test}/<source>/{fake,real}/...   (or <root>/playground/data/<split>/...)

Each record's ``image`` is relative to its split folder; its first component is the source
dataset (chameleon, doc, ff++, genimage, satellite), ``cate`` the category (animal, deepfake,
doc, human, object, satellite, scene). **FakeClue's ``label`` is 1 for real and 0 for fake**;
it is converted here to fdrbench's fake = 1. The answer starts with the verdict sentence
("This is a fake image.") followed by the evidence; which of the two texts the paper's
ROUGE-L/CSS compared against is not published, so ``reference="answer"`` uses the full answer
and ``reference="explanation"`` the answer without its verdict sentence (both are kept in the
reference parts).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fdrbench.tasks.common.loading import (
    LoadContext,
    SplitNotFound,
    expect,
    expect_str,
    first_existing,
    read_json,
    record_image,
    relative_to,
)
from fdrbench.types import FAKE, REAL, Reference, Sample

CATEGORIES = ("animal", "deepfake", "doc", "human", "object", "satellite", "scene")
#: FakeClue's own label values -> fdrbench's
LABELS = {1: REAL, 0: FAKE}
DOWNLOAD_HINT = (
    "download data_json/ and the image zips of HF lingcco/FakeClue, unzip the images into <folder>/test/ "
    "(and <folder>/train/) and pass --data-dir <folder>"
)


def split_answer(answer: str) -> tuple[str, str]:
    """(verdict sentence, evidence): the text up to and including the first '. ', and the rest."""
    head, sep, rest = answer.partition(". ")
    if not sep:
        return answer.strip(), ""
    return (head + ".").strip(), rest.strip()


def annotation_file(data_dir: Path, split: str) -> Path:
    found = first_existing(base / f"{split}.json" for base in (data_dir / "data_json", data_dir))
    if found is None:
        raise SplitNotFound(f"no data_json/{split}.json", path=data_dir, hint=DOWNLOAD_HINT)
    return found


def image_root(data_dir: Path, split: str) -> Path:
    found = first_existing((data_dir / split, data_dir / "playground" / "data" / split, data_dir / "images" / split))
    return found if found is not None else data_dir / split


def split_samples(context: LoadContext, data_dir: Path, split: str, reference: str) -> Iterator[Sample]:
    """Every record of one split's annotation file; ``reference`` is ``answer`` or ``explanation``."""
    path = annotation_file(data_dir, split)
    records = read_json(path)
    expect(isinstance(records, list), f"expected a JSON list of records, got {type(records).__name__}", path, None)
    yield from record_samples(context, records, path, image_root(data_dir, split), data_dir, reference)


def record_samples(context: LoadContext, records: list, path: Path, images: Path, data_dir: Path, reference: str) -> Iterator[Sample]:
    seen: dict[str, int] = {}
    for i, item in enumerate(records):
        record = f"#{i}"
        expect(isinstance(item, dict), f"expected an object, got {type(item).__name__}", path, record)
        image = expect_str(item.get("image"), "'image'", path, record)
        record = f"#{i} ({image})"
        raw_label = item.get("label")
        expect(
            raw_label in LABELS and not isinstance(raw_label, bool),
            f"unknown label {raw_label!r}; FakeClue labels are 1 (real) or 0 (fake)",
            path,
            record,
        )
        category = expect_str(item.get("cate"), "'cate' (the category)", path, record)
        conversations = item.get("conversations")
        expect(
            isinstance(conversations, list) and len(conversations) >= 2 and all(isinstance(t, dict) for t in conversations[:2]),
            "expected 'conversations': a human turn then a gpt turn",
            path,
            record,
        )
        human, gpt = conversations[0], conversations[1]
        expect(human.get("from") == "human" and gpt.get("from") == "gpt", "expected the turns from 'human' then 'gpt'", path, record)
        question = expect_str(human.get("value"), "the human turn's 'value'", path, record)
        answer = expect_str(gpt.get("value"), "the gpt turn's 'value'", path, record)
        image_path, _ = record_image(images, image, record, path)
        if not context.image_present(image_path, record, path):
            continue
        seen[image] = seen.get(image, 0) + 1
        sample_id = image if seen[image] == 1 else f"{image}#{seen[image]}"
        verdict, explanation = split_answer(answer)
        parts = {"answer": answer, "verdict": verdict, "explanation": explanation}
        meta = {"question_raw": question, "fakeclue_label": raw_label}
        for key in ("width", "height"):
            if isinstance(item.get(key), int):
                meta[key] = item[key]
        yield Sample(
            id=sample_id,
            label=LABELS[raw_label],
            image=image_path,
            image_ref=relative_to(image_path, data_dir),
            group={"category": category, "source": image.split("/", 1)[0]},
            reference=Reference(text=answer if reference == "answer" else explanation, parts=parts),
            meta=meta,
        )
