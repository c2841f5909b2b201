"""The leaderboard's Robustness page in-process (AppTest) on a real sweep: the plot, the drops, stability,
escaped text, and invalid or stale files listed while the rest still shows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fdrbench.results import Robustness, find_robustness
from fdrbench.store import SCORES, read_json

from .helpers.app_test import open_app
from .helpers.leaderboard_results import HOSTILE
from .helpers.robustness_results import make_hostile, robustness_sweep  # noqa: F401 - a fixture

pytest.importorskip("streamlit")


@pytest.fixture
def results(robustness_sweep, tmp_path) -> Path:  # noqa: F811
    root = tmp_path / "results"
    shutil.copytree(robustness_sweep[0], root)
    return root


def page(monkeypatch, root: Path):
    app = open_app(monkeypatch, root, "robustness")
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_the_page_draws_each_condition_and_tables_the_drops(monkeypatch, robustness_sweep):  # noqa: F811
    root = robustness_sweep[0]
    app = page(monkeypatch, root)
    assert app.header[0].value == "Robustness to perturbations"
    (path,) = find_robustness(root)
    robustness = Robustness.read(path)
    assert app.selectbox(key="rb_task").value == "demo"
    assert app.selectbox(key="rb_protocol").options == ["strict", "paper"]
    assert app.selectbox(key="rb_metric").value == "accuracy"
    texts = [t.value for t in app.text]
    assert robustness.description in texts and robustness.readings in texts
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    (trace,) = spec["data"]
    assert trace["name"] == "spectral" and trace["x"] == ["clean", "jpeg90", "jpeg75", "jpeg50", "jpeg25"]
    accuracy = robustness.protocols["strict"].metrics["accuracy"]
    values = [accuracy.clean.value] + [accuracy.conditions[c].value for c in robustness.conditions()]
    assert trace["y"] == [round(100 * v, 1) for v in values]
    assert trace["error_y"]["array"][0] == pytest.approx(round(100 * accuracy.clean.ci[1], 1) - round(100 * accuracy.clean.value, 1))
    drops = app.dataframe[0].value
    assert list(drops["condition"]) == robustness.conditions() and set(drops["detector"]) == {"spectral"}
    worst = drops.set_index("condition").loc["jpeg25"]
    change = accuracy.conditions["jpeg25"]
    assert worst["change"] == round(100 * change.diff, 1) and worst["significant"] == change.significant
    assert worst["perturbation"] == "jpeg:q=25" and worst["test"] == "McNemar"
    steady = app.dataframe[1].value.set_index("condition")
    st = robustness.protocols["strict"].stability["jpeg25"]
    assert steady.loc["jpeg25", "flipped"] == st.n_flipped and steady.loc["jpeg25", "CSS vs clean"] == round(100 * st.css.value, 1)
    assert not app.error and not app.warning


def test_changing_metric_and_protocol(monkeypatch, robustness_sweep):  # noqa: F811
    app = page(monkeypatch, robustness_sweep[0])
    app.selectbox(key="rb_metric").set_value("css").run()
    assert json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]["yaxis"]["title"]["text"] == "css (%)"
    app.selectbox(key="rb_protocol").set_value("paper").run()
    app.selectbox(key="rb_metric").set_value("accuracy").run()
    assert "No detector has a value of accuracy under this protocol." in [c.value for c in app.caption]
    steady = app.dataframe[1].value
    assert set(steady["not computed"]) == {"the clean run gives no explanation to compare with"}


def test_a_malformed_file_is_listed_with_its_reason_and_the_rest_still_shows(monkeypatch, results):
    data = read_json(find_robustness(results)[0])
    bad = results / "demo" / "broken" / "robustness" / "openfake_jpeg-00000000.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"schema_version": 1, "task": "demo"}')
    misplaced = results / "demo" / "spectral" / "robustness" / "copy.json"
    misplaced.write_text(json.dumps({**data, "model": "someone-else"}))
    app = page(monkeypatch, results)
    assert [e.value for e in app.error] == ["A robustness file is invalid and left out:"] * 2
    texts = [t.value for t in app.text]
    assert any(t.startswith("demo/broken/robustness/openfake_jpeg-00000000.json: ") and "missing field" in t for t in texts)
    assert any(t.startswith("demo/spectral/robustness/copy.json: ") and "'model' is 'someone-else'" in t for t in texts)
    assert list(app.dataframe[0].value["condition"]) == ["jpeg90", "jpeg75", "jpeg50", "jpeg25"]


def test_text_from_the_file_is_shown_as_text(monkeypatch, results):
    path = find_robustness(results)[0]
    make_hostile(path, HOSTILE)
    app = page(monkeypatch, results)
    assert HOSTILE in [t.value for t in app.text]  # st.text: never Markdown, never HTML
    assert not [m for m in app.markdown if "<script>" in m.value]
    trace = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]
    assert "&lt;b&gt;x&lt;/b&gt;" in trace["x"] and "<b>x</b>" not in trace["x"]


def test_a_sweep_of_changed_runs_is_shown_with_a_note(monkeypatch, results):
    ref = Robustness.read(find_robustness(results)[0]).runs[3]
    scores = results / "demo" / "spectral" / ref.run_id / SCORES
    scores.write_text(scores.read_text() + "\n")
    app = page(monkeypatch, results)
    assert [w.value for w in app.warning] == ["spectral: this sweep may be out of date."]
    assert any(f"run {ref.run_id} (jpeg50) has changed since this file was computed" in t.value for t in app.text)


def test_no_sweep_yet(monkeypatch, tmp_path):
    app = page(monkeypatch, tmp_path)
    assert app.info[0].value == "No robustness sweep in this results folder yet. Run one with:"
    assert "fdrbench robustness --model MODEL --task TASK --preset openfake_jpeg" in app.code[0].value
