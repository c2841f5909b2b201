"""A miniature DeepfakeJudge-Dataset, in the readings its undocumented schema allows.

``schema="answer"``: ms-swift records with ``messages`` and ``images`` (``./``-prefixed paths) and
an ``answer`` of ``real``/``fake`` (the 3rd-party loaders' reading; edits cannot be told apart).
``schema="label"``: a ``label`` of ``real``/``fake``/``edited`` (the judges' vocabulary) and a
``generator``. The reason split's fakes carry their rationale either as a ``reasoning`` field with
``bboxes`` and ``flags`` (``schema="label"``) or only as the assistant turn's ``<reasoning>``.
"""

from __future__ import annotations

from pathlib import Path

from fdrbench.tasks.common.miniature import COLOURS, write_image, write_jsonl

DETECT = [("r1.jpg", "real", None), ("r2.jpg", "real", None), ("t1.png", "fake", "SeedDream"), ("e1.png", "edited", "Flux-Kontext-Max")]
REASON = [("r1.jpg", "real", None), ("t1.png", "fake", "SeedDream"), ("e1.png", "edited", "Qwen-Edit-2509")]


def _record(name: str, word: str, generator: str | None, schema: str, reasoning: str | None) -> dict:
    shown = "fake" if word == "edited" and schema == "answer" else word
    answer = f"<reasoning>{reasoning}</reasoning><answer>{shown}</answer>" if reasoning else f"<answer>{shown}</answer>"
    record: dict = {
        "messages": [
            {"role": "user", "content": "<image>Is this image real or fake?"},
            {"role": "assistant", "content": answer},
        ],
        "images": [f"./images/{name}" if schema == "answer" else f"images/{name}"],
    }
    if schema == "answer":
        record["answer"] = shown
    else:
        record["label"] = word
        if generator:
            record["generator"] = generator
    return record


def build(root: Path, schema: str = "label") -> Path:
    """``root/dfj-bench/{dfj-detect,dfj-reason}/{images/, data.jsonl}``."""
    for split, rows in (("dfj-detect", DETECT), ("dfj-reason", REASON)):
        folder = root / "dfj-bench" / split
        records = []
        for i, (name, word, generator) in enumerate(rows):
            write_image(folder / "images" / name, COLOURS[i])
            text = f"The {name} image shows warped text on a sign." if split == "dfj-reason" and word != "real" else None
            record = _record(name, word, generator, schema, text)
            if text and schema == "label":
                record.update(reasoning=text, bboxes=[[1, 1, 5, 5]], flags={"text_artifacts": True})
            records.append(record)
        write_jsonl(folder / "data.jsonl", records)
    return root
