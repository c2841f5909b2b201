"""Prediction records written as the plain dicts of a ``predictions.jsonl`` line, scored through the typed contract."""

from __future__ import annotations

from fdrbench.record import Record
from fdrbench.stages.score import score_task


def to_record(line: dict | Record) -> Record:
    """A line as the contract's type (types checked; a test may build a line the semantic checks refuse)."""
    return line if isinstance(line, Record) else Record.from_json(line, strict=False)


def to_records(lines) -> list[Record]:
    return [to_record(line) for line in lines]


def score_records(lines, task, protocols=None, settings=None) -> dict[str, dict]:
    """``score_task`` over dict lines."""
    return score_task(to_records(lines), task, protocols, settings)


def line_for(sample, **prediction) -> dict:
    """A prediction line for a loaded sample: the given prediction fields and the sample's own truth."""
    import msgspec

    return {"sample_id": sample.id, "parse_ok": True, **prediction, "truth": msgspec.to_builtins(sample.truth())}
