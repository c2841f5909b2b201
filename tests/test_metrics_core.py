"""Detection and calibration metrics against hand-computed values and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, balanced_accuracy_score, brier_score_loss, f1_score, roc_auc_score

from fdrbench.metrics import all_metrics, get_metric
from fdrbench.metrics.calibration import brier, ece, reliability
from fdrbench.metrics.detection import (
    accuracy,
    average_precision,
    balanced_accuracy,
    f1,
    fake_accuracy,
    precision,
    real_accuracy,
    recall,
    roc_auc,
)
from fdrbench.metrics.stats import percentile_ci, resample_chunks

Y = np.array([1, 1, 1, 1, 0, 0])
YHAT = np.array([1, 1, 1, 0, 1, 0])


def test_label_metrics_hand_computed():
    assert accuracy(Y, YHAT) == pytest.approx(4 / 6)
    assert fake_accuracy(Y, YHAT) == pytest.approx(3 / 4)
    assert real_accuracy(Y, YHAT) == pytest.approx(1 / 2)
    assert balanced_accuracy(Y, YHAT) == pytest.approx(0.625)
    assert precision(Y, YHAT) == pytest.approx(0.75)
    assert recall(Y, YHAT) == pytest.approx(0.75)
    assert f1(Y, YHAT) == pytest.approx(0.75)
    # real as the positive class (FakeVLM's published F1)
    assert precision(Y, YHAT, positive=0) == pytest.approx(0.5)
    assert recall(Y, YHAT, positive=0) == pytest.approx(0.5)
    assert f1(Y, YHAT, positive=0) == pytest.approx(0.5)


def test_label_metrics_match_sklearn_on_random_data():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    yhat = rng.integers(0, 2, 200)
    assert balanced_accuracy(y, yhat) == pytest.approx(balanced_accuracy_score(y, yhat))
    assert f1(y, yhat) == pytest.approx(f1_score(y, yhat))
    assert f1(y, yhat, 0) == pytest.approx(f1_score(y, yhat, pos_label=0))


def test_undefined_values_are_nan_not_zero():
    only_fake = np.array([1, 1, 1])
    assert np.isnan(real_accuracy(only_fake, only_fake))
    assert balanced_accuracy(only_fake, np.array([1, 0, 1])) == pytest.approx(2 / 3)
    assert np.isnan(precision(np.array([1, 0]), np.array([0, 0])))
    assert np.isnan(roc_auc(only_fake, np.array([0.1, 0.2, 0.3])))
    assert np.isnan(average_precision(np.array([0, 0]), np.array([0.1, 0.2])))
    assert np.isnan(accuracy(np.array([], dtype=int), np.array([], dtype=int)))


def test_threshold_free_hand_computed():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8])
    assert roc_auc(y, s) == pytest.approx(0.75)
    assert average_precision(y, s) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_batched_auc_and_ap_equal_sklearn_with_ties():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, (30, 50))
    s = rng.integers(0, 5, (30, 50)).astype(float)  # many ties
    batched = roc_auc(y, s)
    for row in range(30):
        assert batched[row] == pytest.approx(roc_auc_score(y[row], s[row]))
    ap = average_precision(y, s)
    for row in range(30):
        assert ap[row] == pytest.approx(average_precision_score(y[row], s[row]))
    continuous = rng.random((10, 50))
    ap = average_precision(y[:10], continuous)
    for row in range(10):
        assert ap[row] == pytest.approx(average_precision_score(y[row], continuous[row]))


def test_ece_hand_computed_both_binnings():
    y = np.array([0, 1, 1, 0])
    p = np.array([0.1, 0.9, 0.8, 0.3])
    assert ece(y, p) == pytest.approx(0.175)  # 15 uniform bins: one sample per bin
    assert ece(y, p, n_bins=1) == pytest.approx(0.025)
    y2 = np.array([0, 1, 0, 1])
    p2 = np.array([0.1, 0.2, 0.3, 0.9])
    assert ece(y2, p2, n_bins=2, binning="quantile") == pytest.approx(0.225)
    assert ece(y2, p2, n_bins=2, binning="uniform") == pytest.approx(0.125)
    assert ece(np.array([1, 0]), np.array([1.0, 0.0])) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        ece(y, p, binning="other")


def test_ece_batched_matches_rows():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, (7, 40))
    p = rng.random((7, 40))
    for binning in ("uniform", "quantile"):
        batched = ece(y, p, 10, binning)
        assert batched.shape == (7,)
        for row in range(7):
            assert batched[row] == pytest.approx(ece(y[row], p[row], 10, binning))


def test_brier_and_reliability():
    assert brier(np.array([0, 1]), np.array([0.2, 0.6])) == pytest.approx(0.1)
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 100)
    p = rng.random(100)
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p))
    bins = reliability(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.8, 0.3]), n_bins=2)
    assert bins[0] == {"bin": 0, "confidence": pytest.approx(0.2), "accuracy": 0.0, "count": 2}
    assert bins[1]["accuracy"] == 1.0 and bins[1]["count"] == 2


def test_registry_of_metrics():
    names = set(all_metrics())
    assert {
        "accuracy",
        "balanced_accuracy",
        "real_accuracy",
        "fake_accuracy",
        "precision",
        "recall",
        "f1",
        "ap",
        "roc_auc",
        "ece",
        "brier",
        "failure_rate",
    } <= names
    assert get_metric("ap").needs_p
    with pytest.raises(Exception, match="Did you mean accuracy"):
        get_metric("acuracy")


def test_stratified_resampling_keeps_label_counts_and_is_seeded():
    rows = np.arange(10)
    strata = np.array([0] * 3 + [1] * 7)
    a = np.concatenate(resample_chunks(rows, strata, 50, seed=9))
    b = np.concatenate(resample_chunks(rows, strata, 50, seed=9))
    assert np.array_equal(a, b)
    assert a.shape == (50, 10)
    assert np.all((a < 3).sum(axis=1) == 3)
    assert percentile_ci(np.array([np.nan, np.nan])) is None
    low, high = percentile_ci(np.arange(101, dtype=float), 0.9)
    assert (low, high) == pytest.approx((5.0, 95.0))
