"""The leaderboard's tables as pandas DataFrames, built from the index and ``scores.json``.

Kept free of Streamlit so each table can be tested on its own; values are shown in percent
with one decimal and their confidence interval beside them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

import pandas as pd

from fdrbench.leaderboard.ranking import Cohort, Ranked, cohorts, higher_is_better, latest_per_model, pair_lookup, rank_runs

#: display names of the metric registry's family modules (fdrbench.metrics.<family>)
FAMILY_NAMES = {
    "detection": "Detection",
    "calibration": "Calibration",
    "localization": "Localization",
    "text": "Explanation",
    "explanation": "Explanation",
    "judge": "Explanation",
}
FAMILY_ORDER = ("Detection", "Calibration", "Localization", "Explanation")
FAILURES = "Failures"


@functools.cache
def _registry() -> dict[str, tuple[str, int]]:
    """metric -> (family display name, position in the registry), from the metric records."""
    from fdrbench.metrics import all_metrics

    out: dict[str, tuple[str, int]] = {}
    for name, metric in all_metrics().items():
        shown_as = FAILURES if name == "failure_rate" else FAMILY_NAMES.get(metric.family, metric.family.replace("_", " ").title())
        out[name] = (shown_as, len(out))
    return out


def _metric(name: str):
    from fdrbench.errors import RegistryError
    from fdrbench.metrics import get_metric

    try:
        return get_metric(name)
    except RegistryError:
        return None


def family_of(metric: str) -> str:
    return _registry().get(metric, ("Other", 0))[0]


def by_family(metrics: Iterable[str]) -> dict[str, list[str]]:
    """Metrics grouped by family: the known families first, failures last, each in registry order."""
    known = _registry()
    found: dict[str, list[str]] = {}
    for metric in sorted(set(metrics), key=lambda m: (known.get(m, ("", len(known)))[1], m)):
        found.setdefault(family_of(metric), []).append(metric)
    order = [f for f in FAMILY_ORDER if f in found] + sorted(set(found) - {*FAMILY_ORDER, "Other", FAILURES})
    return {f: found[f] for f in [*order, "Other", FAILURES] if f in found}


def shown(value: float | None, metric: str = "") -> float | None:
    """A metric value as its record displays it (percent with one decimal for most); percent for unknown ones."""
    if value is None or not math.isfinite(value):
        return None
    record = _metric(metric) if metric else None
    return record.shown(value) if record is not None else round(100.0 * value, 1)


def ci_text(ci: list[float] | None, metric: str = "") -> str:
    if not ci:
        return ""
    low, high = shown(ci[0], metric), shown(ci[1], metric)
    return f"[{low}, {high}]"


def cell(entry: dict | None, metric: str = "") -> str:
    """``"85.4 [80.8, 89.6]"``, or an em dash when the metric is undefined."""
    if not entry or entry.get("value") is None:
        return "—"
    ci = ci_text(entry.get("ci"), metric)
    return f"{shown(entry['value'], metric)} {ci}".strip()


def run_label(run: dict) -> str:
    return f"{run['model']} · {run['run_id']}"


def protocols_of(runs: Iterable[dict]) -> list[str]:
    """Protocols present, ``strict`` first, then ``paper``, then the rest sorted."""
    names = {p for run in runs for p in (run.get("protocols") or {})}
    first = [p for p in ("strict", "paper") if p in names]
    return first + sorted(names - set(first))


def headline_metrics(runs: Iterable[dict]) -> list[str]:
    """Headline metrics of the runs, in the order the tasks list them."""
    out: list[str] = []
    for run in runs:
        for metric in run.get("headline_metrics") or []:
            if metric not in out:
                out.append(metric)
    return out


# --------------------------------------------------------------------------- overview


def overview(index: dict, protocol: str, metric: str, rule: str = "paired") -> tuple[pd.DataFrame, dict[str, list[Ranked]]]:
    """One row per detector, a column group (value, CI, rank) per benchmark's ranked cohort.

    Returns the table (sorted by mean rank) and the ranked rows of each benchmark.
    """
    groups = cohorts(index.get("runs") or [])
    up = higher_is_better(metric)
    rows: dict[str, dict] = {}
    ranked_by_task: dict[str, list[Ranked]] = {}
    for task, task_cohorts in groups.items():
        ranked = rank_runs(latest_per_model(task_cohorts[0].runs), protocol, metric, index.get("pairs") or [], rule)
        ranked_by_task[task] = ranked
        for row in ranked:
            out = rows.setdefault(row.run["model"], {"detector": row.run["model"]})
            out[f"{task} · {metric}"] = shown(row.value, metric)
            out[f"{task} · CI"] = ci_text(row.ci, metric)
            out[f"{task} · rank"] = row.label
            out[f"_rank {task}"] = row.rank
            # the value with "better" always larger: orders detectors within a shared rank
            out[f"_better {task}"] = None if row.value is None else (row.value if up else -row.value)
    frame = pd.DataFrame(list(rows.values()))
    if frame.empty:
        return frame, ranked_by_task
    rank_cols = [c for c in frame.columns if c.startswith("_rank ")]
    frame["mean rank"] = frame[rank_cols].astype(float).mean(axis=1, skipna=True).round(2)
    frame["benchmarks"] = frame[rank_cols].notna().sum(axis=1)
    frame["_better"] = frame[[c for c in frame.columns if c.startswith("_better ")]].astype(float).mean(axis=1, skipna=True)
    return sort_overview(frame, "mean rank"), ranked_by_task


def sort_overview(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Sort by ``"mean rank"``, ``"detector"`` or a benchmark name (its rank), better values first within a rank."""
    if frame.empty:
        return frame
    if by == "detector":
        keys, ascending = ["detector"], [True]
    elif f"_rank {by}" in frame.columns:
        keys, ascending = [f"_rank {by}", f"_better {by}", "detector"], [True, False, True]
    else:
        keys, ascending = ["mean rank", "_better", "detector"], [True, False, True]
    return frame.sort_values(keys, ascending=ascending, na_position="last", kind="stable").reset_index(drop=True)


