"""The static site's Robustness page: the app's Robustness view (``fdrbench.leaderboard.robustness``) as HTML.

Per benchmark and preset (one group per clean data, newest sweep per detector): the preset's
description, then per protocol and headline metric a chart of the metric under each condition with
interval whiskers, the table of changes from clean with their paired intervals and significance,
and the stability of verdicts and explanations. Files that cannot be read are listed with their
reason; sweeps of changed runs carry a note. Every stored string goes through ``text``.
"""

from __future__ import annotations

from pathlib import Path

from fdrbench.leaderboard import robustness as sweeps
from fdrbench.leaderboard.render_html import paragraph, robustness_svg, table, text

PAGE = "robustness.html"
GROUPED = "Only sweeps on the same clean data are drawn together, and each detector's newest sweep is shown."


def body(root: Path, runs: list[dict]) -> str | None:
    """The page's HTML body, or None when the results folder holds no robustness file at all."""
    files, invalid = sweeps.load(root, runs)
    if not files and not invalid:
        return None
    parts = [paragraph(f"{sweeps.ABOUT} {GROUPED}")]
    for broken in invalid:
        parts.append(paragraph(f"Left out, invalid: {broken['path']}: {broken['reason']}", "warn"))
    for task, groups in sweeps.groups(files).items():
        parts.append(f"<h2>Benchmark {text(task)}</h2>")
        for group in groups:
            parts.append(_group(group))
    return "".join(parts)


def _group(group: sweeps.Group) -> str:
    first = group.files[0].robustness
    parts = [f"<h3>{text(group.label)}</h3>", paragraph(first.description)]
    if first.readings:
        parts.append(paragraph(first.readings))
    for f in group.files:
        for note in f.stale:
            parts.append(paragraph(f"{f.model}: this sweep may be out of date ({f.path}: {note}).", "warn"))
    conditions = group.conditions()
    caption = paragraph(sweeps.change_caption(first.settings.ci_level))
    for protocol in group.protocols():
        inner = []
        for position, metric in enumerate(group.metrics(protocol)):
            opened = " open" if position == 0 else ""
            chart = robustness_svg(sweeps.points(group, protocol, metric), metric, conditions)
            drops = table(sweeps.drops_table(group, protocol, metric))
            inner.append(f"<details{opened}><summary>{text(metric)}</summary>{chart}{drops}{caption}</details>")
        inner.append(f"<h4>Stability of verdicts and explanations</h4>{table(sweeps.stability_table(group, protocol))}")
        inner.append(paragraph(sweeps.STABILITY))
        parts.append(f"<details open><summary>Protocol {text(protocol)}</summary>{''.join(inner)}</details>")
    return "".join(parts)
