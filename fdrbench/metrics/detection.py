"""Binary detection metrics (fake = 1) on plain arrays, and their registry entries.

Every function takes arrays whose last axis is the samples, so one call can score a batch of
bootstrap replicates. Undefined values (no real images for ``real_accuracy``, one class only
for AUC, nothing predicted positive for precision) are ``NaN``, reported as null, never 0.
Point values of AP and ROC-AUC come from scikit-learn; bootstrap replicates use vectorised
equivalents (step-wise AP over distinct thresholds; the Mann-Whitney statistic with mid-ranks
for AUC), tested equal to scikit-learn.
"""

from __future__ import annotations

import numpy as np

from fdrbench.metrics.frame import Frame, Metric, family


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def confusion(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> tuple[np.ndarray, ...]:
    """(tp, fp, fn, tn) counts along the last axis for the given positive class."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    t_pos = y_true == positive
    p_pos = y_pred == positive
    tp = np.sum(t_pos & p_pos, axis=-1)
    fp = np.sum(~t_pos & p_pos, axis=-1)
    fn = np.sum(t_pos & ~p_pos, axis=-1)
    tn = np.sum(~t_pos & ~p_pos, axis=-1)
    return tp, fp, fn, tn


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    y_true = np.asarray(y_true)
    if y_true.shape[-1] == 0:
        return np.full(y_true.shape[:-1], np.nan)
    return np.mean(y_true == np.asarray(y_pred), axis=-1)


def class_accuracy(y_true: np.ndarray, y_pred: np.ndarray, cls: int) -> np.ndarray:
    """Accuracy on the samples whose truth is ``cls`` (= recall of that class)."""
    y_true = np.asarray(y_true)
    mask = y_true == cls
    return _ratio(np.sum(mask & (np.asarray(y_pred) == cls), axis=-1), np.sum(mask, axis=-1))


def real_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return class_accuracy(y_true, y_pred, 0)


def fake_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return class_accuracy(y_true, y_pred, 1)


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Mean of the per-class accuracies of the classes present (scikit-learn's definition)."""
    both = np.stack([real_accuracy(y_true, y_pred), fake_accuracy(y_true, y_pred)])
    present = np.isfinite(both)
    total = np.where(present, both, 0.0).sum(axis=0)
    return _ratio(total, present.sum(axis=0))


def precision(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> np.ndarray:
    tp, fp, _, _ = confusion(y_true, y_pred, positive)
    return _ratio(tp, tp + fp)


def recall(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> np.ndarray:
    tp, _, fn, _ = confusion(y_true, y_pred, positive)
    return _ratio(tp, tp + fn)


def f1(y_true: np.ndarray, y_pred: np.ndarray, positive: int = 1) -> np.ndarray:
    tp, fp, fn, _ = confusion(y_true, y_pred, positive)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Area under the ROC curve; 1-D input uses scikit-learn, batches the rank statistic."""
    y_true = np.asarray(y_true)
    score = np.asarray(score, dtype=float)
    if y_true.ndim == 1:
        if len(np.unique(y_true)) < 2:
            return np.array(np.nan)
        from sklearn.metrics import roc_auc_score

        return np.array(roc_auc_score(y_true, score))
    from scipy.stats import rankdata

    ranks = rankdata(score, axis=-1)
    pos = y_true == 1
    n_pos = pos.sum(axis=-1)
    n_neg = y_true.shape[-1] - n_pos
    u = np.sum(np.where(pos, ranks, 0.0), axis=-1) - n_pos * (n_pos + 1) / 2.0
    return _ratio(u, n_pos * n_neg)


def average_precision(y_true: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Step-wise AP, sum of (R_n - R_{n-1}) P_n over distinct thresholds, fake positive.

    1-D input uses scikit-learn; batches use the same definition vectorised (tied scores form
    one threshold, as in scikit-learn). NaN when there is no fake image.
    """
    y_true = np.asarray(y_true)
    score = np.asarray(score, dtype=float)
    if y_true.ndim == 1:
        if not y_true.any():
            return np.array(np.nan)
        from sklearn.metrics import average_precision_score

        return np.array(average_precision_score(y_true, score))
    order = np.argsort(-score, axis=-1, kind="stable")
    s = np.take_along_axis(score, order, axis=-1)
    pos = np.take_along_axis(y_true == 1, order, axis=-1)
    tp = np.cumsum(pos, axis=-1)
    seen = np.arange(1, s.shape[-1] + 1)
    is_end = np.ones_like(pos)
    is_end[..., :-1] = s[..., :-1] != s[..., 1:]
    at_end = np.where(is_end, tp, 0)
    before = np.zeros_like(tp)
    before[..., 1:] = np.maximum.accumulate(at_end, axis=-1)[..., :-1]
    n_pos = tp[..., -1]
    gain = np.where(is_end, (tp - before) * (tp / seen), 0.0).sum(axis=-1)
    return _ratio(gain, n_pos)


def _roc_steps(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tpr, fpr, is_point) at every distinct threshold, scores descending, along the last axis.

    Rows are sorted by score; a run of tied scores is one threshold, so only the last row of
    each run is a point of the ROC curve (``is_point``). The origin (nothing called fake) is
    left implicit. Undefined rates (no fake or no real image) are NaN.
    """
    y_true = np.asarray(y_true)
    score = np.asarray(score, dtype=float)
    order = np.argsort(-score, axis=-1, kind="stable")
    s = np.take_along_axis(score, order, axis=-1)
    pos = np.take_along_axis(y_true == 1, order, axis=-1)
    tp = np.cumsum(pos, axis=-1)
    fp = np.cumsum(~pos, axis=-1)
    is_point = np.ones(pos.shape, dtype=bool)
    is_point[..., :-1] = s[..., :-1] != s[..., 1:]
    tpr = _ratio(tp, tp[..., -1:])
    fpr = _ratio(fp, fp[..., -1:])
    return tpr, fpr, is_point


def eer(y_true: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Equal error rate: the mean of FPR and FNR at the threshold where they are closest.

    Every distinct score is a candidate threshold, plus "nothing is fake" (FPR 0, FNR 1). NaN
    with one class only. DeepfakeBench reports the FPR at that threshold; the two agree
    whenever the curve has a point with FPR = FNR.
    """
    y_true = np.asarray(y_true)
    score = np.asarray(score, dtype=float)
    if y_true.shape[-1] == 0:
        return np.full(y_true.shape[:-1], np.nan)
    tpr, fpr, is_point = _roc_steps(y_true, score)
    fnr = 1.0 - tpr
    gap = np.where(is_point, np.abs(fnr - fpr), np.inf)
    gap = np.where(np.isnan(gap), np.inf, gap)
    best = np.argmin(gap, axis=-1)[..., None]
    at_best = (np.take_along_axis(fpr, best, -1) + np.take_along_axis(fnr, best, -1))[..., 0] / 2.0
    at_best_gap = np.take_along_axis(gap, best, -1)[..., 0]
    # the origin's gap is |1 - 0| = 1; it wins only when no threshold does better
    undefined = np.isnan(tpr[..., -1]) | np.isnan(fpr[..., -1])
    out = np.where(at_best_gap < 1.0, at_best, 0.5)
    return np.where(undefined, np.nan, out)


def tpr_at_fpr(y_true: np.ndarray, score: np.ndarray, max_fpr: float) -> np.ndarray:
    """Highest TPR (fake recall) of any threshold whose FPR does not exceed ``max_fpr``.

    No interpolation between thresholds: the operating point must exist. NaN with one class only.
    """
    y_true = np.asarray(y_true)
    score = np.asarray(score, dtype=float)
    if y_true.shape[-1] == 0:
        return np.full(y_true.shape[:-1], np.nan)
    tpr, fpr, is_point = _roc_steps(y_true, score)
    ok = is_point & (fpr <= max_fpr + 1e-12)
    best = np.max(np.where(ok, tpr, 0.0), axis=-1)
    undefined = np.isnan(tpr[..., -1]) | np.isnan(fpr[..., -1])
    return np.where(undefined, np.nan, best)


# --------------------------------------------------------------------------- registry entries


def _labels(fn):
    return lambda frame, idx: fn(frame.y[idx], frame.yhat[idx])


def _positive(fn):
    return lambda frame, idx: fn(frame.y[idx], frame.yhat[idx], frame.positive)


def _scores(fn):
    return lambda frame, idx: fn(frame.y[idx], frame.p[idx])


def _right(frame: Frame) -> np.ndarray:
    return frame.yhat == frame.y


def _failed(frame: Frame) -> np.ndarray:
    return frame.failed


METRICS = family(
    "detection",
    (
        Metric("accuracy", _labels(accuracy), "share of samples whose verdict matches the truth", outcome=_right),
        Metric("balanced_accuracy", _labels(balanced_accuracy), "mean of real and fake accuracy"),
        Metric("real_accuracy", _labels(real_accuracy), "accuracy on real images (r_acc)"),
        Metric("fake_accuracy", _labels(fake_accuracy), "accuracy on fake images (f_acc)"),
        Metric("precision", _positive(precision), "precision of the protocol's positive class"),
        Metric("recall", _positive(recall), "recall of the protocol's positive class"),
        Metric("f1", _positive(f1), "F1 of the protocol's positive class"),
        # papers that print both classes' F1 side by side (whatever the protocol's positive class)
        Metric("f1_fake", _labels(lambda y, yhat: f1(y, yhat, 1)), "F1 with fake as the positive class"),
        Metric("f1_real", _labels(lambda y, yhat: f1(y, yhat, 0)), "F1 with real as the positive class"),
        Metric("ap", _scores(average_precision), "average precision of p_fake, fake positive", needs_p=True),
        Metric("roc_auc", _scores(roc_auc), "area under the ROC curve of p_fake", needs_p=True),
        Metric("eer", _scores(eer), "equal error rate of p_fake (FPR = FNR)", needs_p=True, higher_is_better=False),
        Metric(
            "tpr_at_1pct_fpr",
            lambda frame, idx: tpr_at_fpr(frame.y[idx], frame.p[idx], 0.01),
            "share of fakes caught at a p_fake threshold that flags at most 1% of real images",
            needs_p=True,
        ),
        Metric(
            "tpr_at_5pct_fpr",
            lambda frame, idx: tpr_at_fpr(frame.y[idx], frame.p[idx], 0.05),
            "share of fakes caught at a p_fake threshold that flags at most 5% of real images",
            needs_p=True,
        ),
        Metric(
            "failure_rate",
            lambda frame, idx: np.mean(frame.failed[idx], axis=-1),
            "share of samples with no usable verdict (error or unparsed output)",
            higher_is_better=False,
            rows="all",
            outcome=_failed,
        ),
    ),
)
