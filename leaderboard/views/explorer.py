"""Per-sample explorer: image, truth, verdict, p_fake, the model's explanation beside the reference.

Everything a run stored is shown as plain text (``st.text``: no Markdown, no HTML), and images
are read only from the task's data folder or ``<results>/<task>/images`` (see
:func:`fdrbench.leaderboard.data.find_image`). Predictions load here, when the page opens.
"""

from __future__ import annotations

import math

import streamlit as st
from PIL import Image

from fdrbench.errors import FdrbenchError
from fdrbench.leaderboard import data
from fdrbench.leaderboard.views.common import Context, empty_results, escape_markdown, pick_run, predictions, problem

TITLE = "Explorer"
#: the columns of the matching-samples table, before the sample groups
TABLE_COLUMNS = ("sample_id", "truth", "truth_class", "prediction", "p_fake", "confidence", "outcome", "error_type")
PAGE_SIZES = (10, 20, 50)
OUTCOME_BADGES = {"right": ":green[**right**]", "wrong": ":red[**wrong**]", "unparsed": ":orange[**unparsed**]"}


def render(ctx: Context) -> None:
    st.header("Per-sample explorer")
    if empty_results(ctx):
        return
    wanted = st.query_params.get("run")
    tasks = ctx.tasks()
    default_task = ctx.find(wanted)["task"] if wanted and ctx.find(wanted) else tasks[0]
    left, right = st.columns([1, 2])
    task = left.selectbox("Benchmark", tasks, index=tasks.index(default_task), key="ex_task")
    with right:
        run = pick_run("Run", ctx.runs_of(task), key="ex_run", default_path=wanted)
    try:
        table = predictions(ctx, run)
    except FdrbenchError as exc:  # a corrupt or malformed predictions line: said in one line, the page goes on
        problem("This run's predictions cannot be read:", exc)
        return
    if table.empty:
        st.info("This run has no predictions.")
        return
    group_columns = data.group_columns(table)
    filters = st.columns(len(group_columns) + 4)
    groups = {}
    for box, column in zip(filters, group_columns, strict=False):
        name = column.split(":", 1)[1]
        values = sorted(table[column].dropna().unique().tolist())
        groups[column] = box.multiselect(escape_markdown(name), values, key=f"ex_group_{name}", placeholder="all")
    outcomes = filters[-4].multiselect("Outcome", list(data.OUTCOMES), key="ex_outcome", placeholder="all")
    errors = filters[-3].multiselect("Error type", list(data.ERROR_TYPES), key="ex_error", placeholder="all")
    truths = filters[-2].multiselect("True label", ["real", "fake"], key="ex_truth", placeholder="all")
    search = filters[-1].text_input("Sample id contains", key="ex_search")
    order, first = st.columns([2, 1])
    by = order.selectbox("Sort by", list(data.SORTS), key="ex_sort", help="confidence: the detector's probability for its own verdict")
    wrong_first = first.checkbox("Wrong first", key="ex_wrong_first", help="false positives and negatives first, then unparsed")
    shown = data.sort_predictions(data.filter_predictions(table, groups, outcomes, truths, search, errors), by, wrong_first)
    counts = table["outcome"].value_counts()
    st.caption(
        f"{len(shown)} of {len(table)} samples match. In this run: " + ", ".join(f"{counts.get(o, 0)} {o}" for o in data.OUTCOMES) + "."
    )
    if shown.empty:
        return
    with st.expander("Matching samples as a table"):
        st.dataframe(
            shown[[*TABLE_COLUMNS, *data.group_columns(shown)]],
            hide_index=True,
            key="ex_table",
        )
    size_col, page_col, _ = st.columns([1, 1, 2])
    size = size_col.selectbox("Samples per page", PAGE_SIZES, index=1, key="ex_page_size")
    pages = max(1, math.ceil(len(shown) / size))
    if st.session_state.get("ex_page", 1) > pages:  # the filters left fewer pages than the one shown
        st.session_state["ex_page"] = 1
    page = int(page_col.number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1, key="ex_page"))
    roots = data.image_roots(task, run.get("split"), ctx.root, ctx.data_dirs)
    for _, row in shown.iloc[(page - 1) * size : page * size].iterrows():
        _sample(row, roots)


def _sample(row, roots) -> None:
    with st.container(border=True):
        picture, facts, texts = st.columns([1, 1, 2])
        found = data.find_image(row["image"], roots)
        if found.path is not None:
            try:
                picture.image(data.open_thumbnail(found.path), width="stretch")
            except (FdrbenchError, OSError, ValueError, Image.DecompressionBombError) as exc:  # shown as such; the page goes on
                picture.caption("Image could not be read:")
                picture.text(str(exc))
        else:
            picture.caption("Image not available:")
            picture.text(found.reason)
        for caption, rle in (("true mask", row.get("truth_mask")), ("predicted mask", row.get("pred_mask"))):
            mask = data.mask_image(rle)
            if mask is not None:
                picture.image(mask, caption=caption, width="stretch")
        facts.markdown(OUTCOME_BADGES[row["outcome"]])
        facts.text("\n".join(sample_facts(row)))
        texts.caption("Model explanation")
        texts.text(row["explanation"] if isinstance(row["explanation"], str) and row["explanation"] else "(none)")
        texts.caption("Reference explanation")
        texts.text(row["reference"] if isinstance(row["reference"], str) and row["reference"] else "(none)")
        raw = row["raw_output"]
        if isinstance(raw, str) and raw and raw != row["explanation"]:
            with texts.expander("Raw output"):
                st.text(raw)


def sample_facts(row) -> list[str]:
    """The sample's identity, truth and the detector's verdict, one fact per line."""
    truth = row["truth"] + (f" ({row['truth_class']})" if isinstance(row["truth_class"], str) else "")
    lines = [f"sample: {row['sample_id']}", f"truth: {truth}"]
    for column in [c for c in row.index if c.startswith("group:")]:
        if isinstance(row[column], str):
            lines.append(f"{column.split(':', 1)[1]}: {row[column]}")
    p_fake = row["p_fake"]
    has_p = p_fake is not None and not (isinstance(p_fake, float) and math.isnan(p_fake))
    lines += [f"prediction: {row['prediction']}", f"p_fake: {p_fake:.3f}" if has_p else "p_fake: none"]
    if has_p and row["confidence"] is not None and not math.isnan(row["confidence"]):
        lines.append(f"confidence: {row['confidence']:.3f}")
    if row["error_type"] != "correct":
        lines.append(f"error type: {row['error_type']}")
    if isinstance(row["error"], str):
        lines.append(f"error: {row['error']}")
    return lines
