"""The strict protocol follows the task; core scoring hooks the paper protocols rely on."""

from __future__ import annotations

import pytest

from fdrbench.protocols import BINARY_METRICS, LOCALIZATION_METRICS, TERNARY_METRICS, TEXT_METRICS, strict_metrics
from fdrbench.scoring import ScoreSettings
from fdrbench.task import Aggregate, Protocol, Task
from fdrbench.tasks.demo import DemoTask

from .helpers.records import score_records

NO_BOOT = ScoreSettings(n_boot=0)


class Shell(Task):
    name = "shell"
    group_keys = ("category",)
    protocol: Protocol | None = None

    def samples(self, data_dir, split):
        return []

    def protocols(self):
        return {**super().protocols(), **({"p": self.protocol} if self.protocol else {})}


def test_strict_metric_list_follows_the_task():
    assert strict_metrics() == BINARY_METRICS
    assert strict_metrics("ternary", references=True, masks=True) == BINARY_METRICS + TERNARY_METRICS + LOCALIZATION_METRICS + TEXT_METRICS
    assert strict_metrics(extra=("bertscore_f1", "accuracy"))[-1] == "bertscore_f1"
    demo = DemoTask().protocols()["strict"]
    assert set(TERNARY_METRICS + LOCALIZATION_METRICS + TEXT_METRICS) <= set(demo.metrics)
    assert demo.options["bleu_tokenizer"] == "treebank" and demo.options["text_lowercase"] is True
    assert set(DemoTask().protocols()) == {"strict", "paper"}  # the demo inherits MMFR's paper protocol
    assert Shell().protocols()["strict"].options == {}


def rec(sid, truth, label, cat, **kw):
    return {"sample_id": sid, "label": label, "truth": {"label": truth, "group": {"category": cat}}, **kw}


def test_fallback_policy_keeps_the_reparsed_label_and_counts_the_failure():
    def coin_one(pred, truth):
        from dataclasses import replace

        return replace(pred, label=1, parse_ok=False) if pred.label is None else pred

    task = Shell()
    task.protocol = Protocol("p", "fallback", failure_policy="fallback", metrics=("accuracy", "failure_rate"), reparse=coin_one)
    records = [rec("a", 1, None, "x"), rec("b", 0, None, "x"), rec("c", 1, 1, "x")]
    block = score_records(records, task, ["p"], NO_BOOT)["p"]
    assert block["overall"]["accuracy"]["value"] == pytest.approx(2 / 3)  # a right by fallback, b wrong
    assert block["overall"]["failure_rate"]["value"] == pytest.approx(2 / 3) and block["n_scored"] == 3
    strict = score_records(records, task, ["strict"], NO_BOOT)["strict"]
    assert strict["overall"]["accuracy"]["value"] == pytest.approx(1 / 3)


def test_reparse_with_truth_and_protocol_aggregates():
    def by_question(pred, truth):
        from dataclasses import replace

        return replace(pred, label=int(truth.question == "fake?"), parse_ok=True)

    task = Shell()
    task.protocol = Protocol(
        "p",
        "truth-aware",
        metrics=("accuracy",),
        reparse=by_question,
        aggregates={"all": Aggregate("category", ()), "fakes": Aggregate("category", (), weighting="fakes")},
    )
    records = [rec("a", 1, None, "x"), rec("b", 0, None, "x"), rec("c", 1, None, "y"), rec("d", 1, None, "y")]
    for r, q in zip(records, ["fake?", "real?", "fake?", "real?"], strict=True):
        r["truth"]["question"] = q
    block = score_records(records, task, ["p"], NO_BOOT)["p"]
    assert block["groups"]["category"]["x"]["accuracy"]["value"] == 1.0
    assert block["groups"]["category"]["y"]["accuracy"]["value"] == 0.5
    assert block["aggregates"]["all"]["accuracy"]["value"] == pytest.approx(0.75)
    assert block["aggregates"]["fakes"]["accuracy"]["value"] == pytest.approx((1 * 1.0 + 2 * 0.5) / 3)
    assert block["aggregate_members"]["all"] == ["x", "y"]


def test_failed_samples_lose_their_explanation_under_strict():
    class TextShell(Shell):
        has_reference_text = True

    ref = {"text": "odd edges"}
    records = [
        {"sample_id": "a", "label": 1, "explanation": "odd edges", "truth": {"label": 1, "reference": ref}},
        {"sample_id": "b", "label": None, "parse_ok": False, "explanation": "odd edges", "truth": {"label": 1, "reference": ref}},
    ]
    block = score_records(records, TextShell(), ["strict"], NO_BOOT)["strict"]
    assert block["overall"]["rouge_l"]["value"] == pytest.approx(0.5)
    assert block["details"]["rouge_l"]["n_with_explanation"] == 1
