"""The leaderboard's published numbers: the Reproduction page and the benchmark page's section, in AppTest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fdrbench.leaderboard.index import update_index
from fdrbench.leaderboard.reproduction import checks_for_run, table
from fdrbench.store import MANIFEST, read_json, write_json_atomic

from .helpers.app_test import open_app

pytest.importorskip("streamlit")


@pytest.fixture(scope="module")
def published_root(fakeclue_runs, tmp_path_factory) -> Path:
    """The three FakeClue runs (reproduced, flipped, --limit subset) with their index."""
    root = tmp_path_factory.mktemp("published") / "results"
    shutil.copytree(fakeclue_runs["results"], root)
    update_index(root)
    return root


def verdicts(frame) -> dict[tuple[str, str, str], str]:
    return {(row["detector"], row["run"].split("-")[1], row["entry"]): row["verdict"] for _, row in frame.iterrows()}


EXPECTED = {
    ("fakevlm", "all", "fakevlm/t2/fakeclue/acc"): "reproduced",
    ("fakevlm", "all", "fakevlm/t2/fakeclue/f1"): "reproduced",
    ("fakevlm", "all", "fakevlm/t2/fakeclue/rouge_l"): "deviates",
    ("fakevlm", "all", "fakevlm/t2/fakeclue/css"): "deviates",
    ("fakevlm-flipped", "all", "fakevlm/t2/fakeclue/acc"): "deviates",
    ("fakevlm-flipped", "all", "fakevlm/t2/fakeclue/f1"): "deviates",
    ("fakevlm-flipped", "all", "fakevlm/t2/fakeclue/rouge_l"): "deviates",
    ("fakevlm-flipped", "all", "fakevlm/t2/fakeclue/css"): "deviates",
    ("fakevlm", "n500", "fakevlm/t2/fakeclue/acc"): "not comparable",
    ("fakevlm", "n500", "fakevlm/t2/fakeclue/f1"): "not comparable",
    ("fakevlm", "n500", "fakevlm/t2/fakeclue/rouge_l"): "not comparable",
    ("fakevlm", "n500", "fakevlm/t2/fakeclue/css"): "not comparable",
}


def test_the_table_sets_each_published_number_beside_the_measured_one(published_root):
    index = read_json(published_root / "index.json")
    checked = [(run, result) for run in index["runs"] for result in checks_for_run(published_root, run["path"])]
    frame = table(checked)
    assert verdicts(frame) == EXPECTED
    acc = frame[(frame["detector"] == "fakevlm") & (frame["entry"] == "fakevlm/t2/fakeclue/acc") & frame["run"].str.contains("all")].iloc[0]
    assert acc["published"] == "98.6" and acc["as printed"] == "Table 2 · FakeVLM · FakeClue Acc"
    assert acc["measured"].startswith("98.") and acc["95% CI"].startswith("[98.")
    flipped = frame[(frame["detector"] == "fakevlm-flipped") & (frame["entry"] == "fakevlm/t2/fakeclue/acc")].iloc[0]
    assert flipped["detail"].startswith("-1.0") and "CI half-widths" in flipped["detail"]
    subset = frame[frame["run"].str.contains("n500")].iloc[0]
    assert "--limit subset of 500" in subset["detail"]
    assert table(checked, protocol="strict").empty  # every FakeClue target is scored under `paper`


def test_reproduction_page_flags_deviations(monkeypatch, published_root):
    app = open_app(monkeypatch, published_root, "reproduction")
    assert not app.exception, [e.value for e in app.exception]
    assert app.header[0].value == "Published numbers, reproduced?"
    (frame,) = [d.value for d in app.dataframe]
    assert verdicts(frame.data if hasattr(frame, "data") else frame) == EXPECTED
    assert [w.value for w in app.warning] == ["6 published number(s) deviate from what the runs measured."]


def test_benchmark_page_shows_the_published_numbers_of_its_protocol(monkeypatch, published_root):
    app = open_app(monkeypatch, published_root, "benchmark")
    assert not app.exception, [e.value for e in app.exception]
    assert "Published numbers" in [s.value for s in app.subheader]
    frames = [d.value for d in app.dataframe]
    published = [f.data if hasattr(f, "data") else f for f in frames]
    published = [f for f in published if "verdict" in f.columns]
    # the page shows one cohort of runs on the same data: the --limit subset is another one
    assert len(published) == 1 and verdicts(published[0]) == {k: v for k, v in EXPECTED.items() if k[1] == "all"}


def test_a_run_that_cannot_be_read_is_named_and_the_rest_still_shows(monkeypatch, published_root, tmp_path):
    root = tmp_path / "results"
    shutil.copytree(published_root, root)
    index = read_json(root / "index.json")
    broken = next(r for r in index["runs"] if r["model"] == "fakevlm-flipped")
    manifest = read_json(root / broken["path"] / MANIFEST)
    manifest["task_info"]["n_samples"] = "<b>many</b>"
    write_json_atomic(root / broken["path"] / MANIFEST, manifest)
    (result,) = checks_for_run(root, broken["path"])
    assert "n_samples" in result["error"] and "\n" not in result["error"]
    app = open_app(monkeypatch, root, "reproduction")
    assert not app.exception, [e.value for e in app.exception]
    frames = [d.value for d in app.dataframe]
    shown = frames[0].data if hasattr(frames[0], "data") else frames[0]
    assert "fakevlm-flipped" not in set(shown["detector"]) and "fakevlm" in set(shown["detector"])
