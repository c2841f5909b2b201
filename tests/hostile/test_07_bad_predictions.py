"""Class 7: every prediction a detector returns is checked when it is returned. A bad one becomes
that sample's error with the reason; the run goes on, scores and validates; long texts are cut."""

from __future__ import annotations

import json

import pytest

from fdrbench.tasks.demo import DemoTask
from fdrbench.types import MAX_TEXT_CHARS

from .detectors import HUGE
from .kit import HOSTILE_HELPERS, invoke, read_lines, run_demo, run_folder

BAD = {
    "bytes_extra": "'extra'.blob is a bytes",
    "set_extra": "'extra'.ids is a set",
    "array_extra": "'extra'.scores is a ndarray",
    "nan_extra": "'extra'.score is nan, not a finite number",
    "int_explanation": "field 'explanation': expected str | null, got int",
    "list_explanation": "field 'explanation': expected str | null, got array",
    "unknown_class": "'cls' 'alien' is not one of",
    "string_tokens": "field 'n_tokens': expected int | null, got str",
    "bool_label": "'label' must be 0, 1 or None, got the boolean True",
    "bad_class_probs": "class_probs must map class names",
}
KEPT = ("huge_answer", "numpy_scalars")


@pytest.fixture(scope="module")
def bad_run(demo_root, tmp_path_factory):
    ids = [s.id for s in DemoTask().load(limit=16)]
    plan = dict(zip(ids, [*BAD, *KEPT], strict=False))
    out = tmp_path_factory.mktemp("bad") / "results"
    ran = run_demo(out, "-M", f"plan={json.dumps(plan)}", model=f"{HOSTILE_HELPERS}:BadOutputDetector", limit=16)
    assert ran.exit_code == 0, ran.output
    return run_folder(out), plan


def test_each_bad_prediction_is_its_samples_error_with_the_reason(bad_run):
    run_dir, plan = bad_run
    records = {r["sample_id"]: r for r in read_lines(run_dir / "predictions.jsonl")}
    assert len(records) == 16, "every sample is stored once"
    for sid, kind in plan.items():
        record = records[sid]
        if kind in BAD:
            assert record["error"].startswith("InvalidPrediction: "), (kind, record["error"])
            assert BAD[kind] in record["error"], (kind, record["error"])
            assert record["label"] is None and record["parse_ok"] is False
        else:
            assert record["error"] is None, (kind, record["error"])
    good = [r for sid, r in records.items() if sid not in plan]
    assert good and all(r["error"] is None and r["label"] == 1 for r in good), "the rest of each batch is untouched"


def test_long_texts_are_cut_and_numpy_scalars_become_numbers(bad_run):
    run_dir, plan = bad_run
    records = {r["sample_id"]: r for r in read_lines(run_dir / "predictions.jsonl")}
    huge = records[next(s for s, k in plan.items() if k == "huge_answer")]
    assert len(huge["explanation"]) == len(huge["raw_output"]) == MAX_TEXT_CHARS
    assert huge["extra"]["truncated_chars"] == {"explanation": HUGE // 5 * 5, "raw_output": HUGE // 5 * 5}
    scalars = records[next(s for s, k in plan.items() if k == "numpy_scalars")]
    assert scalars["label"] == 1 and scalars["p_fake"] == pytest.approx(0.75) and scalars["n_tokens"] == 5
    assert (run_dir / "predictions.jsonl").stat().st_size < 2_000_000, "no 30 MB line was stored"


def test_the_run_scores_and_validates(bad_run, demo_root):
    run_dir, _ = bad_run
    scored = invoke("score", run_dir)
    assert scored.exit_code == 0, scored.output
    scores = json.loads((run_dir / "scores.json").read_text())
    assert scores["protocols"]["strict"]["n_failed"] == len(BAD)
    checked = invoke("validate", run_dir, "--data-dir", demo_root)
    assert "error   [predictions]" not in checked.output, checked.output
    assert checked.exit_code == 0, checked.output
