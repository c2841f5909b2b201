"""Overview: one row per detector, a value / CI / rank column group per benchmark.

Reads only the index (built from manifests and scores); predictions are never loaded here.
"""

from __future__ import annotations

import streamlit as st

from fdrbench.leaderboard import tables
from fdrbench.leaderboard.ranking import RULES, cohorts, higher_is_better, incomplete
from fdrbench.leaderboard.views.common import Context, empty_results, escape_markdown

TITLE = "Overview"


def render(ctx: Context) -> None:
    st.header("Leaderboard overview")
    st.caption(
        "Each detector's newest complete run per benchmark. Values in percent with their confidence interval. "
        "Only runs on identical data (same task version and data fingerprint) are ranked together."
    )
    if empty_results(ctx):
        return
    runs = ctx.runs
    protocols = tables.protocols_of(runs)
    metrics = tables.headline_metrics(runs) or ["accuracy"]
    left, middle, right, far = st.columns(4)
    protocol = left.selectbox("Protocol", protocols, key="ov_protocol", help="strict: failures count as wrong; paper: each paper's rules")
    metric = middle.selectbox("Metric", metrics, key="ov_metric")
    rule = right.selectbox("Ties by", list(RULES), key="ov_rule", format_func=lambda r: {"paired": "paired tests", "ci": "CI overlap"}[r])
    frame, ranked = tables.overview(ctx.index, protocol, metric, rule)
    sort_by = far.selectbox("Sort by", ["mean rank", "detector", *ranked], key="ov_sort")
    frame = tables.sort_overview(frame, sort_by)
    st.dataframe(tables.visible(frame), hide_index=True, key="ov_table")
    direction = "higher is better" if higher_is_better(metric) else "lower is better"
    st.caption(
        f"{escape_markdown(metric)}: {direction}. Rank = 1 + the number of detectors significantly better "
        f"({RULES[rule]}); '=' marks a rank shared with another detector."
    )
    groups = cohorts(runs)
    for task, ranked_rows in ranked.items():
        details = tables.tie_details(ranked_rows, ctx.index.get("pairs") or [], protocol, metric, rule)
        task_cohorts = groups.get(task, [])
        with st.expander(f"{escape_markdown(task)}: ties and runs not ranked here", expanded=len(task_cohorts) > 1):
            if details.empty:
                st.caption("Every pair of detectors on this benchmark is separated.")
            else:
                st.caption("Pairs of detectors the rule does not separate:")
                st.dataframe(details, hide_index=True)
            for cohort in task_cohorts[1:]:
                st.warning(f"Not ranked with the table above ({len(cohort.runs)} run(s), {escape_markdown(cohort.label)}).")
                st.text(cohort.why)
                st.dataframe(tables.cohort_runs(cohort, protocol, metric, ctx.index.get("pairs") or [], rule), hide_index=True)
    waiting = incomplete(runs)
    if waiting:
        st.info(f"{len(waiting)} run(s) are incomplete or partial and not ranked:")
        st.dataframe(
            [{"task": r["task"], "detector": r["model"], "run": r["run_id"], "status": r.get("status")} for r in waiting],
            hide_index=True,
        )
    for broken in ctx.index.get("unreadable") or []:
        st.error("A run is invalid and left out:")
        st.text(f"{broken['path']}: {broken['reason']}")
    for note in ctx.stale:
        st.caption(f"Index: {note}; rebuilt in memory for this view (`fdrbench leaderboard --rebuild-index` writes it).")
