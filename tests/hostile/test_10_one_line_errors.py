"""Class 10: each of these is one line of error (or that sample's error), never a traceback, and
loses nothing already computed: a decompression bomb, a NUL byte in an annotation key, an --out
that is a file, read-only or full, a NaN setting, run files replaced by folders, a manifest field
of the wrong type (validate and score agree), and malformed ``extra`` or ``class_probs``."""

from __future__ import annotations

import errno
import json
import os
import shutil
import struct
import zlib

import pytest

from fdrbench.store import PredictionWriter
from fdrbench.tasks.ddvqa.miniature import build as build_ddvqa
from fdrbench.tasks.demo import DemoTask
from fdrbench.tasks.mmfr.miniature import build as build_mmfr

from .kit import HASH, demo_run, edit_json, invoke, one_line_error, read_lines, run_demo, snapshot


def bomb_png(side: int = 30_000) -> bytes:
    """A tiny PNG whose header claims ``side`` x ``side`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def base_run(out, *extra):
    return run_demo(out, *extra, n_boot=0)


@pytest.fixture
def demo_copy(demo_root, tmp_path):
    copy = tmp_path / "demo-data"
    shutil.copytree(demo_root, copy)
    return copy


def test_a_decompression_bomb_mask_or_image_fails_its_sample_only(demo_copy, tmp_path):
    samples = DemoTask().load(demo_copy, limit=12)
    tampered = next(s for s in samples if s.cls == "tampered")
    fake = next(s for s in samples if s.cls == "full_synthetic")
    tampered.mask.write_bytes(bomb_png())
    fake.image.write_bytes(bomb_png())
    out = tmp_path / "results"
    ran = base_run(out, "--data-dir", demo_copy)
    assert ran.exit_code == 0, ran.output
    records = {r["sample_id"]: r for r in read_lines(next(out.rglob("predictions.jsonl")))}
    assert len(records) == 12
    assert "ground-truth mask unreadable" in records[tampered.id]["error"] and "decompression bomb" in records[tampered.id]["error"]
    assert "decompression bomb" in records[fake.id]["error"]
    assert sum(1 for r in records.values() if r["error"]) == 2
    checked = invoke("data", "check", "demo", "--data-dir", demo_copy, "--split", "test", "--no-progress")
    assert checked.exit_code == 1 and "Traceback" not in checked.output


@pytest.mark.parametrize("task", ["mmfr_eval", "ddvqa"])
def test_a_nul_byte_in_an_annotation_key(tmp_path, task):
    if task == "mmfr_eval":
        root = build_mmfr(tmp_path / "data")
        path = root / "dataset" / "evaluation_sets" / "gigagan" / "gigagan_reasoning.json"
    else:
        root = build_ddvqa(tmp_path / "data")
        path = root / "DQ_FF++" / "test_set" / "Deepfakes" / "Deepfakes.json"
    data = json.loads(path.read_text())
    key = next(iter(data))
    data[key.replace("0", "0\x00", 1)] = data.pop(key)
    path.write_text(json.dumps(data))
    out = tmp_path / "results"
    one_line_error(invoke("run", "-m", HASH, "-t", task, "--data-dir", root, "--out", out, "--no-progress"), 2, path.name, "NUL byte")


def test_out_that_is_a_file(demo_root, tmp_path):
    (tmp_path / "results").write_text("not a folder")
    one_line_error(base_run(tmp_path / "results"), 2, "is a file, not a folder")
    assert (tmp_path / "results").read_text() == "not a folder"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="permissions do not bind the superuser")
def test_out_that_is_read_only(demo_root, tmp_path):
    (tmp_path / "results").mkdir(mode=0o555)
    one_line_error(base_run(tmp_path / "results"), 2, "not writable")


def test_out_on_a_read_only_filesystem(demo_root, tmp_path, monkeypatch):
    import fdrbench.store as store

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), kwargs.get("dir"))

    monkeypatch.setattr(store.tempfile, "mkstemp", refuse)
    one_line_error(base_run(tmp_path / "results"), 2, "Read-only file system")


def test_a_full_disk_keeps_the_batches_written_and_resumes(demo_root, tmp_path, monkeypatch):
    real = PredictionWriter.write
    calls = []

    def fill_up(self, records):
        calls.append(len(records))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))
        real(self, records)

    monkeypatch.setattr(PredictionWriter, "write", fill_up)
    out = tmp_path / "results"
    before = snapshot(tmp_path, skip=[out])
    one_line_error(base_run(out), 2, "No space left on device", "re-run the same command to resume")
    predictions = next(out.rglob("predictions.jsonl"))
    assert len(read_lines(predictions)) == 4, "the first batch is kept"
    monkeypatch.setattr(PredictionWriter, "write", real)
    assert base_run(out).exit_code == 0
    ids = [r["sample_id"] for r in read_lines(predictions)]
    assert len(ids) == len(set(ids)) == 12
    assert snapshot(tmp_path, skip=[out]) == before


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "[1, NaN]"])
def test_a_setting_that_is_not_a_finite_number(demo_root, tmp_path, value):
    one_line_error(base_run(tmp_path / "results", "-M", f"delay={value}"), 2, "delay=", "not a finite number")
    assert not (tmp_path / "results").exists() or not list((tmp_path / "results").rglob("manifest.json"))


@pytest.fixture
def finished(tmp_path):
    return demo_run(tmp_path / "results")


@pytest.mark.parametrize("name", ["predictions.jsonl", "manifest.json", "scores.json"])
def test_run_files_replaced_by_folders(finished, tmp_path, name):
    target = finished / name
    saved = target.read_bytes()
    target.unlink()
    target.mkdir()
    (target / "inside.txt").write_text("x")
    out = tmp_path / "results"
    one_line_error(base_run(out), 2, name)
    one_line_error(invoke("score", finished), 2, name)
    validated = invoke("validate", finished)
    assert validated.exit_code == 1 and "Traceback" not in validated.output and name in validated.output
    assert (target / "inside.txt").read_text() == "x", "nothing was deleted"
    shutil.rmtree(target)
    target.write_bytes(saved)
    assert invoke("score", finished).exit_code == 0, "the run is whole again once the file is back"


#: a manifest field edited to the wrong type, by the field's path as the contract names it
MANIFEST_EDITS = {
    "timing": lambda m: m.update(timing=[1]),
    "task_info.n_samples": lambda m: m["task_info"].update(n_samples="12"),
    "settings.n_boot": lambda m: m["settings"].update(n_boot="20"),
    "settings.protocols": lambda m: m["settings"].update(protocols="strict"),
    "judge.sessions": lambda m: m.update(judge={"sessions": 5}),
}


@pytest.mark.parametrize("field", list(MANIFEST_EDITS))
def test_validate_and_score_agree_on_the_manifest(finished, field):
    edit_json(finished / "manifest.json", MANIFEST_EDITS[field])
    predictions = (finished / "predictions.jsonl").read_bytes()
    validated = invoke("validate", finished)
    assert validated.exit_code == 1 and f"'{field}'" in validated.output, validated.output
    one_line_error(invoke("score", finished), 2, f"'{field}'")
    assert (finished / "predictions.jsonl").read_bytes() == predictions


RECORD_EDITS = {
    "extra is a string": (lambda r: r.update(extra="note"), "field 'extra': expected object, got str"),
    "extra holds a list of objects with a bad key": (lambda r: r.update(extra={"a": [{"b": {"c": None}}], "d": {"1": 2}}), None),
    "class_probs names an unknown class": (lambda r: r.update(class_probs={"alien": 0.5}), "class_probs must map class names"),
    "class_probs holds a string": (lambda r: r.update(class_probs={"real": "0.5"}), "field 'class_probs.real': expected float, got str"),
    "class_probs above one": (lambda r: r.update(class_probs={"real": 1.5}), "class_probs must map class names"),
}


@pytest.mark.parametrize("case", list(RECORD_EDITS))
def test_validate_refuses_malformed_extra_and_class_probs(finished, case):
    edit, reason = RECORD_EDITS[case]
    lines = read_lines(finished / "predictions.jsonl")
    edit(lines[2])
    (finished / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    validated = invoke("validate", finished)
    if reason is None:  # plain nested data is fine
        assert "error   [predictions]" not in validated.output, validated.output
        return
    assert validated.exit_code == 1 and reason in validated.output and "line 3" in validated.output, validated.output
    one_line_error(invoke("score", finished), 2, reason, "line 3")
