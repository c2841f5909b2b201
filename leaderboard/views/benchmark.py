"""Per-benchmark page: every metric family, aggregates, per-generator / per-category tables and plots."""

from __future__ import annotations

import streamlit as st

from fdrbench.errors import FdrbenchError
from fdrbench.leaderboard import plots, tables
from fdrbench.leaderboard.ranking import cohorts, latest_per_model
from fdrbench.leaderboard.views.common import (
    Context,
    curves,
    empty_results,
    escape_markdown,
    pick_run,
    problem,
    reproduction_checks,
    run_scores,
)

TITLE = "Benchmark"
MAX_DEFAULT_CURVES = 3


def render(ctx: Context) -> None:
    st.header("Per-benchmark results")
    if empty_results(ctx):
        return
    left, middle, right = st.columns([1, 2, 1])
    task = left.selectbox("Benchmark", ctx.tasks(), key="bm_task")
    task_cohorts = cohorts(ctx.runs_of(task)).get(task, [])
    if not task_cohorts:
        st.info("This benchmark has no complete run yet.")
        return
    labels = [f"{c.label}{' (ranked on the overview)' if c.reference else ' (not comparable with the ranked runs)'}" for c in task_cohorts]
    chosen = middle.selectbox("Data", range(len(task_cohorts)), key="bm_cohort", format_func=lambda i: labels[i])
    cohort = task_cohorts[chosen]
    if cohort.why:
        st.warning("These runs scored other data than the ranked runs of this benchmark.")
        st.text(cohort.why)
    runs = sorted(cohort.runs, key=lambda r: (r["model"], r["run_id"]))
    protocol = right.selectbox("Protocol", tables.protocols_of(runs), key="bm_protocol")
    for description in sorted({(r["protocols"].get(protocol) or {}).get("description") for r in runs} - {None}):
        st.text(description)  # a results file wrote it: plain text, never Markdown
    metric_names = sorted({m for r in runs for m in ((r["protocols"].get(protocol) or {}).get("overall") or {})})
    families = tables.by_family(metric_names)
    metric_names = [m for names in families.values() for m in names]

    st.subheader("Overall")
    for tab, names in zip(st.tabs(list(families)), families.values(), strict=True):
        with tab:
            st.dataframe(tables.metrics_table(runs, protocol, names), hide_index=True)
    aggregates = tables.aggregates_table(runs, protocol, tables.headline_metrics(runs))
    if not aggregates.empty:
        st.subheader("Aggregates")
        st.caption("Named summaries over groups, as the benchmark's paper reports them (e.g. the mean over its generators).")
        st.dataframe(aggregates, hide_index=True)

    _published_section(ctx, runs, protocol)

    shown_runs = latest_per_model(runs)
    scores_by_run = {}
    for r in shown_runs:
        try:
            scores_by_run[r["model"]] = run_scores(ctx, r)
        except FdrbenchError as exc:  # changed on disk since the index was read
            problem(f"The scores of {tables.run_label(r)} cannot be read:", exc)
    group_keys = sorted({k for r in runs for k in r.get("group_keys") or []})
    for key in group_keys:
        _group_section(ctx, key, protocol, metric_names, runs, scores_by_run)
    _curves_section(ctx, runs, protocol)


def _published_section(ctx: Context, runs: list[dict], protocol: str) -> None:
    """The published numbers these runs can be checked against under ``protocol``, beside the measured ones."""
    from fdrbench.leaderboard.views import reproduction

    try:
        checked = [(run, result) for run, result in reproduction_checks(ctx, runs) if result.get("protocol") == protocol]
    except FdrbenchError as exc:
        problem("The registry of published numbers cannot be read:", exc)
        return
    if checked:
        st.subheader("Published numbers")
        st.caption(reproduction.RULE)
        reproduction.show(checked, protocol)


def _group_section(ctx: Context, key: str, protocol: str, metric_names: list[str], runs: list[dict], scores_by_run: dict) -> None:
    st.subheader(f"Per {escape_markdown(key)}")
    headline = [m for m in tables.headline_metrics(runs) if m in metric_names] or metric_names
    metric = st.selectbox("Metric", headline, key=f"bm_group_metric_{key}")
    if tables.generator_facts(scores_by_run, key):
        order = st.radio("Order", tables.GENERATOR_ORDERS, horizontal=True, key=f"bm_group_order_{key}")
        frame = tables.generator_table(scores_by_run, protocol, key, metric, order)
        st.dataframe(tables.by_family_colour(frame), hide_index=True)
        st.caption(
            "Rows are coloured by generator family: "
            + ", ".join(f"{family}" for family in tables.FAMILY_COLOURS)
            + ". Release dates come from fdrbench's generator table; 'date verified: no' marks a date not checked against its source."
        )
        ordered = [str(v) for v in frame[key]]
    else:
        st.dataframe(tables.group_table(scores_by_run, protocol, key, metric), hide_index=True)
        ordered = None
    points = tables.group_points(scores_by_run, protocol, key, metric)
    if points:
        if ordered is not None:
            points = sorted(points, key=lambda p: ordered.index(p["group"]) if p["group"] in ordered else len(ordered))
        st.plotly_chart(plots.group_ci(points, metric, key), key=f"bm_group_plot_{key}")
    run = pick_run(f"All metrics per {escape_markdown(key)} for one run", runs, key=f"bm_group_run_{key}")
    try:
        st.dataframe(tables.run_group_table(run_scores(ctx, run), protocol, key, metric_names), hide_index=True)
    except FdrbenchError as exc:
        problem("The scores of this run cannot be read:", exc)


def _curves_section(ctx: Context, runs: list[dict], protocol: str) -> None:
    st.subheader("Calibration and threshold curves")
    st.caption("Reliability diagram, ROC and precision-recall curves of p_fake; computed from the runs' predictions.")
    paths = [r["path"] for r in runs]
    by_path = {r["path"]: r for r in runs}
    chosen = st.multiselect(
        "Runs", paths, default=paths[:MAX_DEFAULT_CURVES], key="bm_curve_runs", format_func=lambda p: tables.run_label(by_path[p])
    )
    found, without = {}, []
    for path in chosen:
        try:
            data = curves(ctx, by_path[path], protocol)
        except FdrbenchError as exc:
            problem(f"No curves for {tables.run_label(by_path[path])}:", exc)
            continue
        if data is None:
            without.append(tables.run_label(by_path[path]))
        else:
            found[tables.run_label(by_path[path])] = data
    if without:
        st.caption("No p_fake (or only one class), so no curves for: " + ", ".join(escape_markdown(w) for w in without))
    if not found:
        return
    reliability, roc, pr = st.tabs(["Reliability diagram", "ROC curve", "Precision-recall curve"])
    reliability.plotly_chart(plots.reliability(found), key="bm_reliability")
    roc.plotly_chart(plots.roc(found), key="bm_roc")
    pr.plotly_chart(plots.precision_recall(found), key="bm_pr")
    st.caption("Reliability bins: " + ", ".join(f"{escape_markdown(k)}: {escape_markdown(v['binning'])}" for k, v in found.items()))
