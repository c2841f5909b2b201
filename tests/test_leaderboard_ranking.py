"""Cohorts of comparable runs, ranks with ties, the index and its paired tests."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from fdrbench.leaderboard import index as index_mod
from fdrbench.leaderboard import tables
from fdrbench.leaderboard.index import INDEX_NAME, build_index, index_problems, load_index, read_index, update_index
from fdrbench.leaderboard.ranking import cohorts, incomplete, latest_per_model, rank_runs, reason
from fdrbench.paired import compare_metric as compare_runs
from fdrbench.scoring import build_frame
from fdrbench.store import SCORES, read_json, write_json_atomic
from fdrbench.task import Protocol

from .helpers.leaderboard_results import leaderboard_results  # noqa: F401 - a fixture
from .helpers.records import to_records


def entry(model, value, ci, metric="accuracy", fingerprint="f" * 64, created="2026-01-01", **extra):
    return {
        "path": f"demo/{model}/r",
        "task": "demo",
        "task_version": "1",
        "model": model,
        "run_id": "r",
        "status": "complete",
        "partial": False,
        "created": created,
        "split": "test",
        "limit": None,
        "official": None,
        "data_fingerprint": fingerprint,
        "sha256": {"scores": f"sha-{model}"},
        "protocols": {"strict": {"overall": {metric: {"value": value, "ci": ci}}}},
        **extra,
    }


def test_ranks_count_only_significantly_better_detectors():
    runs = [
        entry("a", 0.90, [0.86, 0.94]),
        entry("b", 0.88, [0.84, 0.92]),
        entry("c", 0.80, [0.77, 0.83]),
        entry("d", 0.70, [0.60, 0.87]),
        entry("e", None, None),
    ]
    ranked = rank_runs(runs, "strict", "accuracy", rule="ci")
    assert [(r.run["model"], r.rank, r.label) for r in ranked] == [
        ("a", 1, "=1"),
        ("b", 1, "=1"),
        ("d", 1, "=1"),  # its wide interval overlaps everyone's
        ("c", 3, "3"),  # a and b are separated from c, d is not
        ("e", None, "—"),
    ]
    by_model = {r.run["model"]: r for r in ranked}
    assert by_model["c"].not_separated == ["d"]
    assert sorted(by_model["d"].not_separated) == ["a", "b", "c"]


def test_lower_is_better_metrics_rank_the_other_way():
    runs = [entry("a", 0.30, [0.25, 0.35], metric="ece"), entry("b", 0.05, [0.03, 0.07], metric="ece")]
    assert [(r.run["model"], r.label) for r in rank_runs(runs, "strict", "ece")] == [("b", "1"), ("a", "2")]


def test_a_paired_test_overrides_overlapping_intervals():
    a, b = entry("a", 0.90, [0.86, 0.94]), entry("b", 0.88, [0.84, 0.92])
    pair = {
        "protocol": "strict",
        "metric": "accuracy",
        "a": a["path"],
        "a_sha": "sha-a",
        "b": b["path"],
        "b_sha": "sha-b",
        "separated": True,
    }
    assert [r.label for r in rank_runs([a, b], "strict", "accuracy", [pair], rule="paired")] == ["1", "2"]
    assert [r.label for r in rank_runs([a, b], "strict", "accuracy", [pair], rule="ci")] == ["=1", "=1"]
    stale = {**pair, "b_sha": "sha-old"}  # b changed since the test: the intervals decide again
    assert [r.label for r in rank_runs([a, b], "strict", "accuracy", [stale], rule="paired")] == ["=1", "=1"]


def test_cohorts_keep_different_data_apart_and_say_why():
    full = [entry("a", 0.9, [0.8, 1.0], official=True), entry("b", 0.8, [0.7, 0.9], official=True)]
    subset = entry("c", 0.95, [0.9, 1.0], fingerprint="s" * 64, limit=100)
    newer = entry("d", 0.5, [0.4, 0.6], fingerprint="v" * 64, task_version="2")
    running = {**entry("e", 0.5, [0.4, 0.6]), "status": "running"}
    groups = cohorts([*full, subset, newer, running])["demo"]
    assert [sorted(r["model"] for r in c.runs) for c in groups] == [["a", "b"], ["d"], ["c"]]
    assert groups[0].reference and groups[0].why is None
    assert "task version 2 (ranked runs: 1)" in groups[1].why
    assert "a subset of 100 samples (ranked runs: the full split)" in groups[2].why
    assert groups[2].why.startswith(f"data fingerprint {'s' * 10} differs from the ranked runs' {'f' * 10}")
    assert [r["model"] for r in incomplete([*full, running])] == ["e"]
    other = cohorts([{**entry("x", 0.5, [0.4, 0.6], fingerprint="o" * 64), "official": False}])["demo"][0]
    assert "different annotations or sample list; not the official data" in reason(other, groups[0])


def test_one_row_per_detector_its_newest_run():
    old = entry("a", 0.5, [0.4, 0.6], created="2026-01-01")
    new = {**entry("a", 0.7, [0.6, 0.8], created="2026-02-01"), "run_id": "r2"}
    assert latest_per_model([new, old]) == [new]


def test_mcnemar_and_paired_difference_on_hand_made_runs():
    """A right on samples 0-9, B right on 0-4 and 10-19; 20 samples, 10 real and 10 fake."""
    truth = [0, 1] * 10

    def records(right):
        return [
            {"sample_id": f"s{i:02d}", "label": t if i in right else 1 - t, "p_fake": None, "truth": {"label": t}}
            for i, t in enumerate(truth)
        ]

    protocol = Protocol("strict", "")
    a = build_frame(to_records(records(set(range(10)))), protocol)
    b = build_frame(to_records(records(set(range(5)) | set(range(10, 20)))), protocol)
    result = compare_runs("accuracy", a, b, n_boot=200)
    assert result["a"] == 0.5 and result["b"] == 0.75 and result["diff"] == 0.25
    assert result["mcnemar"]["b"] == 5 and result["mcnemar"]["c"] == 10  # A-only right: 5-9; B-only right: 10-19
    assert result["test"] == "McNemar" and result["p_value"] == pytest.approx(0.30175781, abs=1e-6)  # exact binomial, 15 discordant
    assert result["separated"] is False


def test_index_of_the_fixture_results(leaderboard_results):  # noqa: F811
    root, runs = leaderboard_results
    index = read_index(root)
    by_model = {r["model"]: r for r in index["runs"]}
    assert sorted(by_model) == ["halfway", "hashdet", "hashdet-subset", "spectral", "textonly"]
    assert by_model["spectral"]["official"] is True and by_model["hashdet-subset"]["official"] is None
    assert (
        by_model["spectral"]["protocols"]["strict"]["overall"]["accuracy"]
        == read_json(runs["spectral"] / SCORES)["protocols"]["strict"]["overall"]["accuracy"]
    )
    assert index["pairs"], "overlapping intervals should have been settled by paired tests"
    assert all(p["a"] < p["b"] for p in index["pairs"])
    assert index_problems(root) == []
    assert load_index(root).stale == []


def test_index_reuses_paired_tests_and_notices_changes(leaderboard_results, tmp_path, monkeypatch):  # noqa: F811
    root = tmp_path / "results"
    shutil.copytree(leaderboard_results[0], root)
    stored = read_index(root)
    calls = []
    import fdrbench.paired as pairs_mod

    real, real_shared = pairs_mod.compare_metric, pairs_mod.SharedSamples.compare
    monkeypatch.setattr(pairs_mod, "compare_metric", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    monkeypatch.setattr(pairs_mod.SharedSamples, "compare", lambda self, *a: calls.append(a[0]) or real_shared(self, *a))
    assert build_index(root, stored) == stored
    assert calls == []
    scores_path = root / "demo" / "textonly"
    (run_dir,) = scores_path.iterdir()
    scores = read_json(run_dir / SCORES)
    scores["protocols"]["strict"]["overall"]["accuracy"]["ci"] = [0.0, 1.0]
    write_json_atomic(run_dir / SCORES, scores)
    loaded = load_index(root)
    assert loaded.stale[0] == "index.json is out of date with the run folders"
    assert any("index.json 'runs' does not match" in p for p in index_problems(root))
    update_index(root)
    assert calls and index_problems(root) == []


def test_unreadable_runs_are_listed_not_fatal(tmp_path):
    broken = tmp_path / "demo" / "x" / "r"
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text("[1, 2")
    index = build_index(tmp_path)
    assert index["runs"] == [] and index["unreadable"][0]["path"] == "demo/x/r"
    assert "manifest.json: field '<root>': expected object, got array" in index["unreadable"][0]["reason"]
    index_mod.write_index(tmp_path, index)
    assert json.loads((tmp_path / INDEX_NAME).read_text()) == index
    assert load_index(tmp_path).stale == []


def test_overview_table(leaderboard_results):  # noqa: F811
    root, _ = leaderboard_results
    frame, ranked = tables.overview(read_index(root), "strict", "accuracy")
    assert list(frame["detector"]) == ["spectral", "hashdet", "textonly"]
    assert list(frame.columns) == [
        "detector",
        "demo · accuracy",
        "demo · CI",
        "demo · rank",
        "_rank demo",
        "_better demo",
        "mean rank",
        "benchmarks",
        "_better",
    ]
    spectral = frame.iloc[0]
    scores = read_json(next((root / "demo" / "spectral").iterdir()) / SCORES)["protocols"]["strict"]["overall"]["accuracy"]
    assert spectral["demo · accuracy"] == round(100 * scores["value"], 1)
    assert spectral["demo · rank"] == "1"
    assert list(tables.sort_overview(frame, "detector")["detector"]) == ["hashdet", "spectral", "textonly"]
    assert np.isclose(frame["mean rank"].iloc[0], 1.0)


def test_shared_samples_give_the_same_paired_results_as_compare_runs(leaderboard_results):  # noqa: F811
    from fdrbench.paired import SharedSamples, load_scored

    _, runs = leaderboard_results
    a, b, c = (load_scored(runs[name], "strict") for name in ("hashdet", "spectral", "subset"))
    shared = SharedSamples(n_boot=200)
    assert shared.accepts(a) and shared.accepts(b)
    assert not shared.accepts(c)  # a subset: other rows, so pairs with it take the general path
    for metric in ("accuracy", "failure_rate", "ap", "roc_auc", "ece", "f1"):
        fast = shared.compare(metric, a, b)
        slow = compare_runs(metric, a, b, n_boot=200, interval=False)
        for key in ("n", "a", "b", "diff", "ci", "p_value", "test", "separated"):
            assert fast[key] == slow[key], (metric, key, fast[key], slow[key])
