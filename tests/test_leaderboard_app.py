"""Every page and interaction of the Streamlit app, run in-process with AppTest on fixture results."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from fdrbench.leaderboard.index import update_index
from fdrbench.store import SCORES, read_json, write_json_atomic

from .helpers.app_test import open_app as open_app_at
from .helpers.leaderboard_results import HOSTILE, leaderboard_results  # noqa: F401 - a fixture

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402


def open_app(monkeypatch, root: Path, page: str = "overview", data_dirs: dict | None = None, **params) -> AppTest:
    app = open_app_at(monkeypatch, root, page, data_dirs, **params)
    assert not app.exception, [e.value for e in app.exception]
    return app


def texts(app: AppTest) -> list[str]:
    """Every line shown with st.text."""
    return [line for t in app.text for line in t.value.splitlines() or [""]]


def captions(app: AppTest) -> str:
    return "\n".join(c.value for c in app.caption)


def run_path(runs: dict, name: str) -> str:
    return runs[name].relative_to(runs[name].parents[2]).as_posix()


# --------------------------------------------------------------------------- overview


def test_overview_ranks_detectors_and_explains_what_it_leaves_out(monkeypatch, leaderboard_results):  # noqa: F811
    root, runs = leaderboard_results
    app = open_app(monkeypatch, root)
    assert app.header[0].value == "Leaderboard overview"
    table = app.dataframe[0].value
    assert list(table["detector"]) == ["spectral", "hashdet", "textonly"]
    assert list(table.columns) == ["detector", "demo · accuracy", "demo · CI", "demo · rank", "mean rank", "benchmarks"]
    accuracy = read_json(runs["spectral"] / SCORES)["protocols"]["strict"]["overall"]["accuracy"]
    assert table["demo · accuracy"][0] == round(100 * accuracy["value"], 1)
    assert table["demo · CI"][0] == f"[{round(100 * accuracy['ci'][0], 1)}, {round(100 * accuracy['ci'][1], 1)}]"
    assert table["demo · rank"][0] == "1"
    warnings = [w.value for w in app.warning]
    assert warnings == [
        "Not ranked with the table above (1 run(s), v1 test, 60 samples · data "
        + read_json(runs["subset"] / "manifest.json")["data_fingerprint"][:10]
        + ")."
    ]
    assert any("a subset of 60 samples (ranked runs: the full split)" in t for t in texts(app))
    assert "1 run(s) are incomplete or partial and not ranked:" in [i.value for i in app.info]
    assert "Rank = 1 + the number of detectors significantly better" in captions(app)


def test_overview_metric_sort_and_tie_rule(monkeypatch, leaderboard_results):  # noqa: F811
    root, _ = leaderboard_results
    app = open_app(monkeypatch, root)
    app.selectbox(key="ov_metric").set_value("ece").run()
    table = app.dataframe[0].value
    assert "demo · ece" in table.columns
    assert list(table["detector"])[:2] == ["spectral", "hashdet"]  # textonly has no p_fake: no ECE, unranked
    assert table.set_index("detector")["demo · rank"]["textonly"] == "—"
    assert "ece: lower is better" in captions(app)
    app.selectbox(key="ov_sort").set_value("detector").run()
    assert list(app.dataframe[0].value["detector"]) == ["hashdet", "spectral", "textonly"]
    app.selectbox(key="ov_rule").set_value("ci").run()
    assert "non-overlapping confidence intervals only" in captions(app)


def test_overview_protocol_selector(monkeypatch, leaderboard_results, tmp_path):  # noqa: F811
    root = tmp_path / "results"
    shutil.copytree(leaderboard_results[0], root)
    for scores_path in root.glob("demo/*/*/scores.json"):
        scores = read_json(scores_path)
        paper = copy.deepcopy(scores["protocols"]["strict"])
        paper["protocol"]["description"] = "the paper's rules"
        paper["overall"]["accuracy"] = {"value": 0.5, "ci": [0.4, 0.6]}
        scores["protocols"]["paper"] = paper
        write_json_atomic(scores_path, scores)
    update_index(root)
    app = open_app(monkeypatch, root)
    assert app.selectbox(key="ov_protocol").options == ["strict", "paper"]
    app.selectbox(key="ov_protocol").set_value("paper").run()
    table = app.dataframe[0].value
    assert set(table["demo · accuracy"]) == {50.0}
    assert set(table["demo · rank"]) == {"=1"}


def test_overview_of_an_empty_folder(monkeypatch, tmp_path):
    app = open_app(monkeypatch, tmp_path)
    assert app.info[0].value.startswith(f"No runs under {tmp_path.resolve()} yet.")


def test_stale_index_is_rebuilt_in_memory_and_said_so(monkeypatch, leaderboard_results, tmp_path):  # noqa: F811
    root = tmp_path / "results"
    shutil.copytree(leaderboard_results[0], root)
    (root / "index.json").unlink()
    app = open_app(monkeypatch, root)
    assert len(app.dataframe[0].value) == 3
    assert "Index: no index.json; rebuilt in memory" in captions(app)


# --------------------------------------------------------------------------- benchmark


def test_benchmark_page_tables_and_plots(monkeypatch, leaderboard_results):  # noqa: F811
    root, runs = leaderboard_results
    app = open_app(monkeypatch, root, "benchmark")
    assert app.header[0].value == "Per-benchmark results"
    assert [t.label for t in app.tabs] == [
        "Detection",
        "Calibration",
        "Localization",
        "Explanation",
        "Ternary",
        "Failures",
        "Reliability diagram",
        "ROC curve",
        "Precision-recall curve",
    ]
    detection = app.tabs[0].dataframe[0].value
    assert list(detection["run"]) == [
        f"hashdet · {runs['hashdet'].name}",
        f"spectral · {runs['spectral'].name}",
        f"textonly · {runs['textonly'].name}",
    ]
    failures = app.tabs[5].dataframe[0].value
    textonly = read_json(runs["textonly"] / SCORES)["protocols"]["strict"]
    assert failures["failed"][2] == textonly["n_failed"] > 0
    frames = [d.value for d in app.dataframe]
    aggregates = next(f for f in frames if "aggregate" in f.columns)
    assert set(aggregates["aggregate"]) == {"synthetic", "AVG"}
    per_generator = next(f for f in frames if "generator" in f.columns and "spectral" in f.columns)
    assert list(per_generator["generator"]) == ["diffusion", "gan", "tampered"]
    gan = read_json(runs["spectral"] / SCORES)["protocols"]["strict"]["groups"]["generator"]["gan"]["accuracy"]
    assert per_generator.set_index("generator")["spectral"]["gan"].startswith(f"{round(100 * gan['value'], 1)} [")
    charts = app.get("plotly_chart")
    assert len(charts) == 4  # per-generator CI plot, reliability, ROC, precision-recall
    ci_plot = json.loads(charts[0].proto.spec)
    assert ci_plot["data"][0]["error_y"]["type"] == "data"
    assert "No p_fake (or only one class), so no curves for: textonly" in captions(app).replace("\\", "")


def test_benchmark_interactions(monkeypatch, leaderboard_results):  # noqa: F811
    root, runs = leaderboard_results
    app = open_app(monkeypatch, root, "benchmark")
    app.selectbox(key="bm_group_metric_generator").set_value("roc_auc").run()
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["title"]["text"].startswith("roc_auc per generator")
    app.selectbox(key="bm_group_run_generator").set_value(run_path(runs, "spectral")).run()
    per_run = [d.value for d in app.dataframe if "n" in d.value.columns and "ece" in d.value.columns and "generator" in d.value.columns]
    assert list(per_run[0]["generator"]) == ["diffusion", "gan", "tampered"]
    app.multiselect(key="bm_curve_runs").set_value([run_path(runs, "spectral")]).run()
    roc = json.loads(app.get("plotly_chart")[2].proto.spec)
    assert [t["name"] for t in roc["data"]] == ["chance", f"spectral · {runs['spectral'].name}"]
    app.selectbox(key="bm_cohort").set_value(1).run()
    assert app.warning[0].value == "These runs scored other data than the ranked runs of this benchmark."
    assert "a subset of 60 samples" in texts(app)[0]
    assert list(app.tabs[0].dataframe[0].value["run"]) == [f"hashdet-subset · {runs['subset'].name}"]


# --------------------------------------------------------------------------- explorer


def test_explorer_shows_samples_as_plain_text(monkeypatch, leaderboard_results, demo_root):  # noqa: F811
    root, runs = leaderboard_results
    app = open_app(monkeypatch, root, "explorer", run=run_path(runs, "hashdet"))
    assert app.header[0].value == "Per-sample explorer"
    assert app.selectbox(key="ex_run").value == run_path(runs, "hashdet")
    assert "240 of 240 samples match." in captions(app)
    assert HOSTILE in texts(app)  # shown verbatim by st.text: no Markdown, no HTML
    assert not any("<script>" in m.value or "example.invalid" in m.value for m in app.markdown)
    assert len(app.image) == 20  # the first page's images, read from the demo data folder
    assert "Model explanation" in captions(app) and "Reference explanation" in captions(app)


def test_explorer_filters_and_pages(monkeypatch, leaderboard_results):  # noqa: F811
    root, runs = leaderboard_results
    app = open_app(monkeypatch, root, "explorer", run=run_path(runs, "textonly"))
    app.multiselect(key="ex_outcome").set_value(["unparsed"]).run()
    unparsed = sum(1 for line in (runs["textonly"] / "predictions.jsonl").read_text().splitlines() if not json.loads(line)["parse_ok"])
    assert f"{unparsed} of 240 samples match." in captions(app)
    assert set(app.dataframe[0].value["outcome"]) == {"unparsed"}
    assert "p_fake: none" in texts(app)
    app.multiselect(key="ex_outcome").set_value([]).run()
    app.multiselect(key="ex_group_generator").set_value(["gan"]).run()
    app.multiselect(key="ex_truth").set_value(["fake"]).run()
    assert "40 of 240 samples match." in captions(app)
    assert set(app.dataframe[0].value["group:generator"]) == {"gan"} and set(app.dataframe[0].value["truth"]) == {"fake"}
    app.selectbox(key="ex_page_size").set_value(10).run()
    app.number_input(key="ex_page").set_value(4).run()
    shown = [t for t in texts(app) if t.startswith("sample: ")]
    assert shown == [f"sample: gan/1_fake/gan_fake_{i:04d}.png" for i in range(30, 40)]
    app.text_input(key="ex_search").set_value("fake_0007").run()
    assert "1 of 240 samples match." in captions(app)
    assert app.number_input(key="ex_page").value == 1  # back to the only page left
    assert [t for t in texts(app) if t.startswith("sample: ")] == ["sample: gan/1_fake/gan_fake_0007.png"]


def test_explorer_reads_images_only_inside_the_data_folder(monkeypatch, leaderboard_results, tmp_path):  # noqa: F811
    root, runs = leaderboard_results
    app = open_app(monkeypatch, root, "explorer", run=run_path(runs, "hashdet"))
    app.multiselect(key="ex_group_generator").set_value(["gan"]).run()
    app.multiselect(key="ex_truth").set_value(["fake"]).run()
    assert "the image reference leaves the data folder; refused" in texts(app)
    empty = tmp_path / "nodata"
    empty.mkdir()
    app = open_app(monkeypatch, root, "explorer", data_dirs={"demo": str(empty)}, run=run_path(runs, "spectral"))
    assert len(app.image) == 0
    assert any(t.startswith("not found under ") and "--data-dir TASK=PATH" in t for t in texts(app))


def test_explorer_shows_masks_of_tampered_images(monkeypatch, leaderboard_results):  # noqa: F811
    root, runs = leaderboard_results
    app = open_app(monkeypatch, root, "explorer", run=run_path(runs, "spectral"))
    app.multiselect(key="ex_group_generator").set_value(["tampered"]).run()
    app.multiselect(key="ex_truth").set_value(["fake"]).run()
    assert "true mask" in [c for image in app.image for c in image.captions]


# --------------------------------------------------------------------------- compare


def test_compare_page_paired_differences(monkeypatch, leaderboard_results):  # noqa: F811
    root, runs = leaderboard_results
    app = open_app(monkeypatch, root, "compare")
    assert app.header[0].value == "Compare runs"
    assert app.multiselect(key="cmp_runs").value == [run_path(runs, "hashdet"), run_path(runs, "spectral")]
    table = app.dataframe[0].value
    assert list(table["metric"]) == ["accuracy", "balanced_accuracy", "f1"]
    accuracy = table.iloc[0]
    a = read_json(runs["hashdet"] / SCORES)["protocols"]["strict"]["overall"]["accuracy"]["value"]
    b = read_json(runs["spectral"] / SCORES)["protocols"]["strict"]["overall"]["accuracy"]["value"]
    assert accuracy["test"] == "McNemar" and accuracy["significant"]
    assert accuracy["B − A"] == pytest.approx(round(100 * (b - a), 1), abs=0.051)
    assert "run(s) of this benchmark scored other data and are not offered here." in captions(app)
    assert len(app.get("plotly_chart")) == 1
    app.multiselect(key="cmp_metrics").set_value(["roc_auc"]).run()
    app.multiselect(key="cmp_runs").set_value([run_path(runs, "spectral"), run_path(runs, "hashdet"), run_path(runs, "textonly")]).run()
    table = app.dataframe[0].value
    assert list(table["B"]) == [f"hashdet · {runs['hashdet'].name}", f"textonly · {runs['textonly'].name}"]
    assert table["test"][0] == "paired bootstrap" and table["B − A"][0] < 0
    assert table["B − A"].isna()[1]  # textonly has no p_fake: no ROC-AUC to compare
    app.multiselect(key="cmp_runs").set_value([run_path(runs, "spectral")]).run()
    assert app.info[0].value == "Pick at least two runs."


# --------------------------------------------------------------------------- navigation


def test_sidebar_navigation_reaches_every_page(monkeypatch, leaderboard_results):  # noqa: F811
    root, _ = leaderboard_results
    app = open_app(monkeypatch, root)
    assert app.sidebar.radio[0].options == ["Overview", "Benchmark", "Generators", "Explorer", "Compare", "Reproduction", "Robustness"]
    for page, header in (
        ("benchmark", "Per-benchmark results"),
        ("generators", "Detectors by generator"),
        ("explorer", "Per-sample explorer"),
        ("compare", "Compare runs"),
        ("reproduction", "Published numbers, reproduced?"),
        ("robustness", "Robustness to perturbations"),
        ("overview", "Leaderboard overview"),
    ):
        app.sidebar.radio[0].set_value(page).run()
        assert not app.exception
        assert app.header[0].value == header
        assert app.query_params["page"] == page
    assert app.sidebar.caption[0].value == "5 runs on 1 benchmarks"


def test_explorer_sorts_by_confidence_wrong_first_and_filters_by_error_type(monkeypatch, leaderboard_results):  # noqa: F811
    root, runs = leaderboard_results
    records = [json.loads(line) for line in (runs["spectral"] / "predictions.jsonl").read_text().splitlines()]

    def error(r: dict) -> str:
        if r["error"] is not None or not r["parse_ok"] or r["label"] is None:
            return "unparsed"
        if r["label"] == r["truth"]["label"]:
            return "correct"
        return "false positive" if r["truth"]["label"] == 0 else "false negative"

    def sure(r: dict) -> float:
        return r["p_fake"] if r["label"] == 1 else 1 - r["p_fake"]

    app = open_app(monkeypatch, root, "explorer", run=run_path(runs, "spectral"))
    app.selectbox(key="ex_sort").set_value("confidence, highest first").run()
    app.checkbox(key="ex_wrong_first").check().run()
    table = app.dataframe[0].value
    wrong = sorted((r for r in records if error(r) in ("false positive", "false negative")), key=lambda r: (-sure(r), r["sample_id"]))
    assert list(table["sample_id"][: len(wrong)]) == [r["sample_id"] for r in wrong]  # the most confident mistakes first
    assert set(table["outcome"][len(wrong) :]) == {"right"}
    first = [t for t in texts(app) if t.startswith("sample: ")][0]
    assert first == f"sample: {wrong[0]['sample_id']}"
    assert f"error type: {error(wrong[0])}" in texts(app)
    app.multiselect(key="ex_error").set_value(["false positive"]).run()
    positives = [r for r in records if error(r) == "false positive"]
    assert f"{len(positives)} of 240 samples match." in captions(app)
    assert set(app.dataframe[0].value["error_type"]) == {"false positive"}
    assert set(app.dataframe[0].value["truth"]) == {"real"} and set(app.dataframe[0].value["prediction"]) == {"fake"}
    app.selectbox(key="ex_sort").set_value("p_fake, lowest first").run()
    assert list(app.dataframe[0].value["p_fake"]) == sorted(r["p_fake"] for r in positives)


def test_explorer_error_types_of_unparsed_verdicts(monkeypatch, leaderboard_results):  # noqa: F811
    root, runs = leaderboard_results
    app = open_app(monkeypatch, root, "explorer", run=run_path(runs, "textonly"))
    app.multiselect(key="ex_error").set_value(["unparsed"]).run()
    unparsed = sum(1 for line in (runs["textonly"] / "predictions.jsonl").read_text().splitlines() if not json.loads(line)["parse_ok"])
    assert f"{unparsed} of 240 samples match." in captions(app)
    app.selectbox(key="ex_sort").set_value("confidence, highest first").run()  # no p_fake at all: the order is by id
    table = app.dataframe[0].value
    assert list(table["sample_id"]) == sorted(table["sample_id"]) and table["confidence"].isna().all()
