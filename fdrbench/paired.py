"""The paired comparison of two runs of one task: the one engine ``fdrbench compare`` and the leaderboard use.

Both runs are scored under the same protocol and compared on the samples both score (a
protocol that excludes failures may drop different samples in each run; a metric that reads
every row, such as ``failure_rate``, compares every shared sample). The metric's own record
says which test decides: McNemar's test on its per-sample outcome where it has one (accuracy:
right/wrong; failure rate: failed or not), a paired, label-stratified bootstrap of the
difference otherwise; the bootstrap interval of the difference is reported for every metric.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from fdrbench.errors import ResultsError
from fdrbench.metrics.frame import Frame, Metric
from fdrbench.metrics.paired import align, difference_entry, mcnemar, paired_difference
from fdrbench.metrics.registry import get_metric
from fdrbench.metrics.stats import derive_seed, percentile_ci, resample_chunks
from fdrbench.results import RunDir
from fdrbench.scoring import ScoredFrame, build_frame, prepare_metrics


def load_scored(run_dir: Path, protocol_name: str) -> ScoredFrame:
    """A run's predictions under one of its task's protocols (the task by its registered name)."""
    run = RunDir(run_dir)
    manifest = run.manifest()
    task = run.task(manifest)
    protocols = task.protocols()
    if protocol_name not in protocols:
        raise ResultsError(f"task {task.name!r} has no protocol {protocol_name!r}; it has {', '.join(protocols)}")
    records, _ = run.records()
    if not records:
        raise ResultsError(f"{run.path} has no predictions")
    return build_frame(records.values(), protocols[protocol_name], task.group_keys)


def subset(frame: Frame, rows: np.ndarray) -> Frame:
    """The frame restricted to ``rows`` (every per-sample array and column indexed alike)."""
    rows = np.asarray(rows, dtype=np.int64)
    pick = {name: getattr(frame, name)[rows] for name in ("ids", "y", "yhat", "p", "failed")}
    for name in ("cls_true", "cls_pred"):
        value = getattr(frame, name)
        pick[name] = value[rows] if value is not None else None
    return replace(
        frame,
        **pick,
        records=[frame.records[i] for i in rows] if frame.records else [],
        predictions=[frame.predictions[i] for i in rows] if frame.predictions else [],
        # per-sample columns follow the rows; one-value columns (a family's settings) are kept as they are
        columns={k: (v[rows] if len(v) == len(frame) else v) for k, v in frame.columns.items()},
    )


def _decide(out: dict, metric: Metric, frame_a: Frame, frame_b: Frame, level: float) -> dict:
    out["higher_is_better"] = metric.higher_is_better
    out["test"] = metric.paired_test
    ci = out.get("ci")
    out["separated"] = bool(ci is not None and (ci[0] > 0 or ci[1] < 0))
    if metric.outcome is not None and out.get("a") is not None and out.get("b") is not None:
        test = mcnemar(metric.outcome(frame_a), metric.outcome(frame_b))
        out.update(mcnemar=test, bootstrap_p_value=out["p_value"], p_value=test["p_value"], separated=bool(test["p_value"] < 1.0 - level))
    return out


def compare_metric(
    metric_name: str,
    a: ScoredFrame,
    b: ScoredFrame,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    interval: bool = True,
    prepared: bool = False,
) -> dict:
    """``metric(B) - metric(A)`` on the samples both runs score, with its CI and whether it is significant.

    ``separated`` is True when the difference is significant at ``1 - level`` by the metric's
    paired test. ``interval`` False skips the bootstrap where McNemar decides (the index only
    needs the decision); ``prepared`` says the metric's columns are already filled on both frames.
    """
    metric = get_metric(metric_name)
    if not prepared:
        prepare_metrics(a.frame, [metric])
        prepare_metrics(b.frame, [metric])
    frame_a = subset(a.frame, a.rows_for(metric))
    frame_b = subset(b.frame, b.rows_for(metric))
    shared = align(frame_a, frame_b)
    frame_a, frame_b = subset(frame_a, shared.rows_a), subset(frame_b, shared.rows_b)
    boot = n_boot if interval or metric.outcome is None else 0
    out = paired_difference(metric, frame_a, frame_b, n_boot=boot, seed=seed, level=level)
    reason = a.frame.unavailable.get(metric_name) or b.frame.unavailable.get(metric_name)
    if reason:
        out["unavailable"] = reason
    return _decide(out, metric, frame_a, frame_b, level)


class SharedSamples:
    """Paired tests among many runs that scored the very same rows, at one bootstrap per run.

    Runs of one cohort hold the same sample ids, so when a protocol scores every row the
    alignment of any pair is the identity. The paired bootstrap then draws the same resamples
    for every pair, and a pair's replicate differences are the difference of the two runs'
    replicates: computing each run's replicates once gives every pair, with the results of
    :func:`compare_metric` (same seeds, same resamples), in runs instead of pairs.
    """

    def __init__(self, n_boot: int, seed: int = 0, level: float = 0.95):
        self.n_boot, self.seed, self.level = n_boot, seed, level
        self._ids: np.ndarray | None = None
        self._chunks: dict[str, list[np.ndarray]] = {}
        self._reps: dict[tuple[int, str], np.ndarray] = {}

    def accepts(self, scored: ScoredFrame) -> bool:
        """True when the run scores every row and its rows are the cohort's (first run's) rows."""
        if not bool(np.all(scored.included)):
            return False
        if self._ids is None:
            self._ids = scored.frame.ids
            self._y = scored.frame.y
            return True
        return bool(np.array_equal(self._ids, scored.frame.ids) and np.array_equal(self._y, scored.frame.y))

    def _replicates(self, metric: Metric, scored: ScoredFrame) -> np.ndarray:
        key = (id(scored), metric.name)
        if key not in self._reps:
            if metric.name not in self._chunks:
                seed = derive_seed(self.seed, "paired", metric.name)
                self._chunks[metric.name] = resample_chunks(np.arange(len(self._y)), self._y, self.n_boot, seed)
            self._reps[key] = np.concatenate([metric.replicates(scored.frame, chunk) for chunk in self._chunks[metric.name]])
        return self._reps[key]

    def compare(self, metric_name: str, a: ScoredFrame, b: ScoredFrame) -> dict:
        """As :func:`compare_metric` with ``interval=False``, for two accepted runs."""
        metric = get_metric(metric_name)
        rows = a.frame.all_rows()
        out = difference_entry(metric, len(rows), metric.value(a.frame, rows), metric.value(b.frame, rows))
        if out["diff"] is None:
            return {**out, "higher_is_better": metric.higher_is_better, "test": metric.paired_test, "separated": False}
        if metric.outcome is None:
            diffs = self._replicates(metric, b) - self._replicates(metric, a)
            out["ci"] = percentile_ci(diffs, self.level)
            finite = diffs[np.isfinite(diffs)]
            out["p_value"] = float(min(1.0, 2.0 * min(np.mean(finite <= 0), np.mean(finite >= 0)))) if finite.size else None
        return _decide(out, metric, a.frame, b.frame, self.level)


def summary(result: dict) -> dict:
    """The fields of a paired result that the index and the compare page keep."""
    keys = ("n", "diff", "ci", "p_value", "test", "separated")
    return {"value_a": result["a"], "value_b": result["b"], **{k: result[k] for k in keys}}