def visible(frame: pd.DataFrame) -> pd.DataFrame:
    """The table without its internal sort columns."""
    return frame[[c for c in frame.columns if not c.startswith("_")]]


def tie_details(ranked: list[Ranked], pairs: list[dict], protocol: str, metric: str, rule: str) -> pd.DataFrame:
    """Every pair of detectors the rule does not separate, and the evidence for it."""
    lookup = pair_lookup(pairs, protocol, metric) if rule == "paired" else {}
    out = []
    valued = [r for r in ranked if r.value is not None]
    for i, a in enumerate(valued):
        for b in valued[i + 1 :]:
            if b.run["model"] not in a.not_separated:
                continue
            key = frozenset({(a.run["path"], a.run["sha256"]["scores"]), (b.run["path"], b.run["sha256"]["scores"])})
            pair = lookup.get(key)
            if pair is not None and pair.get("separated") is not None:
                sign = 1.0 if pair["a"] == a.run["path"] else -1.0
                diff = None if pair.get("diff") is None else sign * pair["diff"]
                ci = None if not pair.get("ci") else sorted(sign * c for c in pair["ci"])
                p = pair.get("p_value")
                evidence = f"{pair['test']}: p = {p:.3g}" if p is not None else pair["test"]
            else:
                diff = None if a.value is None or b.value is None else b.value - a.value
                ci, evidence = None, "confidence intervals overlap"
            out.append(
                {
                    "detector A": a.run["model"],
                    "detector B": b.run["model"],
                    f"Δ {metric} (B − A)": shown(diff, metric) if diff is not None else None,
                    "Δ CI": ci_text(ci, metric),
                    "evidence": evidence,
                }
            )
    return pd.DataFrame(out)


def cohort_runs(cohort: Cohort, protocol: str, metric: str, pairs: list[dict], rule: str) -> pd.DataFrame:
    """A non-reference cohort's runs, ranked among themselves."""
    ranked = rank_runs(latest_per_model(cohort.runs), protocol, metric, pairs, rule)
    return pd.DataFrame(
        [
            {
                "detector": r.run["model"],
                "run": r.run["run_id"],
                metric: shown(r.value, metric),
                "CI": ci_text(r.ci, metric),
                "rank": r.label,
            }
            for r in ranked
        ]
    )


# --------------------------------------------------------------------------- per benchmark


def metrics_table(runs: list[dict], protocol: str, metrics: list[str]) -> pd.DataFrame:
    """Rows: runs; columns: ``n``, failures and each metric as "value [CI]" (overall scope)."""
    out = []
    for run in runs:
        block = (run.get("protocols") or {}).get(protocol) or {}
        row = {"run": run_label(run), "n": block.get("n"), "failed": block.get("n_failed")}
        for metric in metrics:
            row[metric] = cell((block.get("overall") or {}).get(metric), metric)
        out.append(row)
    return pd.DataFrame(out)


def aggregates_table(runs: list[dict], protocol: str, metrics: list[str]) -> pd.DataFrame:
    out = []
    for run in runs:
        for name, block in (((run.get("protocols") or {}).get(protocol) or {}).get("aggregates") or {}).items():
            out.append({"run": run_label(run), "aggregate": name, **{m: cell(block.get(m), m) for m in metrics}})
    return pd.DataFrame(out)


def group_values(scores_by_run: dict[str, dict], protocol: str, key: str) -> list[str]:
    values: list[str] = []
    for scores in scores_by_run.values():
        for value in ((scores.get("protocols") or {}).get(protocol) or {}).get("groups", {}).get(key, {}):
            if value not in values:
                values.append(value)
    return values


