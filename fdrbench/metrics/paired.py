"""Paired comparison of two runs on the samples they share: bootstrap differences and McNemar.

Both runs are scored on the same resampled rows in every replicate, so the interval of the
difference accounts for the two runs being measured on the same images (an unpaired test on
paired data would be far too wide or, with correlated errors, misleading).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fdrbench.errors import ResultsError
from fdrbench.metrics.frame import Frame, Metric
from fdrbench.metrics.stats import DEFAULT_LEVEL, derive_seed, percentile_ci, resample_chunks


@dataclass(frozen=True)
class Alignment:
    """Row indices of the shared samples in each frame, in the same (sample id) order."""

    ids: np.ndarray
    rows_a: np.ndarray
    rows_b: np.ndarray


def align(frame_a: Frame, frame_b: Frame) -> Alignment:
    """Match rows by sample id; the shared samples must have the same truth in both runs."""
    index_b = {sid: i for i, sid in enumerate(frame_b.ids)}
    pairs = [(sid, i, index_b[sid]) for i, sid in enumerate(frame_a.ids) if sid in index_b]
    if not pairs:
        raise ResultsError("the two runs share no sample ids")
    ids, rows_a, rows_b = zip(*sorted(pairs), strict=True)
    rows_a_arr = np.asarray(rows_a)
    rows_b_arr = np.asarray(rows_b)
    mismatch = np.flatnonzero(frame_a.y[rows_a_arr] != frame_b.y[rows_b_arr])
    if mismatch.size:
        raise ResultsError(f"the runs disagree on the truth of {mismatch.size} shared samples, e.g. {ids[mismatch[0]]!r}")
    return Alignment(np.asarray(ids, dtype=object), rows_a_arr, rows_b_arr)


def restrict(al: Alignment, keep_a: np.ndarray, keep_b: np.ndarray) -> Alignment:
    """The shared samples that both runs keep (e.g. not excluded by a protocol in either run)."""
    keep = np.asarray(keep_a, dtype=bool)[al.rows_a] & np.asarray(keep_b, dtype=bool)[al.rows_b]
    return Alignment(al.ids[keep], al.rows_a[keep], al.rows_b[keep])


def difference_entry(metric: Metric, n: int, value_a: float | None, value_b: float | None) -> dict:
    """A paired comparison's result before its interval: both values and B - A where both exist."""
    diff = value_b - value_a if value_a is not None and value_b is not None and n else None
    return {"metric": metric.name, "n": int(n), "a": value_a, "b": value_b, "diff": diff, "ci": None, "p_value": None}


def paired_difference(
    metric: Metric,
    frame_a: Frame,
    frame_b: Frame,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
    alignment: Alignment | None = None,
) -> dict:
    """``metric(B) - metric(A)`` on shared samples, with a paired, label-stratified bootstrap CI.

    ``p_value`` is the two-sided bootstrap p-value of "no difference" (twice the smaller tail
    share of replicates on either side of zero). ``alignment`` (default: every shared sample)
    chooses the rows compared.
    """
    al = alignment if alignment is not None else align(frame_a, frame_b)
    value_a = metric.value(frame_a, al.rows_a)
    value_b = metric.value(frame_b, al.rows_b)
    out = difference_entry(metric, len(al.ids), value_a, value_b)
    if out["diff"] is None or n_boot <= 0:
        return out
    positions = np.arange(len(al.ids))
    diffs = []
    for chunk in resample_chunks(positions, frame_a.y[al.rows_a], n_boot, derive_seed(seed, "paired", metric.name)):
        diffs.append(metric.replicates(frame_b, al.rows_b[chunk]) - metric.replicates(frame_a, al.rows_a[chunk]))
    reps = np.concatenate(diffs)
    out["ci"] = percentile_ci(reps, level)
    finite = reps[np.isfinite(reps)]
    if finite.size:
        out["p_value"] = float(min(1.0, 2.0 * min(np.mean(finite <= 0), np.mean(finite >= 0))))
    return out


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> dict:
    """McNemar's test on paired right/wrong outcomes.

    ``b`` = A right and B wrong, ``c`` = A wrong and B right. Exact binomial p-value when
    ``b + c < 25``, else the chi-squared statistic with continuity correction.
    """
    from scipy.stats import binomtest, chi2

    a = np.asarray(correct_a, dtype=bool)
    b_arr = np.asarray(correct_b, dtype=bool)
    b = int(np.sum(a & ~b_arr))
    c = int(np.sum(~a & b_arr))
    n = b + c
    if n == 0:
        return {"b": b, "c": c, "statistic": 0.0, "p_value": 1.0, "exact": True}
    if n < 25:
        return {"b": b, "c": c, "statistic": float(min(b, c)), "p_value": float(binomtest(min(b, c), n, 0.5).pvalue), "exact": True}
    stat = (abs(b - c) - 1) ** 2 / n
    return {"b": b, "c": c, "statistic": float(stat), "p_value": float(chi2.sf(stat, 1)), "exact": False}
