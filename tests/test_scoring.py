"""The score stage: failure policies, missing probabilities, groups, aggregates, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from fdrbench.errors import ResultsError
from fdrbench.scoring import ScoreSettings, build_frame
from fdrbench.task import Aggregate, Protocol, Task

from .helpers.records import score_records, to_records


class ToyTask(Task):
    name = "toy"
    group_keys = ("generator",)
    aggregates = {
        "AB": Aggregate("generator", ("a", "b")),
        "AB_size": Aggregate("generator", ("a", "b"), weighting="size"),
        "ABZ": Aggregate("generator", ("a", "b", "z")),
    }

    def samples(self, data_dir, split):
        return []

    def protocols(self):
        base = super().protocols()
        base["exclude"] = Protocol("exclude", "drop failures", failure_policy="exclude")
        base["realpos"] = Protocol("realpos", "F1 of the real class", positive_class="real")
        return base


def rec(sid, truth, label=None, p=None, gen="a", parse_ok=True, error=None):
    return {
        "sample_id": sid,
        "label": label,
        "p_fake": p,
        "parse_ok": parse_ok,
        "error": error,
        "truth": {"label": truth, "group": {"generator": gen}},
    }


RECORDS = [
    rec("a1", 1, 1, 0.9, "a"),
    rec("a2", 0, 0, 0.2, "a"),
    rec("a3", 1, 0, 0.4, "a"),
    rec("a4", 0, None, None, "a", parse_ok=False),  # unparsed
    rec("b1", 1, 1, 0.7, "b"),
    rec("b2", 0, 1, 0.6, "b"),
    rec("b3", 0, 0, 0.1, "b"),
    rec("b4", 1, None, None, "b", error="RuntimeError: x"),
    rec("b5", 1, 1, 0.8, "b"),
    rec("b6", 0, 0, 0.3, "b"),
]
SETTINGS = ScoreSettings(n_boot=200, seed=0)


def value(block, metric, scope="overall"):
    return block[scope][metric]["value"]


def test_strict_counts_failures_as_wrong():
    scores = score_records(RECORDS, ToyTask(), settings=SETTINGS)
    strict = scores["strict"]
    assert strict["n"] == 10 and strict["n_failed"] == 2 and strict["n_scored"] == 10
    # correct: a1 a2 b1 b3 b5 b6 = 6 of 10 (a3, b2 wrong; a4, b4 failed -> wrong)
    assert value(strict, "accuracy") == pytest.approx(0.6)
    assert value(strict, "failure_rate") == pytest.approx(0.2)
    # fakes a1 a3 b1 b4 b5: right a1 b1 b5 -> 3/5; reals a2 a4 b2 b3 b6: right a2 b3 b6 -> 3/5
    assert value(strict, "fake_accuracy") == pytest.approx(0.6)
    assert value(strict, "real_accuracy") == pytest.approx(0.6)
    assert strict["n_missing_p_fake"] == 2


def test_exclude_drops_failures_but_reports_their_rate():
    ex = score_records(RECORDS, ToyTask(), ["exclude"], SETTINGS)["exclude"]
    assert ex["n_scored"] == 8
    assert value(ex, "accuracy") == pytest.approx(6 / 8)
    assert value(ex, "failure_rate") == pytest.approx(0.2)


def test_missing_probability_becomes_the_verdict():
    frame = build_frame(to_records(RECORDS), ToyTask().protocols()["strict"], ("generator",)).frame
    ids = list(frame.ids)
    # a failed fake (b4) gets p=0 (confidently wrong); a failed real (a4) gets p=1
    assert frame.p[ids.index("b4")] == 0.0
    assert frame.p[ids.index("a4")] == 1.0
    from sklearn.metrics import roc_auc_score

    scores = score_records(RECORDS, ToyTask(), ["strict"], SETTINGS)["strict"]
    assert value(scores, "roc_auc") == pytest.approx(roc_auc_score(frame.y, frame.p))


def test_no_probabilities_means_null_threshold_free_metrics():
    records = [dict(r, p_fake=None) for r in RECORDS]
    strict = score_records(records, ToyTask(), ["strict"], SETTINGS)["strict"]
    for metric in ("ap", "roc_auc", "ece", "brier"):
        assert strict["overall"][metric] == {"value": None, "ci": None}
    assert value(strict, "accuracy") == pytest.approx(0.6)


def test_positive_class_setting():
    rp = score_records(RECORDS, ToyTask(), ["realpos"], SETTINGS)["realpos"]
    y = np.array([1, 0, 1, 0, 1, 0, 0, 1, 1, 0])
    yhat = np.array([1, 0, 0, 1, 1, 1, 0, 0, 1, 0])  # failures flipped to wrong
    from sklearn.metrics import f1_score

    assert value(rp, "f1") == pytest.approx(f1_score(y, yhat, pos_label=0))


def test_groups_and_aggregates():
    strict = score_records(RECORDS, ToyTask(), ["strict"], SETTINGS)["strict"]
    acc_a = strict["groups"]["generator"]["a"]["accuracy"]["value"]
    acc_b = strict["groups"]["generator"]["b"]["accuracy"]["value"]
    assert acc_a == pytest.approx(2 / 4) and acc_b == pytest.approx(4 / 6)
    assert strict["group_sizes"]["generator"] == {"a": 4, "b": 6}
    assert strict["aggregates"]["AB"]["accuracy"]["value"] == pytest.approx((0.5 + 4 / 6) / 2)
    assert strict["aggregates"]["AB_size"]["accuracy"]["value"] == pytest.approx(0.6)
    # a member that is absent is left out and the present members are recorded
    assert strict["aggregate_members"]["ABZ"] == ["a", "b"]
    low, high = strict["aggregates"]["AB"]["accuracy"]["ci"]
    assert low <= strict["aggregates"]["AB"]["accuracy"]["value"] <= high


def test_cis_are_seeded_ordered_and_independent_of_record_order():
    a = score_records(RECORDS, ToyTask(), settings=SETTINGS)
    b = score_records(list(reversed(RECORDS)), ToyTask(), settings=SETTINGS)
    assert a == b
    c = score_records(RECORDS, ToyTask(), settings=ScoreSettings(n_boot=200, seed=1))
    assert a["strict"]["overall"] != c["strict"]["overall"]  # another seed, other resamples
    for entry in a["strict"]["overall"].values():
        if entry["value"] is not None and entry["ci"] is not None:
            assert entry["ci"][0] <= entry["ci"][1]


def test_zero_resamples_gives_no_intervals():
    out = score_records(RECORDS, ToyTask(), ["strict"], ScoreSettings(n_boot=0))["strict"]
    assert out["overall"]["accuracy"]["ci"] is None
    assert out["overall"]["accuracy"]["value"] == pytest.approx(0.6)


def test_errors_for_bad_input():
    with pytest.raises(ResultsError, match="no protocol"):
        score_records(RECORDS, ToyTask(), ["paper"], SETTINGS)
    with pytest.raises(ResultsError, match="no predictions"):
        score_records([], ToyTask(), None, SETTINGS)
    bad = [dict(RECORDS[0], truth={"label": 5})]
    with pytest.raises(ResultsError, match="a1.*truth.label"):
        score_records(bad, ToyTask(), None, SETTINGS)


def test_reparse_hook_rederives_verdicts():
    def always_fake(pred, truth):
        pred.label, pred.parse_ok = 1, True
        return pred

    class Reparsed(ToyTask):
        def protocols(self):
            return {"strict": Protocol("strict", "x", reparse=always_fake)}

    out = score_records([r for r in RECORDS if r["error"] is None], Reparsed(), None, SETTINGS)["strict"]
    assert out["n_failed"] == 0
    assert value(out, "fake_accuracy") == pytest.approx(1.0)
    assert out["protocol"]["reparse"].endswith("always_fake")