def group_table(scores_by_run: dict[str, dict], protocol: str, key: str, metric: str) -> pd.DataFrame:
    """Rows: the values of one group key (e.g. each generator); columns: runs; cells "value [CI]"."""
    values = group_values(scores_by_run, protocol, key)
    out = []
    for value in values:
        row = {key: value}
        for label, scores in scores_by_run.items():
            block = (scores.get("protocols") or {}).get(protocol) or {}
            entry = (block.get("groups", {}).get(key, {}).get(value) or {}).get(metric)
            row[label] = cell(entry, metric)
            size = block.get("group_sizes", {}).get(key, {}).get(value)
            if size is not None:
                row["n"] = size
        out.append(row)
    frame = pd.DataFrame(out)
    if "n" in frame.columns:
        frame = frame[[key, "n", *[c for c in frame.columns if c not in (key, "n")]]]
    return frame


def group_points(scores_by_run: dict[str, dict], protocol: str, key: str, metric: str) -> list[dict]:
    """(run, group value, value, low, high) rows for the per-group CI plot."""
    out = []
    for label, scores in scores_by_run.items():
        groups = (((scores.get("protocols") or {}).get(protocol) or {}).get("groups") or {}).get(key) or {}
        for value, metrics in groups.items():
            entry = metrics.get(metric) or {}
            if entry.get("value") is None:
                continue
            ci = entry.get("ci") or [entry["value"], entry["value"]]
            out.append({"run": label, "group": value, "value": entry["value"], "low": ci[0], "high": ci[1]})
    return out


def run_group_table(scores: dict, protocol: str, key: str, metrics: list[str]) -> pd.DataFrame:
    """One run: rows are the values of a group key, columns every metric."""
    block = (scores.get("protocols") or {}).get(protocol) or {}
    sizes = block.get("group_sizes", {}).get(key, {})
    return pd.DataFrame(
        [
            {key: value, "n": sizes.get(value), **{m: cell(entries.get(m), m) for m in metrics}}
            for value, entries in (block.get("groups", {}).get(key) or {}).items()
        ]
    )


# --------------------------------------------------------------------------- generators

#: background of a generator row by family (fdrbench's own palette: nothing a results file says reaches CSS)
FAMILY_COLOURS = {
    "gan": "#f9d9d5",
    "diffusion": "#d6e4f5",
    "autoregressive": "#dcefd6",
    "face-manipulation": "#f8ead0",
    "undisclosed": "#e8def3",
    "unknown": "#ececec",
}
GENERATOR_ORDERS = ("name", "release date")


def generator_facts(scores_by_run: dict[str, dict], key: str) -> dict[str, dict]:
    """value of ``key`` -> the generator facts its runs' ``scores.json`` recorded (``generators.known``)."""
    out: dict[str, dict] = {}
    for scores in scores_by_run.values():
        used = scores.get("generators") or {}
        if used.get("key") != key:
            continue
        for value, facts in (used.get("known") or {}).items():
            if isinstance(facts, dict):
                out.setdefault(str(value), facts)
    return out


def _release_order(released: object) -> tuple:
    """Sort key: dated generators by date (a coarser date before the finer ones it covers), undated last."""
    if not isinstance(released, str) or not released:
        return (1, "")
    return (0, released)


def generator_table(scores_by_run: dict[str, dict], protocol: str, key: str, metric: str, order: str = "name") -> pd.DataFrame:
    """:func:`group_table` with each generator's canonical name, family, weights and release date beside it,
    in name order or by release date (undated last)."""
    frame = group_table(scores_by_run, protocol, key, metric)
    facts = generator_facts(scores_by_run, key)
    if frame.empty or not facts:
        return frame
    columns = {"generator model": "canonical", "family": "family", "weights": "weights", "released": "released"}
    for shown_as, field in columns.items():
        frame[shown_as] = [str((facts.get(v) or {}).get(field) or "") for v in frame[key]]
    frame["date verified"] = [
        "yes" if (facts.get(v) or {}).get("date_verified") else ("no" if facts.get(v, {}).get("released") else "") for v in frame[key]
    ]
    leading = [key, *columns, "date verified"] + (["n"] if "n" in frame.columns else [])
    frame = frame[[*leading, *[c for c in frame.columns if c not in leading]]]
    if order == "release date":
        keys = [_release_order(r) for r in frame["released"]]
        frame = frame.assign(_order=keys).sort_values("_order", kind="stable").drop(columns="_order")
    return frame.reset_index(drop=True)


def by_family_colour(frame: pd.DataFrame):
    """A Styler colouring each generator row by its family (rows of families outside the palette stay plain)."""

    def row_style(row: pd.Series) -> list[str]:
        colour = FAMILY_COLOURS.get(str(row.get("family", "")))
        return [f"background-color: {colour}" if colour else "" for _ in row]

    return frame.style.apply(row_style, axis=1)
