"""Prediction store: torn tails, corruption, locking, merge rules, atomic JSON."""

from __future__ import annotations

import json

import pytest

from fdrbench.errors import FdrbenchError, ResultsError
from fdrbench.store import (
    PredictionWriter,
    completed_ids,
    iter_records,
    load_records,
    prediction_files,
    predictions_path,
    read_json,
    write_json_atomic,
)

TRUTH = {"label": 1}


def test_torn_last_line_is_ignored_then_cut_before_appending(tmp_path):
    path = tmp_path / "predictions.jsonl"
    path.write_bytes(b'{"sample_id": "a"}\n{"sample_id": "b", "lab')
    assert [r["sample_id"] for _, r in iter_records(path)] == ["a"]
    with PredictionWriter(path) as writer:
        writer.write([{"sample_id": "c"}])
    assert path.read_bytes() == b'{"sample_id": "a"}\n{"sample_id": "c"}\n'


def test_file_that_is_only_a_torn_line(tmp_path):
    path = tmp_path / "predictions.jsonl"
    path.write_bytes(b'{"sample_id": "a", "x"')
    assert list(iter_records(path)) == []
    with PredictionWriter(path) as writer:
        writer.write([{"sample_id": "b"}])
    assert path.read_text() == '{"sample_id": "b"}\n'


def test_corrupt_middle_line_is_an_error_naming_file_and_line(tmp_path):
    path = tmp_path / "predictions.jsonl"
    path.write_text('{"sample_id": "a"}\nGARBAGE\n{"sample_id": "b"}\n')
    with pytest.raises(ResultsError, match=r"predictions.jsonl: line 2 is not valid JSON"):
        list(iter_records(path))
    path.write_text("[1, 2]\n")
    with pytest.raises(ResultsError, match="line 1 is not a JSON object"):
        list(iter_records(path))


def test_second_writer_is_refused(tmp_path):
    path = tmp_path / "predictions.jsonl"
    with PredictionWriter(path), pytest.raises(FdrbenchError, match="another fdrbench process"):
        PredictionWriter(path)
    PredictionWriter(path).close()  # released after the first closes


def test_merge_prefers_success_then_later_records(tmp_path):
    (tmp_path / "predictions.jsonl").write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"sample_id": "a", "error": "boom", "n_tokens": 1, "truth": TRUTH},
                {"sample_id": "b", "error": None, "n_tokens": 1, "truth": TRUTH},
                {"sample_id": "a", "error": None, "n_tokens": 2, "truth": TRUTH},
                {"sample_id": "b", "error": "late failure", "n_tokens": 2, "truth": TRUTH},
                {"sample_id": "c", "error": None, "n_tokens": 1, "truth": TRUTH},
                {"sample_id": "c", "error": None, "n_tokens": 2, "truth": TRUTH},
            ]
        )
        + "\n"
    )
    (tmp_path / "predictions.rank1.jsonl").write_text(json.dumps({"sample_id": "d", "error": "x", "truth": TRUTH}) + "\n")
    merged, dups = load_records(tmp_path)
    assert dups == 3
    assert {k: v.n_tokens for k, v in merged.items()} == {"a": 2, "b": 1, "c": 2, "d": None}
    assert completed_ids(tmp_path) == {"a", "b", "c", "d"}
    assert completed_ids(tmp_path, retry_failed=True) == {"a", "b", "c"}


def test_rank_files_and_paths(tmp_path):
    assert predictions_path(tmp_path).name == "predictions.jsonl"
    assert predictions_path(tmp_path, 3, 4).name == "predictions.rank3.jsonl"
    for name in ("predictions.rank10.jsonl", "predictions.rank2.jsonl", "predictions.jsonl", "other.jsonl"):
        (tmp_path / name).write_text("")
    assert [p.name for p in prediction_files(tmp_path)] == ["predictions.jsonl", "predictions.rank2.jsonl", "predictions.rank10.jsonl"]


def test_records_without_sample_id_are_rejected(tmp_path):
    (tmp_path / "predictions.jsonl").write_text('{"label": 1, "truth": {"label": 1}}\n')
    with pytest.raises(ResultsError, match="predictions.jsonl: line 1: missing field 'sample_id'"):
        load_records(tmp_path)
    (tmp_path / "predictions.jsonl").write_text('{"sample_id": "a", "truth": {"label": "fake"}}\n')
    with pytest.raises(ResultsError, match="line 1: field 'truth.label': expected int, got str"):
        load_records(tmp_path)


def test_atomic_json(tmp_path):
    path = tmp_path / "sub" / "scores.json"
    write_json_atomic(path, {"a": 1})
    assert read_json(path) == {"a": 1}
    with pytest.raises(ValueError):
        write_json_atomic(path, {"a": float("nan")})
    assert read_json(path) == {"a": 1}, "a failed write leaves the old file"
    assert [p.name for p in path.parent.iterdir()] == ["scores.json"], "no temporary file left behind"
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ResultsError, match="bad.json: manifest is not valid JSON"):
        read_json(tmp_path / "bad.json", "manifest")


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_atomic_files_get_the_mode_open_would_give(tmp_path, umask, mode):
    """Not mkstemp's private 0o600: a results folder must stay readable by whoever the umask lets read it
    (a group, a web server, the leaderboard container's user)."""
    import os

    previous = os.umask(umask)
    try:
        write_json_atomic(tmp_path / "scores.json", {"a": 1})
        write_json_atomic(tmp_path / "scores.json", {"a": 2})  # replacing keeps the same rule
        with open(tmp_path / "plain.json", "w") as handle:
            handle.write("{}")
    finally:
        os.umask(previous)
    assert (tmp_path / "scores.json").stat().st_mode & 0o777 == mode == (tmp_path / "plain.json").stat().st_mode & 0o777
    assert read_json(tmp_path / "scores.json") == {"a": 2}
