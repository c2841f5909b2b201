"""Per-generator view: detectors x generators across every benchmark, as a heat map for one metric."""

from __future__ import annotations

import streamlit as st

from fdrbench.errors import FdrbenchError
from fdrbench.leaderboard import heatmap, plots, tables
from fdrbench.leaderboard.views.common import Context, empty_results, escape_markdown, run_scores

TITLE = "Generators"


def render(ctx: Context) -> None:
    st.header("Detectors by generator")
    st.caption(
        "Each benchmark's ranked runs (the newest per detector) split by the generator of the images; "
        "hover over a cell for its confidence interval and sample count."
    )
    if empty_results(ctx):
        return
    runs = [r for r in ctx.runs if heatmap.GROUP_KEY in (r.get("group_keys") or [])]
    if not runs:
        st.info("No run here splits its scores by generator.")
        return
    left, middle, right = st.columns(3)
    protocol = left.selectbox("Protocol", tables.protocols_of(runs), key="gen_protocol")
    metric = middle.selectbox("Metric", tables.headline_metrics(runs) or ["accuracy"], key="gen_metric")
    order = right.selectbox("Generators in order of", heatmap.ORDERS, key="gen_order")
    unreadable = []

    def scores_of(run: dict) -> dict | None:
        try:
            return run_scores(ctx, run)
        except FdrbenchError:
            unreadable.append(tables.run_label(run))
            return None

    heat = heatmap.build(runs, scores_of, protocol, metric, order=order)
    if unreadable:
        st.warning("Scores that could not be read (changed on disk?): " + ", ".join(escape_markdown(u) for u in unreadable))
    if not heat.columns:
        st.info("No ranked run has this protocol split by generator.")
        return
    if order == "release date" and not heat.has_metadata:
        st.caption("These runs' scores record no generator metadata, so no release dates: columns stay in benchmark and name order.")
    st.plotly_chart(plots.heat_map(heat), key="gen_heatmap")
    st.dataframe(heatmap.table(heat), hide_index=True, key="gen_table")
