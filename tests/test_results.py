"""The results contract as code: typed files that round-trip, errors that name file, line and field, and the run's task."""

from __future__ import annotations

import json
import shutil

import pytest

from fdrbench.errors import ResultsError
from fdrbench.record import Record
from fdrbench.results import Manifest, RunDir, Scores, find_runs

from .helpers.leaderboard_results import run_toy


@pytest.fixture(scope="module")
def stored(tmp_path_factory, demo_root) -> RunDir:
    return RunDir(run_toy(tmp_path_factory.mktemp("results") / "results", "HashDetector"))


def test_the_three_files_round_trip(stored):
    manifest, scores = stored.manifest(), stored.scores()
    assert Manifest.from_json(manifest.to_json()) == manifest
    assert Scores.from_json(scores.to_json()) == scores
    assert json.loads(stored.manifest_path.read_text()) == manifest.to_json()
    assert json.loads(stored.scores_path.read_text()) == scores.to_json()
    records, duplicates = stored.records()
    assert duplicates == 0 and len(records) == manifest.task_info.n_samples
    for path, number, raw in stored.lines():
        record = Record.from_json(raw, where=f"{path.name} line {number}")
        assert record.to_json() == json.loads(raw)
    assert manifest.label == f"hashdet/{stored.path.name}" and scores.protocols["strict"].protocol.version


def test_errors_name_file_line_and_field(stored, tmp_path):
    with pytest.raises(ResultsError, match=r"predictions.jsonl line 9: field 'truth.group.generator': expected str, got int"):
        Record.from_json(b'{"sample_id": "x", "truth": {"label": 1, "group": {"generator": 3}}}', where="predictions.jsonl line 9")
    with pytest.raises(
        ResultsError, match=r"line 2 \(sample 'x'\): p_fake must be in \[0, 1\], got 1.5; truth.cls 'tampered' disagrees with truth.label 0"
    ):
        Record.from_json({"sample_id": "x", "p_fake": 1.5, "truth": {"label": 0, "cls": "tampered"}}, where="line 2")
    assert Record.from_json({"sample_id": "x", "p_fake": 1.5, "truth": {"label": 0}}, strict=False).p_fake == 1.5
    broken = tmp_path / "manifest.json"
    data = json.loads(stored.manifest_path.read_text())
    data["task_info"]["n_samples"] = "240"
    broken.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match=r"manifest.json: field 'task_info.n_samples': expected int, got str"):
        Manifest.read(broken)
    scores = json.loads(stored.scores_path.read_text())
    scores["protocols"]["strict"]["groups"]["generator"]["gan"]["accuracy"]["value"] = 1.5
    with pytest.raises(ResultsError, match=r"protocols.strict.groups.generator.gan.accuracy.value 1.5 is outside \[0, 1\]"):
        Scores.from_json(scores)
    scores["protocols"]["strict"]["groups"]["generator"]["gan"]["accuracy"]["value"] = 0.5
    scores["protocols"]["strict"]["overall"]["nll"]["value"] = 1.5  # nll is not bounded by 1
    assert Scores.from_json(scores).protocols["strict"].overall["nll"].value == 1.5


def test_the_task_comes_from_a_registered_name_only(stored, tmp_path):
    copy = tmp_path / "demo" / "hashdet" / stored.path.name
    shutil.copytree(stored.path, copy)
    run = RunDir(copy)
    assert run.task().name == "demo"

    def rewrite(**changes):
        data = json.loads(stored.manifest_path.read_text())
        for key, value in changes.items():
            section, _, field = key.partition("__")
            (data[section] if field else data)[field or section] = value
        run.manifest_path.write_text(json.dumps(data))

    rewrite(task="tests/helpers/toy_adapters.py:HashDetector")
    with pytest.raises(ResultsError, match="a stored run must name a registered task"):
        run.task()
    rewrite(task="os:system")
    with pytest.raises(ResultsError, match="unknown task 'os:system': a stored run must name a registered task"):
        run.task()
    rewrite(task_info__options={"skip_missing": True, "__class__": "x"})
    with pytest.raises(
        ResultsError,
        match=r"task 'demo' declares no option\(s\) \['__class__'\]; it accepts \['clip_path', 'released_after', 'skip_missing', 'unannotated'\]",
    ):
        run.task()
    assert [r.path for r in find_runs(tmp_path)] == [copy]


def test_a_stored_line_holds_exactly_the_prediction_fields_and_the_truth():
    """The detector's Prediction (a dataclass, the API) and the stored Record (a typed struct) name the same fields."""
    from dataclasses import fields

    from fdrbench.record import PREDICTION_FIELDS
    from fdrbench.types import Prediction

    assert tuple(f.name for f in fields(Prediction)) == PREDICTION_FIELDS
    assert Record.__struct_fields__ == (*PREDICTION_FIELDS, "truth", "judgement")
