"""Robustness: per benchmark and preset, a metric under each perturbation for every detector, and the drops.

Reads the ``robustness.json`` files under the results folder (written by ``fdrbench robustness``
beside the runs), never predictions. A file that cannot be read is listed with its reason.
"""

from __future__ import annotations

import streamlit as st

from fdrbench.leaderboard import plots
from fdrbench.leaderboard import robustness as data
from fdrbench.leaderboard.views.common import Context, escape_markdown, robustness_files

TITLE = "Robustness"


def render(ctx: Context) -> None:
    st.header("Robustness to perturbations")
    st.caption(data.ABOUT)
    files, invalid = robustness_files(ctx)
    for broken in invalid:
        st.error("A robustness file is invalid and left out:")
        st.text(f"{broken['path']}: {broken['reason']}")
    if not files:
        st.info("No robustness sweep in this results folder yet. Run one with:")
        st.code(f"fdrbench robustness --model MODEL --task TASK --preset openfake_jpeg --out {ctx.root}", language=None)
        return
    by_task = data.groups(files)
    left, middle = st.columns([1, 2])
    task = left.selectbox("Benchmark", list(by_task), key="rb_task")
    options = by_task[task]
    chosen = middle.selectbox("Preset", range(len(options)), key="rb_group", format_func=lambda i: options[i].label)
    group = options[chosen]
    first = group.files[0].robustness
    st.text(first.description)  # results files wrote these: plain text, never Markdown
    if first.readings:
        st.text(first.readings)
    left, middle = st.columns([1, 2])
    protocol = left.selectbox("Protocol", group.protocols(), key="rb_protocol")
    metric = middle.selectbox("Metric", group.metrics(protocol), key="rb_metric")
    conditions = group.conditions()
    found = data.points(group, protocol, metric)
    if found:
        st.plotly_chart(plots.robustness(found, metric, conditions), key="rb_plot")
    else:
        st.caption(f"No detector has a value of {escape_markdown(metric)} under this protocol.")

    st.subheader("Change from the clean images")
    st.dataframe(data.drops_table(group, protocol, metric), hide_index=True, key="rb_drops")
    st.caption(data.change_caption(first.settings.ci_level))
    st.subheader("Stability of verdicts and explanations")
    st.dataframe(data.stability_table(group, protocol), hide_index=True, key="rb_stability")
    st.caption(data.STABILITY)
    for f in group.files:
        for note in f.stale:
            st.warning(f"{escape_markdown(f.model)}: this sweep may be out of date.")
            st.text(f"{f.path}: {note}")
