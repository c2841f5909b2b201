"""Adding a metric is one file: a module with a ``Metric``, registered through the ``fdrbench.metrics`` entry point.

The module is written here, in a temporary folder, exactly as a plugin package would ship it; a
``*.dist-info`` made in the test registers it (``pip install`` of a package with the entry point
writes the same). The metric then appears in a protocol and in ``scores.json``, with the value
computed by hand; a run scored before the metric joined the protocol still validates, with the
metric reported as not yet scored, and ``fdrbench score`` adds it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from fdrbench.errors import FdrbenchError
from fdrbench.metrics import registry
from fdrbench.pipeline import RunConfig, run
from fdrbench.stages.score import score_run_dir
from fdrbench.validate import validate_run

from .conftest import HELPERS
from .helpers.plugins import install_entry_points

METRIC_MODULE = '''
"""A plugin metric: the share of real images called fake."""

import numpy as np

from fdrbench.metrics.frame import Metric


def false_alarm_rate(frame, idx):
    real = frame.y[idx] == 0
    flagged = real & (frame.yhat[idx] == 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return flagged.sum(axis=-1) / real.sum(axis=-1)


METRIC = Metric("false_alarm_rate", false_alarm_rate, "share of real images called fake", family="plugin", higher_is_better=False)
'''

TASK_MODULE = '''
from fdrbench.protocols import strict_protocol
from fdrbench.tasks.demo import DemoTask


class PluginDemo(DemoTask):
    """The demo benchmark, whose strict protocol gains the metrics in EXTRA."""

    name = "plugin_demo"
    EXTRA = ()

    def protocols(self):
        return {"strict": strict_protocol(self.label_space, self.has_reference_text, self.has_masks, self.EXTRA)}
'''


def demo_run(demo_root, tmp_path) -> RunConfig:
    """A small run of the toy detector on the plugin task."""
    model = f"{HELPERS / 'toy_adapters.py'}:HashDetector"
    return RunConfig(
        model=model, task="plugin_demo", data_dir=demo_root, limit=24, out=tmp_path / "results", n_boot=20, show_progress=False
    )


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    (src / "fdr_false_alarms.py").write_text(METRIC_MODULE)  # the one file
    (src / "fdr_plugin_task.py").write_text(TASK_MODULE)  # a task to score it under (not part of the recipe)
    monkeypatch.syspath_prepend(str(src))
    install_entry_points(
        tmp_path / "site",
        monkeypatch,
        {
            "fdrbench.metrics": {"false_alarm_rate": "fdr_false_alarms:METRIC"},
            "fdrbench.tasks": {"plugin_demo": "fdr_plugin_task:PluginDemo"},
        },
    )
    registry.refresh()
    yield
    registry.refresh()


def test_a_metric_is_one_file_and_an_entry_point(plugin, demo_root, tmp_path, monkeypatch):
    from fdr_plugin_task import PluginDemo

    metric = registry.get_metric("false_alarm_rate")
    assert metric.family == "plugin" and metric.higher_is_better is False and metric.paired_test == "paired bootstrap"
    assert "false_alarm_rate" in registry.all_metrics() and "false_alarm_rate" in registry.families()["plugin"]
    monkeypatch.setattr(PluginDemo, "EXTRA", ("false_alarm_rate",))
    assert "false_alarm_rate" in PluginDemo().protocols()["strict"].metrics
    result = run(demo_run(demo_root, tmp_path))
    stored = json.loads((result.run_dir / "scores.json").read_text())
    value = stored["protocols"]["strict"]["overall"]["false_alarm_rate"]["value"]
    lines = [json.loads(line) for line in (result.run_dir / "predictions.jsonl").read_text().splitlines()]
    real = [r for r in lines if r["truth"]["label"] == 0]
    assert value == pytest.approx(np.mean([r["label"] == 1 for r in real]))
    assert stored["protocols"]["strict"]["protocol"]["metrics"][-1] == "false_alarm_rate"
    assert validate_run(result.run_dir, official=False).ok


def test_a_run_scored_before_the_metric_joined_still_validates(plugin, demo_root, tmp_path, monkeypatch):
    from fdr_plugin_task import PluginDemo

    run_dir = run(demo_run(demo_root, tmp_path)).run_dir
    monkeypatch.setattr(PluginDemo, "EXTRA", ("false_alarm_rate",))  # the metric joins strict after the run was scored
    report = validate_run(run_dir, official=False)
    assert report.ok, report.reasons()
    assert "protocol 'strict': not yet scored with false_alarm_rate (run `fdrbench score RUN_DIR` to add them)" in report.notes
    # the stored metrics must still agree: an edited value is caught
    scores = json.loads((run_dir / "scores.json").read_text())
    scores["protocols"]["strict"]["overall"]["accuracy"]["value"] = 0.01
    (run_dir / "scores.json").write_text(json.dumps(scores))
    assert [p.check for p in validate_run(run_dir, official=False).problems] == ["rescore"]
    score_run_dir(run_dir)
    report = validate_run(run_dir, official=False)
    assert report.ok and not any("not yet scored" in note for note in report.notes)
    assert "false_alarm_rate" in json.loads((run_dir / "scores.json").read_text())["protocols"]["strict"]["overall"]


def test_a_misspelt_protocol_option_is_an_error_naming_the_accepted_ones():
    from fdrbench.protocols import TEXT_METRICS, Protocol

    with pytest.raises(
        FdrbenchError, match=r"protocol 'p': unknown option 'bleu_tokeniser'. Did you mean 'bleu_tokenizer'\? Its metrics accept: "
    ):
        Protocol("p", "", metrics=TEXT_METRICS, options={"bleu_tokeniser": "whitespace"})
    with pytest.raises(FdrbenchError, match="option 'mask_size' must be int or NoneType, got 'big'"):
        Protocol("p", "", metrics=("giou",), options={"mask_size": "big"})
    with pytest.raises(FdrbenchError, match="unknown option 'mask_size'.*accept: none"):
        Protocol("p", "", metrics=("accuracy",), options={"mask_size": 1024})
    assert Protocol("p", "", metrics=("giou", "rouge_l"), options={"mask_size": 1024, "rouge_stemmer": False}).options["mask_size"] == 1024


def test_metric_facts_replace_the_old_name_lists():
    get = registry.get_metric
    assert get("failure_rate").rows == "all" and get("accuracy").rows == "scored"
    assert (get("nll").bounded, get("cider").bounded, get("accuracy").bounded) == (False, False, True)
    assert get("accuracy").paired_test == get("failure_rate").paired_test == "McNemar"
    assert get("roc_auc").paired_test == "paired bootstrap"
    assert (get("accuracy").text(0.8541), get("nll").text(0.12345), get("eer").higher_is_better) == ("85.4", "0.123", False)
    assert {m.family for m in registry.all_metrics().values()} >= {"detection", "calibration", "ternary", "localization", "text", "judge"}
