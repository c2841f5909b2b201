"""Class 6: one malformed run never breaks the leaderboard: it is listed as invalid with its reason,
every other run still shows, and a page that cannot read a run says so in one line of text."""

from __future__ import annotations

import json
import shutil

import pytest

from fdrbench.leaderboard.index import build_index, update_index

from ..helpers.app_test import open_app
from .kit import demo_run, edit_json, snapshot

pytest.importorskip("streamlit")

BROKEN = {
    "manifest-wrong-type": (
        "manifest.json",
        lambda m: m["task_info"].update(n_samples="12"),
        "field 'task_info.n_samples': expected int, got str",
    ),
    "manifest-list-field": ("manifest.json", lambda m: m.update(task_info=["x"]), "field 'task_info': expected object, got array"),
    "scores-wrong-type": (
        "scores.json",
        lambda s: s["protocols"]["strict"]["overall"]["accuracy"].update(value="0.9"),
        "field 'protocols.strict.overall.accuracy.value': expected float | null, got str",
    ),
    "scores-overall-list": (
        "scores.json",
        lambda s: s["protocols"]["strict"].update(overall=[1, 2]),
        "field 'protocols.strict.overall': expected object, got array",
    ),
    "scores-headline-int": ("scores.json", lambda s: s.update(headline_metrics=7), "field 'headline_metrics': expected array, got int"),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Two good detectors, the malformed runs above, a run without scores, a manifest that is a
    folder, and a run whose predictions have a corrupt line (its manifest and scores are fine)."""
    root = tmp_path_factory.mktemp("lb") / "results"
    good = demo_run(root)

    def copy_as(model: str):
        target = root / "demo" / model / good.name
        shutil.copytree(good, target)
        for name in ("manifest.json", "scores.json"):
            edit_json(target / name, lambda obj: obj.update(model=model))
        return target

    copy_as("second")
    for model, (name, edit, _) in BROKEN.items():
        edit_json(copy_as(model) / name, edit)
    (copy_as("no-scores") / "scores.json").unlink()
    folder = copy_as("manifest-folder")
    (folder / "manifest.json").unlink()
    (folder / "manifest.json").mkdir()
    corrupt = copy_as("corrupt-predictions")
    lines = (corrupt / "predictions.jsonl").read_text().splitlines()
    lines[3] = '{"sample_id": "x", "label": '
    (corrupt / "predictions.jsonl").write_text("\n".join(lines) + "\n")
    update_index(root)
    return root


def test_the_index_lists_each_bad_run_with_its_reason(results):
    index = build_index(results, pairs=False)
    shown = sorted(r["model"] for r in index["runs"])
    assert shown == ["corrupt-predictions", "hashdet", "second"]
    reasons = {entry["path"].split("/")[1]: entry["reason"] for entry in index["unreadable"]}
    assert set(reasons) == {*BROKEN, "no-scores", "manifest-folder"}
    for model, (_, _, why) in BROKEN.items():
        assert why in reasons[model], (model, reasons[model])
        assert "\n" not in reasons[model]


def test_every_other_run_still_shows(monkeypatch, results):
    before = snapshot(results.parent)
    app = open_app(monkeypatch, results)
    assert not app.exception, [e.value for e in app.exception]
    assert sorted(app.dataframe[0].value["detector"]) == ["corrupt-predictions", "hashdet", "second"]
    errors = [e.value for e in app.error]
    assert errors.count("A run is invalid and left out:") == len(BROKEN) + 2
    shown = "\n".join(t.value for t in app.text)
    for _, (_, _, why) in BROKEN.items():
        assert why in shown
    assert snapshot(results.parent) == before, "the app only reads"


@pytest.mark.parametrize("page", ["explorer", "benchmark", "compare"])
def test_a_run_that_cannot_be_read_is_one_line_of_text(monkeypatch, results, page):
    app = open_app(monkeypatch, results, page, run="demo/corrupt-predictions/" + next((results / "demo" / "hashdet").iterdir()).name)
    assert not app.exception, [e.value for e in app.exception]
    errors = [e.value for e in app.error]
    title = {"explorer": "This run's predictions cannot be read", "benchmark": "No curves for", "compare": "cannot be compared"}[page]
    assert any(title in e for e in errors), errors
    (line,) = [t.value for t in app.text if "predictions.jsonl" in t.value]
    assert "line 4" in line and "not valid JSON" in line and "\n" not in line


def test_a_corrupt_line_is_one_line_for_every_command(results):
    from .kit import invoke, one_line_error

    run_dir = next((results / "demo" / "corrupt-predictions").iterdir())
    for command in (("score", run_dir), ("compare", run_dir, next((results / "demo" / "hashdet").iterdir()))):
        one_line_error(invoke(*command), 2, "predictions.jsonl", "line 4")
    assert json.loads((run_dir / "scores.json").read_text())["model"] == "corrupt-predictions", "nothing was rewritten"
