"""The score stage: stored predictions -> metrics per protocol, group and aggregate, with CIs.

Scoring reads only a run folder (each prediction line carries its sample's ``truth``), so any
run can be re-scored without a GPU or the dataset, and a metric fix never needs a re-run.
Rows are ordered by sample id before anything is computed, so the numbers do not depend on
how the run was batched, sharded or resumed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from fdrbench.errors import ResultsError
from fdrbench.metrics.frame import Frame, Metric
from fdrbench.metrics.registry import get_metric
from fdrbench.metrics.stats import (
    DEFAULT_LEVEL,
    DEFAULT_N_BOOT,
    bootstrap_replicates,
    combine_replicates,
    derive_seed,
    percentile_ci,
)
from fdrbench.protocols import Aggregate, Protocol
from fdrbench.record import Record, Truth
from fdrbench.types import Prediction

#: a function of a stored truth giving group values computed from it (``fdrbench.generators.GroupPlan.derive``)
Derive = Callable[[Truth], Mapping[str, str]]

CI_METHOD = "percentile bootstrap, resampled within each true label"


@dataclass
class ScoreSettings:
    n_boot: int = DEFAULT_N_BOOT
    level: float = DEFAULT_LEVEL
    seed: int = 0

    def to_dict(self) -> dict:
        return {"n_boot": self.n_boot, "ci_level": self.level, "seed": self.seed, "ci_method": CI_METHOD}


@dataclass
class ScoredFrame:
    """A frame over all samples, plus which rows the protocol scores and each row's groups."""

    frame: Frame
    included: np.ndarray
    groups: dict[str, np.ndarray] = field(default_factory=dict)

    def rows_for(self, metric: Metric) -> np.ndarray:
        """The rows ``metric`` reads: every row, or the rows the protocol scores."""
        everything = self.frame.all_rows()
        return everything if metric.rows == "all" else everything[self.included]


def build_frame(records: Iterable[Record], protocol: Protocol, group_keys: Sequence[str] = (), derive: Derive | None = None) -> ScoredFrame:
    """Apply a protocol to prediction records (each with its ``truth``) and collect the arrays.

    A group key is read from the truth's groups, or from ``derive(truth)`` for keys it computes.
    """
    rows = sorted(records, key=lambda r: r.sample_id)
    ids, y, yhat, p, failed, cls_true, cls_pred = [], [], [], [], [], [], []
    groups: dict[str, list] = {key: [] for key in group_keys}
    kept: list[Record] = []
    predictions: list[Prediction] = []
    keep_fallback = protocol.failure_policy == "fallback"
    for record in rows:
        sid = record.sample_id
        truth = record.truth
        if truth.label not in (0, 1):
            raise ResultsError(f"prediction for sample {sid!r} has no valid 'truth.label' (0 real / 1 fake)")
        pred = record.prediction(where=f"sample {sid!r}")
        if protocol.reparse is not None:
            pred = protocol.reparse(pred, truth)
        label = int(truth.label)
        usable = not pred.failed or (keep_fallback and pred.label is not None)
        if not usable:
            # no verdict: its class, explanation and mask do not count either
            pred = replace(pred, cls=None, explanation=None, mask=None)
        ids.append(sid)
        y.append(label)
        failed.append(pred.failed)
        yhat.append(int(pred.label) if usable else 1 - label)
        p.append(np.nan if pred.p_fake is None else pred.p_fake)
        cls_true.append(truth.cls)
        cls_pred.append(pred.cls)
        predictions.append(pred)
        derived = derive(truth) if derive is not None else {}
        for key in group_keys:
            groups[key].append(derived[key] if key in derived else truth.group.get(key))
        kept.append(record)
    y_arr = np.asarray(y, dtype=np.int8)
    yhat_arr = np.asarray(yhat, dtype=np.int8)
    p_arr = np.asarray(p, dtype=float)
    has_p = bool(np.isfinite(p_arr).any())
    if has_p:
        # A sample without a probability gets its verdict as one: an unparsed sample then
        # counts as confidently wrong, as the strict protocol promises.
        missing = ~np.isfinite(p_arr)
        p_arr[missing] = yhat_arr[missing]
    failed_arr = np.asarray(failed, dtype=bool)
    frame = Frame(
        ids=np.asarray(ids, dtype=object),
        y=y_arr,
        yhat=yhat_arr,
        p=p_arr,
        failed=failed_arr,
        has_p=has_p,
        positive=1 if protocol.positive_class == "fake" else 0,
        cls_true=np.asarray(cls_true, dtype=object),
        cls_pred=np.asarray(cls_pred, dtype=object),
        records=kept,
        options=dict(protocol.options),
        predictions=predictions,
    )
    included = ~failed_arr if protocol.failure_policy == "exclude" else np.ones(len(ids), dtype=bool)
    return ScoredFrame(frame, included, {k: np.asarray(v, dtype=object) for k, v in groups.items()})


class _Scope:
    """Point values and bootstrap replicates of every metric over one set of rows."""

    def __init__(self, scored: ScoredFrame, rows: np.ndarray, metrics: Sequence[Metric], settings: ScoreSettings, name: str):
        self.values: dict[str, float | None] = {}
        self.replicates: dict[str, np.ndarray] = {}
        self.n = int(len(rows))
        frame = scored.frame
        scored_rows = rows[scored.included[rows]]
        self.n_fakes = int(np.sum(frame.y[scored_rows] == 1))
        for metric in metrics:
            use = rows if metric.rows == "all" else scored_rows
            self.values[metric.name] = metric.value(frame, use)
            if self.values[metric.name] is None or settings.n_boot <= 0:
                self.replicates[metric.name] = np.full(max(settings.n_boot, 0), np.nan)
                continue
            self.replicates[metric.name] = bootstrap_replicates(
                lambda idx, m=metric: m.replicates(frame, idx),
                use,
                frame.y[use],
                settings.n_boot,
                derive_seed(settings.seed, name, metric.name),
            )

    def block(self, level: float) -> dict:
        return {
            name: {"value": self.values[name], "ci": percentile_ci(self.replicates[name], level) if self.values[name] is not None else None}
            for name in self.values
        }


