"""Class 11: any object with ``predict(batch)`` is a detector; what it lacks takes the defaults, what
it has is called, and an object without ``predict`` is refused in one line."""

from __future__ import annotations

import json

from fdrbench.detector import Detector, PlainDetector, as_detector

from .kit import HOSTILE_HELPERS, demo_run, invoke, one_line_error, read_lines


def test_a_class_with_only_predict_runs_scores_and_validates(demo_root, tmp_path):
    run_dir = demo_run(tmp_path / "results", model=f"{HOSTILE_HELPERS}:Plain")
    assert run_dir.parent.name == "Plain", "the class name is its default name"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["adapter"]["describe"] == {"name": "Plain"}
    assert all(r["error"] is None and r["explanation"] == "plain" for r in read_lines(run_dir / "predictions.jsonl"))
    assert invoke("score", run_dir).exit_code == 0
    validated = invoke("validate", run_dir, "--data-dir", demo_root)
    assert validated.exit_code == 0, validated.output


def test_the_methods_it_has_are_called(demo_root, tmp_path):
    log = tmp_path / "hooks.log"
    run_dir = demo_run(tmp_path / "results", "-M", f"log={log}", model=f"{HOSTILE_HELPERS}:PlainWithHooks")
    assert log.read_text().splitlines() == ["setup demo", "close"]
    assert json.loads((run_dir / "manifest.json").read_text())["adapter"]["describe"] == {"name": "hooked", "weights": "none"}
    assert run_dir.parent.name == "hooked"


def test_an_object_without_predict_is_refused(demo_root, tmp_path):
    result = invoke("run", "-m", f"{HOSTILE_HELPERS}:NoPredict", "-t", "demo", "--out", tmp_path / "results", "--no-progress")
    one_line_error(result, 2, "is not a detector", "predict(batch)")
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("*.jsonl"))


def test_as_detector_keeps_a_detector_and_wraps_the_rest():
    class Native(Detector):
        def predict(self, batch):
            return []

    native = Native()
    assert as_detector(native) is native

    class Bare:
        def predict(self, batch):
            return []

    wrapped = as_detector(Bare())
    assert isinstance(wrapped, PlainDetector) and wrapped.name == "Bare"
    assert wrapped.describe() == {"name": "Bare"} and wrapped.identity(None) == {} and wrapped.uses_device is True
