"""Paired tests between two runs of one task, for rank ties and the compare page.

Both runs are scored under the same protocol, restricted to the samples both runs score (a
protocol that excludes failures may drop different samples in each run), and compared with
:mod:`fdrbench.metrics.paired`: a paired bootstrap of the difference for every metric and, for
accuracy, McNemar's test on the per-sample right/wrong outcomes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from fdrbench.metrics import Frame, get_metric
from fdrbench.metrics.paired import align, mcnemar, paired_difference
from fdrbench.metrics.stats import derive_seed, percentile_ci, resample_chunks
from fdrbench.scoring import ALL_ROW_METRICS, ScoredFrame, build_frame
from fdrbench.store import MANIFEST, load_records, read_manifest


def load_scored(run_dir: Path, protocol_name: str) -> ScoredFrame:
    """A run's predictions under one of its task's protocols (the task is named in the manifest)."""
    from fdrbench.errors import ResultsError
    from fdrbench.run_task import task_for_run

    manifest = read_manifest(Path(run_dir))
    task = task_for_run(manifest, Path(run_dir) / MANIFEST)
    protocols = task.protocols()
    if protocol_name not in protocols:
        raise ResultsError(f"task {task.name!r} has no protocol {protocol_name!r}")
    records, _ = load_records(Path(run_dir))
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
        columns={k: v[rows] for k, v in frame.columns.items()},
    )


def _rows(scored: ScoredFrame, metric_name: str) -> np.ndarray:
    everything = scored.frame.all_rows()
    return everything if metric_name in ALL_ROW_METRICS else everything[scored.included]


#: metrics whose per-sample outcome is binary, so McNemar's exact test decides their ties
EXACT_TESTS = {"accuracy": "right/wrong", "failure_rate": "failed/not failed"}


def prepare(metric_names: list[str], scored: ScoredFrame) -> None:
    """Fill the per-sample columns the metrics average (text similarity, ...), once per frame."""
    for name in metric_names:
        metric = get_metric(name)
        if metric.prepare is not None:
            metric.prepare(scored.frame)


def compare_runs(
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

    ``separated`` is True when the difference is significant at ``1 - level``: McNemar's test
    on the per-sample outcomes for accuracy (right/wrong) and failure rate (failed or not), the
    paired bootstrap interval excluding zero for every other metric. ``interval`` False skips
    the bootstrap where McNemar decides (the index only needs the decision); ``prepared`` says
    :func:`prepare` already ran on both frames.
    """
    metric = get_metric(metric_name)
    if not prepared:
        prepare([metric_name], a)
        prepare([metric_name], b)
    frame_a = subset(a.frame, _rows(a, metric_name))
    frame_b = subset(b.frame, _rows(b, metric_name))
    shared = align(frame_a, frame_b)
    frame_a, frame_b = subset(frame_a, shared.rows_a), subset(frame_b, shared.rows_b)
    exact = metric_name in EXACT_TESTS
    out = paired_difference(metric, frame_a, frame_b, n_boot=n_boot if interval or not exact else 0, seed=seed, level=level)
    out["higher_is_better"] = metric.higher_is_better
    out["test"] = "paired bootstrap"
    ci = out.get("ci")
    out["separated"] = bool(ci is not None and (ci[0] > 0 or ci[1] < 0))
    if exact:
        if metric_name == "accuracy":
            test = mcnemar(frame_a.yhat == frame_a.y, frame_b.yhat == frame_b.y)
        else:
            test = mcnemar(frame_a.failed, frame_b.failed)
        out["mcnemar"] = test
        out["test"] = "McNemar"
        out["bootstrap_p_value"] = out["p_value"]
        out["p_value"] = test["p_value"]
        out["separated"] = bool(test["p_value"] < 1.0 - level)
    return out


class SharedSamples:
    """Paired tests among many runs that scored the very same rows, at one bootstrap per run.

    Runs of one cohort hold the same sample ids, so when a protocol scores every row the
    alignment of any pair is the identity. The paired bootstrap then draws the same
    resamples for every pair, and a pair's replicate differences are just the difference of
    the two runs' replicates: computing each run's replicates once gives every pair, with the
    results of :func:`compare_runs` (same seeds, same resamples), in runs instead of pairs.
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

    def _replicates(self, metric_name: str, scored: ScoredFrame) -> np.ndarray:
        key = (id(scored), metric_name)
        if key not in self._reps:
            metric = get_metric(metric_name)
            if metric_name not in self._chunks:
                seed = derive_seed(self.seed, "paired", metric_name)
                self._chunks[metric_name] = resample_chunks(np.arange(len(self._y)), self._y, self.n_boot, seed)
            self._reps[key] = np.concatenate([metric.replicates(scored.frame, chunk) for chunk in self._chunks[metric_name]])
        return self._reps[key]

    def compare(self, metric_name: str, a: ScoredFrame, b: ScoredFrame) -> dict:
        """As :func:`compare_runs` with ``interval=False``, for two accepted runs."""
        metric = get_metric(metric_name)
        rows = a.frame.all_rows()
        value_a, value_b = metric.value(a.frame, rows), metric.value(b.frame, rows)
        out = {"metric": metric_name, "n": len(rows), "a": value_a, "b": value_b, "diff": None, "ci": None, "p_value": None}
        out["higher_is_better"] = metric.higher_is_better
        if value_a is None or value_b is None:
            return {**out, "test": "paired bootstrap", "separated": False}
        out["diff"] = value_b - value_a
        if metric_name in EXACT_TESTS:
            outcome = (lambda f: f.yhat == f.y) if metric_name == "accuracy" else (lambda f: f.failed)
            test = mcnemar(outcome(a.frame), outcome(b.frame))
            return {
                **out,
                "mcnemar": test,
                "test": "McNemar",
                "p_value": test["p_value"],
                "separated": bool(test["p_value"] < 1 - self.level),
            }
        diffs = self._replicates(metric_name, b) - self._replicates(metric_name, a)
        ci = percentile_ci(diffs, self.level)
        finite = diffs[np.isfinite(diffs)]
        p_value = float(min(1.0, 2.0 * min(np.mean(finite <= 0), np.mean(finite >= 0)))) if finite.size else None
        separated = bool(ci is not None and (ci[0] > 0 or ci[1] < 0))
        return {**out, "ci": ci, "p_value": p_value, "test": "paired bootstrap", "separated": separated}


def summary(result: dict) -> dict:
    """The fields of a paired result that the index and the compare page keep."""
    keys = ("n", "diff", "ci", "p_value", "test", "separated")
    return {"value_a": result["a"], "value_b": result["b"], **{k: result[k] for k in keys}}