def prepare_metrics(frame: Frame, metrics: Sequence[Metric]) -> None:
    """Fill the per-sample columns the metrics average (text similarity, ...), once per frame."""
    for metric in metrics:
        if metric.prepare is not None:
            metric.prepare(frame)


def score_protocol(scored: ScoredFrame, protocol: Protocol, settings: ScoreSettings, task_aggregates: Mapping[str, Aggregate] = {}) -> dict:
    """The ``BLOCK`` of the results contract for one protocol (``task_aggregates``: the task's own)."""
    frame = scored.frame
    metrics = [get_metric(name) for name in protocol.metrics]
    prepare_metrics(frame, metrics)
    everything = frame.all_rows()
    overall = _Scope(scored, everything, metrics, settings, f"{protocol.name}/overall")
    details = _details(scored, metrics)
    groups: dict[str, dict] = {}
    sizes: dict[str, dict] = {}
    group_scopes: dict[tuple[str, str], _Scope] = {}
    for key, values in scored.groups.items():
        groups[key], sizes[key] = {}, {}
        for value in sorted({v for v in values if v is not None}, key=str):
            rows = everything[values == value]
            scope = _Scope(scored, rows, metrics, settings, f"{protocol.name}/{key}={value}")
            group_scopes[(key, str(value))] = scope
            groups[key][str(value)] = scope.block(settings.level)
            sizes[key][str(value)] = scope.n
    aggregates, members_present = {}, {}
    for name, agg in {**task_aggregates, **protocol.aggregates}.items():
        members = agg.members or tuple(groups.get(agg.key, {}))
        present = [m for m in members if (agg.key, m) in group_scopes]
        if not present:
            continue
        members_present[name] = present
        if agg.weighting == "pooled":
            rows = everything[np.isin(scored.groups[agg.key], np.asarray(present, dtype=object))]
            aggregates[name] = _Scope(scored, rows, metrics, settings, f"{protocol.name}/{name}").block(settings.level)
            continue
        scopes = [group_scopes[(agg.key, m)] for m in present]
        weights = {"size": [s.n for s in scopes], "fakes": [s.n_fakes for s in scopes]}.get(agg.weighting)
        if weights is not None and sum(weights) == 0:
            continue
        block = {}
        for metric in metrics:
            values = [s.values[metric.name] for s in scopes]
            if any(v is None for v in values) or (weights is not None and sum(weights) == 0):
                block[metric.name] = {"value": None, "ci": None}
                continue
            w = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=float)
            reps = combine_replicates([s.replicates[metric.name] for s in scopes], weights)
            block[metric.name] = {"value": float(np.dot(w, values) / w.sum()), "ci": percentile_ci(reps, settings.level)}
        aggregates[name] = block
    return {
        "protocol": {**protocol.settings(), "version": protocol.version()},
        "n": len(frame),
        "n_failed": int(frame.failed.sum()),
        "n_scored": int(scored.included.sum()),
        "n_missing_p_fake": _missing_p(frame),
        "overall": overall.block(settings.level),
        "details": details,
        "groups": groups,
        "group_sizes": sizes,
        "aggregates": aggregates,
        "aggregate_members": members_present,
    }


def _details(scored: ScoredFrame, metrics: Sequence[Metric]) -> dict:
    """Structured outputs of the overall scope (and why a metric could not be computed)."""
    frame = scored.frame
    rows = frame.all_rows()[scored.included]
    out: dict[str, dict] = {}
    for metric in metrics:
        if metric.name in frame.unavailable:
            out[metric.name] = {"unavailable": frame.unavailable[metric.name]}
        elif metric.details is not None and not (metric.needs_p and not frame.has_p) and rows.size:
            out[metric.name] = metric.details(frame, rows)
    return out


def _missing_p(frame: Frame) -> int:
    if not frame.has_p:
        return len(frame)
    return sum(1 for r in frame.records if r.p_fake is None)


def score_records(
    records: Iterable[Record],
    protocols: Mapping[str, Protocol],
    names: Sequence[str] | None = None,
    settings: ScoreSettings | None = None,
    group_keys: Sequence[str] = (),
    aggregates: Mapping[str, Aggregate] = {},
    extra_metrics: Sequence[str] = (),
    derive: Derive | None = None,
) -> dict[str, dict]:
    """Score merged prediction records under the named protocols (all of ``protocols`` by default).

    ``extra_metrics`` are added to every protocol's list (e.g. ``judge_score`` once a run has judgements);
    ``derive`` computes the group keys that are not stored in the truths (see :func:`build_frame`).
    """
    settings = settings or ScoreSettings()
    names = list(names) if names else list(protocols)
    unknown = [n for n in names if n not in protocols]
    if unknown:
        raise ResultsError(f"no protocol {', '.join(unknown)}; the task has {', '.join(protocols)}")
    records = list(records)
    if not records:
        raise ResultsError("there are no predictions to score")
    out = {}
    for name in names:
        protocol = protocols[name]
        added = tuple(m for m in extra_metrics if m not in protocol.metrics)
        if added:
            protocol = protocol.with_metrics((*protocol.metrics, *added))
        scored = build_frame(records, protocol, group_keys, derive)
        out[name] = score_protocol(scored, protocol, settings, aggregates)
    return out
