"""Reproduction: every published number a registered target names, beside what the runs measured.

The verdict is ``fdrbench reproduce``'s rule on each run's stored scores: ``reproduced`` when the
printed value lies in the measured 95% interval widened by half the printed precision,
``deviates`` otherwise, ``not comparable`` when the run does not measure what the paper did.
"""

from __future__ import annotations

import streamlit as st

from fdrbench.errors import FdrbenchError
from fdrbench.leaderboard import reproduction
from fdrbench.leaderboard.views.common import Context, empty_results, problem, reproduction_checks

TITLE = "Reproduction"
RULE = reproduction.RULE


def render(ctx: Context) -> None:
    st.header("Published numbers, reproduced?")
    st.caption(RULE)
    if empty_results(ctx):
        return
    try:
        checked = reproduction_checks(ctx, ctx.runs)
    except FdrbenchError as exc:
        problem("The registry of published numbers cannot be read:", exc)
        return
    show(checked)


def show(checked: list[tuple[dict, dict]], protocol: str | None = None) -> None:
    """The table of ``checked`` (runs and their checks), deviations flagged; used by the benchmark page too."""
    frame = reproduction.table(checked, protocol)
    for run, error in reproduction.errors(checked):
        problem(f"The run {run['model']} · {run['run_id']} could not be checked:", FdrbenchError(error))
    if frame.empty:
        st.info("No run here has the model, task and protocol of a published number yet (fdrbench reproduce list shows them).")
        return
    deviating = frame[frame["verdict"] == "deviates"]
    if not deviating.empty:
        st.warning(f"{len(deviating)} published number(s) deviate from what the runs measured.")
    st.dataframe(frame.style.apply(lambda row: [_colour(row["verdict"])] * len(row), axis=1), hide_index=True)


def _colour(verdict: str) -> str:
    return {"reproduced": "background-color: #e6f4ea", "deviates": "background-color: #fce8e6"}.get(verdict, "")
