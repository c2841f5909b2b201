"""EER, TPR at fixed FPR, calibration (MCE, NLL, both ECE binnings) and three-way metrics: hand values and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import f1_score, log_loss, recall_score, roc_curve

from fdrbench.metrics.calibration import log_loss as fdr_log_loss
from fdrbench.metrics.calibration import mce, nll
from fdrbench.metrics.detection import eer, tpr_at_fpr
from fdrbench.metrics.ternary import class_f1, encode_classes, macro_f1
from fdrbench.score_arrays import calibration_scores, detection_scores, ternary_scores


def test_eer_hand_computed():
    # threshold 0.4: TPR 1/2, FPR 1/2 -> FNR = FPR = 0.5
    assert eer(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.5)
    # perfectly separated: some threshold has FPR = FNR = 0
    assert eer(np.array([0, 0, 0, 1, 1]), np.array([0.1, 0.2, 0.6, 0.7, 0.9])) == pytest.approx(0.0)
    # all scores tied: one threshold (everything fake: FPR 1, FNR 0); chance level
    assert eer(np.array([0, 1, 0, 1]), np.full(4, 0.5)) == pytest.approx(0.5)
    assert np.isnan(eer(np.array([1, 1]), np.array([0.2, 0.9])))  # one class only


def test_eer_and_tpr_match_the_roc_curve_of_sklearn():
    rng = np.random.default_rng(3)
    for _ in range(100):
        n = int(rng.integers(4, 40))
        y = rng.integers(0, 2, n)
        s = rng.integers(0, 6, n).astype(float)  # many ties
        if len(set(y)) < 2:
            continue
        fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
        best = np.nanargmin(np.abs((1 - tpr) - fpr))
        assert eer(y, s) == pytest.approx((fpr[best] + 1 - tpr[best]) / 2)
        assert tpr_at_fpr(y, s, 0.1) == pytest.approx(tpr[fpr <= 0.1].max())
        batched = eer(np.stack([y, y]), np.stack([s, s]))
        assert batched.shape == (2,) and batched[1] == pytest.approx(eer(y, s))


def test_tpr_at_fixed_fpr_hand_computed():
    y = np.array([0] * 10 + [1] * 4)
    s = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.85, 0.5, 0.05])
    # at most 1 false alarm in 10 reals (FPR <= 10%): threshold 0.85 catches 2 of 4 fakes
    assert tpr_at_fpr(y, s, 0.10) == pytest.approx(0.5)
    # no false alarm allowed: only the 0.95 fake
    assert tpr_at_fpr(y, s, 0.05) == pytest.approx(0.25)
    out = detection_scores(y.tolist(), p_fake=s.tolist())
    assert out["tpr_at_5pct_fpr"] == pytest.approx(0.25) and out["tpr_at_1pct_fpr"] == pytest.approx(0.25)


def test_mce_nll_and_equal_mass_ece_hand_computed():
    y = np.array([0, 1, 1, 0])
    p = np.array([0.1, 0.9, 0.8, 0.3])
    assert mce(y, p) == pytest.approx(0.3)  # one sample per bin: gaps .1 .1 .2 .3
    assert mce(y, p, n_bins=2) == pytest.approx(0.2)  # bins {.1,.3} gap .2, {.8,.9} gap .15
    # NLL of p = (.8 for a fake, .4 for a real): 1 - geometric mean of (.8, .6)
    assert nll(np.array([1, 0]), np.array([0.8, 0.4])) == pytest.approx(1 - math.sqrt(0.8 * 0.6))
    rng = np.random.default_rng(0)
    yy, pp = rng.integers(0, 2, 200), rng.random(200)
    assert fdr_log_loss(yy, pp) == pytest.approx(log_loss(yy, pp))
    out = calibration_scores([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.9], n_bins=2, em_bins=2)
    assert out["ece"] == pytest.approx(0.125) and out["ece_em"] == pytest.approx(0.225)
    assert out["details"]["ece"]["n_bins"] == 2 and out["details"]["ece"]["binning"] == "equal-width"
    assert out["details"]["ece_em"]["binning"] == "equal-mass"
    bins = out["details"]["ece_em"]["reliability"]
    assert [b["count"] for b in bins] == [2, 2]
    assert bins[1] == {"bin": 1, "confidence": pytest.approx(0.6), "accuracy": 0.5, "count": 2}
    assert out["details"]["nll"]["log_loss_nats"] == pytest.approx(log_loss([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.9]))


def test_certain_and_wrong_probabilities_stay_in_range():
    out = calibration_scores([1, 0], [0.0, 1.0])
    assert 0.999 < out["nll"] <= 1.0 and out["ece"] == 1.0 and out["mce"] == 1.0 and out["brier"] == 1.0


def test_batched_mce_and_nll_match_rows():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, (6, 30))
    p = rng.random((6, 30))
    for fn in (mce, nll):
        batched = fn(y, p)
        assert batched.shape == (6,)
        for row in range(6):
            assert batched[row] == pytest.approx(fn(y[row], p[row]))


TRUE3 = ["real", "real", "full_synthetic", "full_synthetic", "tampered", "tampered"]
PRED3 = ["real", "full_synthetic", "full_synthetic", None, "tampered", "real"]


def test_ternary_hand_computed():
    out = ternary_scores(TRUE3, PRED3)
    # real: tp 1, fp 1 (tampered->real), fn 1 -> F1 1/2; full_synthetic: tp 1, fp 1, fn 1 (unparsed) -> 1/2;
    # tampered: tp 1, fp 0, fn 1 -> 2/3
    assert out["real_f1"] == pytest.approx(0.5)
    assert out["full_synthetic_f1"] == pytest.approx(0.5)
    assert out["tampered_f1"] == pytest.approx(2 / 3)
    assert out["macro_f1"] == pytest.approx(5 / 9)
    assert out["real_recall"] == out["full_synthetic_recall"] == out["tampered_recall"] == pytest.approx(0.5)
    assert out["macro_recall"] == pytest.approx(0.5) and out["ternary_accuracy"] == pytest.approx(0.5)
    cm = out["details"]["macro_f1"]
    assert cm["predicted_columns"][-1] == "no_class"
    assert cm["confusion_matrix"] == [[1, 1, 0, 0], [0, 1, 0, 1], [1, 0, 1, 0]]
    assert cm["per_class"]["tampered"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}


def test_ternary_matches_sklearn():
    rng = np.random.default_rng(2)
    names = ["real", "full_synthetic", "tampered"]
    t = [names[i] for i in rng.integers(0, 3, 300)]
    p = [names[i] for i in rng.integers(0, 3, 300)]
    out = ternary_scores(t, p)
    assert out["macro_f1"] == pytest.approx(f1_score(t, p, average="macro"))
    assert out["macro_recall"] == pytest.approx(recall_score(t, p, average="macro"))
    ct, cp = encode_classes(t), encode_classes(p)
    assert class_f1(ct, cp, 2) == pytest.approx(f1_score(t, p, labels=["tampered"], average=None)[0])
    batched = macro_f1(np.stack([ct, ct]), np.stack([cp, cp]))
    assert batched.shape == (2,) and batched[0] == pytest.approx(out["macro_f1"])


def test_ternary_edge_cases():
    # one class only in the truth: tampered (never true, never predicted) is left out of the mean
    out = ternary_scores(["real", "real"], ["real", "full_synthetic"])
    assert out["real_f1"] == pytest.approx(2 / 3) and out["full_synthetic_f1"] == 0.0
    assert out["tampered_f1"] is None and out["macro_f1"] == pytest.approx(1 / 3)
    # every output unparsed: no class stated at all -> null with the reason, never 0
    out = ternary_scores(["real", "tampered"], [None, None])
    assert out["macro_f1"] is None
    assert out["details"]["macro_f1"] == {"unavailable": "the detector states no three-way class"}
    with pytest.raises(ValueError, match="unknown class 'fake'"):
        encode_classes(["fake"])


def test_all_failed_and_one_class_detection():
    out = detection_scores([1, 0, 1], [None, None, None])
    assert out["accuracy"] == 0.0 and out["failure_rate"] == 1.0
    assert out["ap"] is None and out["eer"] is None  # no p_fake at all
    one_class = detection_scores([1, 1, 1], [1, 0, 1], p_fake=[0.9, 0.3, 0.8])
    assert one_class["roc_auc"] is None and one_class["eer"] is None and one_class["real_accuracy"] is None
    assert one_class["fake_accuracy"] == pytest.approx(2 / 3)
