"""The Streamlit script ``fdrbench leaderboard`` serves: page navigation and the shared context.

The page is chosen in the sidebar and mirrored in the URL (``?page=explorer``), so a view can
be linked to. The results folder comes from the launcher's environment, never from the URL.
"""

from __future__ import annotations

import streamlit as st

from fdrbench.leaderboard.views import benchmark, common, compare, explorer, generators, overview, reproduction, robustness

PAGES = {
    "overview": overview,
    "benchmark": benchmark,
    "generators": generators,
    "explorer": explorer,
    "compare": compare,
    "reproduction": reproduction,
    "robustness": robustness,
}


def main() -> None:
    st.set_page_config(page_title="fdrbench leaderboard", page_icon="🔎", layout="wide")
    ctx = common.context()
    names = list(PAGES)
    if "page" not in st.session_state:
        wanted = str(st.query_params.get("page", "overview")).lower()
        st.session_state["page"] = wanted if wanted in PAGES else "overview"
    st.sidebar.title("fdrbench")
    page = st.sidebar.radio("Page", names, key="page", format_func=lambda name: PAGES[name].TITLE)
    st.query_params["page"] = page
    st.sidebar.caption(f"{len(ctx.runs)} runs on {len(ctx.tasks())} benchmarks")
    st.sidebar.caption("Results: " + common.escape_markdown(ctx.root))
    try:
        PAGES[page].render(ctx)
    except Exception as exc:  # the last line of defence: one line of text, never a traceback
        common.problem("This page could not be shown:", exc)


main()
