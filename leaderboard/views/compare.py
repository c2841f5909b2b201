"""Compare: two or more runs on the same data, paired differences against a baseline with their CIs.

Only runs of one cohort (same task version and data fingerprint) can be compared: a paired
test pairs samples by id, which means nothing when the samples or their truths differ.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from fdrbench.errors import FdrbenchError
from fdrbench.leaderboard import plots, tables
from fdrbench.leaderboard.ranking import cohorts
from fdrbench.leaderboard.views.common import Context, empty_results, problem
from fdrbench.paired import summary

TITLE = "Compare"


@st.cache_data(show_spinner="Running paired tests…", max_entries=64)
def _paired(root: str, path_a: str, path_b: str, stamp: str, protocol: str, metric: str, n_boot: int, level: float) -> dict:
    from pathlib import Path

    from fdrbench.leaderboard.data import run_dir
    from fdrbench.paired import compare_metric, load_scored

    a = load_scored(run_dir(Path(root), path_a), protocol)
    b = load_scored(run_dir(Path(root), path_b), protocol)
    return compare_metric(metric, a, b, n_boot=n_boot, seed=0, level=level)


def p_text(p: float | None, test: str, n_boot: int) -> str:
    """A p-value as shown; a bootstrap p of 0 only says it is below the resolution 1 / n_boot."""
    if p is None:
        return ""
    if p == 0 and test == "paired bootstrap":
        return f"< {1 / n_boot:.2g}"
    return f"{p:.3g}"


def render(ctx: Context) -> None:
    st.header("Compare runs")
    st.caption(
        "Paired differences on the samples both runs scored: a paired, label-stratified bootstrap interval for every "
        "metric and McNemar's test for accuracy. Only runs on identical data can be compared."
    )
    if empty_results(ctx):
        return
    left, right = st.columns([1, 2])
    task = left.selectbox("Benchmark", ctx.tasks(), key="cmp_task")
    task_cohorts = cohorts(ctx.runs_of(task)).get(task, [])
    if not task_cohorts:
        st.info("This benchmark has no complete run yet.")
        return
    chosen = right.selectbox("Data", range(len(task_cohorts)), key="cmp_cohort", format_func=lambda i: task_cohorts[i].label)
    cohort = task_cohorts[chosen]
    if len(task_cohorts) > 1:
        st.caption(
            f"{sum(len(c.runs) for c in task_cohorts) - len(cohort.runs)} run(s) of this benchmark scored other data and are not offered here."
        )
    runs = sorted(cohort.runs, key=lambda r: (r["model"], r["run_id"]))
    by_path = {r["path"]: r for r in runs}
    paths = list(by_path)
    picked = st.multiselect(
        "Runs (the first is the baseline A)",
        paths,
        default=paths[:2],
        key="cmp_runs",
        format_func=lambda p: tables.run_label(by_path[p]),
    )
    if len(picked) < 2:
        st.info("Pick at least two runs.")
        return
    left, middle, right = st.columns([1, 2, 1])
    protocol = left.selectbox("Protocol", tables.protocols_of([by_path[p] for p in picked]), key="cmp_protocol")
    headline = tables.headline_metrics([by_path[p] for p in picked])
    metrics = middle.multiselect("Metrics", headline, default=headline[:3], key="cmp_metrics")
    n_boot = int(right.number_input("Bootstrap resamples", min_value=100, max_value=10000, value=1000, step=100, key="cmp_boot"))
    if not metrics:
        st.info("Pick at least one metric.")
        return
    base = by_path[picked[0]]
    level = float(base.get("ci_level") or 0.95)
    rows = []
    for path in picked[1:]:
        other = by_path[path]
        for metric in metrics:
            stamp = f"{base['sha256']['scores']}:{other['sha256']['scores']}"
            try:
                result = _paired(str(ctx.root), base["path"], other["path"], stamp, protocol, metric, n_boot, level)
            except FdrbenchError as exc:
                problem(f"{tables.run_label(other)} cannot be compared:", exc)
                return
            rows.append({"label_a": tables.run_label(base), "label_b": tables.run_label(other), "metric": metric, **summary(result)})
    table = pd.DataFrame(
        [
            {
                "A": r["label_a"],
                "B": r["label_b"],
                "metric": r["metric"],
                "n": r["n"],
                "A value": tables.shown(r["value_a"], r["metric"]),
                "B value": tables.shown(r["value_b"], r["metric"]),
                "B − A": tables.shown(r["diff"], r["metric"]),
                "CI": tables.ci_text(r["ci"], r["metric"]),
                "p": p_text(r["p_value"], r["test"], n_boot),
                "test": r["test"],
                "significant": r["separated"],
            }
            for r in rows
        ]
    )
    st.dataframe(table, hide_index=True, key="cmp_table")
    st.caption(f"{int(level * 100)}% intervals, {n_boot} paired resamples; 'significant' at the {100 - int(level * 100)}% level.")
    st.plotly_chart(plots.paired_differences(rows), key="cmp_plot")
