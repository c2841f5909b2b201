"""Paired comparison: alignment by id, bootstrap difference, McNemar against hand values."""

from __future__ import annotations

import numpy as np
import pytest

from fdrbench.errors import ResultsError
from fdrbench.metrics import get_metric
from fdrbench.metrics.frame import Frame
from fdrbench.metrics.paired import align, mcnemar, paired_difference


def frame(ids, y, yhat, p=None):
    y = np.asarray(y, dtype=np.int8)
    yhat = np.asarray(yhat, dtype=np.int8)
    p = np.asarray(p if p is not None else yhat, dtype=float)
    return Frame(ids=np.asarray(ids, dtype=object), y=y, yhat=yhat, p=p, failed=np.zeros(len(y), bool), has_p=True)


def test_align_matches_ids_and_checks_truth():
    a = frame(["x", "y", "z"], [1, 0, 1], [1, 0, 0])
    b = frame(["z", "w", "x"], [1, 0, 1], [1, 1, 1])
    al = align(a, b)
    assert list(al.ids) == ["x", "z"]
    assert list(al.rows_a) == [0, 2] and list(al.rows_b) == [2, 0]
    with pytest.raises(ResultsError, match="disagree on the truth"):
        align(a, frame(["x"], [0], [0]))
    with pytest.raises(ResultsError, match="share no sample"):
        align(a, frame(["q"], [0], [0]))


def test_paired_accuracy_difference():
    rng = np.random.default_rng(0)
    n = 400
    y = rng.integers(0, 2, n)
    a_right = rng.random(n) < 0.70
    b_right = a_right | (rng.random(n) < 0.5)  # B fixes about half of A's mistakes
    ids = [f"s{i}" for i in range(n)]
    fa = frame(ids, y, np.where(a_right, y, 1 - y))
    fb = frame(ids, y, np.where(b_right, y, 1 - y))
    out = paired_difference(get_metric("accuracy"), fa, fb, n_boot=500, seed=1)
    assert out["diff"] == pytest.approx(b_right.mean() - a_right.mean())
    low, high = out["ci"]
    assert 0 < low <= out["diff"] <= high
    assert out["p_value"] < 0.01
    same = paired_difference(get_metric("accuracy"), fa, fa, n_boot=200)
    assert same["diff"] == 0.0 and same["ci"] == [0.0, 0.0]


def test_mcnemar_hand_values():
    # b = 2 (A right, B wrong), c = 8: exact two-sided binomial p = 2 * P(X <= 2 | n=10, 1/2) = 112/1024
    a = np.array([1] * 2 + [0] * 8 + [1] * 5, dtype=bool)
    b = np.array([0] * 2 + [1] * 8 + [1] * 5, dtype=bool)
    out = mcnemar(a, b)
    assert (out["b"], out["c"], out["exact"]) == (2, 8, True)
    assert out["p_value"] == pytest.approx(112 / 1024)
    # large counts: chi-squared with continuity correction, (|10 - 30| - 1)^2 / 40 = 9.025
    a = np.array([1] * 10 + [0] * 30, dtype=bool)
    out = mcnemar(a, ~a)
    assert out["statistic"] == pytest.approx(9.025) and not out["exact"]
    assert out["p_value"] == pytest.approx(0.002663, rel=1e-3)
    assert mcnemar(a, a)["p_value"] == 1.0
