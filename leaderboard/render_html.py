"""HTML pieces of the static site: the page shell, tables, and the heat map as inline SVG.

Every piece of text that comes from a results folder (model and task names, run ids, group
values, descriptions, manifests) goes through :func:`text`, which escapes ``& < > " '``, so
stored text stays text. Nothing here emits a script or an external reference: the pages work
opened from disk with the network off.
"""

from __future__ import annotations

import html
import math

import pandas as pd

from fdrbench.leaderboard.heatmap import HeatMap, family_colour
from fdrbench.leaderboard.tables import shown

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#fff}
header{background:#24292f;color:#fff;padding:.6em 1.2em}header a{color:#fff;margin-right:1.2em;text-decoration:none}
main{padding:1em 1.6em;max-width:1400px}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #d0d7de;padding:.25em .6em;text-align:left;
vertical-align:top}th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#57606a;font-size:.9em}.warn{background:#fff8c5;border:1px solid #d4a72c;padding:.5em .8em}
pre{background:#f6f8fa;padding:.8em;overflow:auto;font-size:.85em;white-space:pre-wrap}details{margin:.4em 0}
summary{cursor:pointer;font-weight:600}svg text{font-family:inherit}
"""


def text(value: object) -> str:
    """``value`` as HTML text: every markup character escaped; None and NaN as an em dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return html.escape(str(value), quote=True)


def link(href: str, label: object) -> str:
    """A link to one of the site's own pages (``href`` is built by the exporter, never read from a file)."""
    return f'<a href="{html.escape(href, quote=True)}">{text(label)}</a>'


def page(title: str, body: str, nav: list[tuple[str, str]], depth: int = 0) -> str:
    """A whole page: inline style, the navigation bar (links relative to ``depth`` folders down), ``body``."""
    up = "../" * depth
    links = "".join(link(up + href, label) for href, label in nav)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{text(title)}</title><style>{STYLE}</style></head>"
        f"<body><header>{links}</header><main><h1>{text(title)}</h1>\n{body}\n</main></body></html>\n"
    )


def table(frame: pd.DataFrame, links: dict[str, dict[str, str]] | None = None) -> str:
    """``frame`` as an HTML table; ``links[column][cell text]`` turns that cell into a link to a site page."""
    if frame is None or frame.empty:
        return '<p class="note">Nothing to show.</p>'
    links = links or {}
    head = "".join(f"<th>{text(c)}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(frame.columns, values, strict=True):
            number = isinstance(value, int | float) and not isinstance(value, bool)
            target = links.get(column, {}).get(str(value))
            inner = link(target, value) if target else text(value)
            cells.append(f'<td class="num">{inner}</td>' if number else f"<td>{inner}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def paragraph(value: object, kind: str = "note") -> str:
    return f'<p class="{kind}">{text(value)}</p>'


# --------------------------------------------------------------------------- heat map

#: a perceptually even ramp (viridis at five stops), interpolated in RGB
RAMP = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
CELL_W, CELL_H, LEFT, TOP, BAND = 64, 26, 180, 96, 10


def ramp(t: float) -> str:
    """The ramp's colour at ``t`` in [0, 1] as ``#rrggbb``."""
    t = min(1.0, max(0.0, t)) * (len(RAMP) - 1)
    i = min(int(t), len(RAMP) - 2)
    f = t - i
    r, g, b = (round(a + (c - a) * f) for a, c in zip(RAMP[i], RAMP[i + 1], strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _short(label: str, limit: int = 26) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def heat_svg(heat: HeatMap) -> str:
    """The heat map as inline SVG: a coloured cell per detector and generator (brighter is better),
    its value printed in it and value, CI and n in its tooltip; a family band above the columns
    when generator metadata exists."""
    if not heat.columns or not heat.detectors:
        return '<p class="note">No run splits this metric by generator.</p>'
    grid = heat.shown_values()
    values = [v for row in grid for v in row if v is not None]
    if not values:
        return '<p class="note">No run has a value of this metric per generator under this protocol.</p>'
    low, high = min(values), max(values)
    width = LEFT + CELL_W * len(heat.columns) + 20
    height = TOP + CELL_H * len(heat.detectors) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" class="heatmap">',
        f"<title>{text(heat.metric)} per generator</title>",
    ]
    for i, column in enumerate(heat.columns):
        x = LEFT + i * CELL_W
        label = f"{column.task} · {column.label}"
        parts.append(
            f'<text x="{x + CELL_W / 2}" y="{TOP - BAND - 6}" font-size="11" transform="rotate(-40 {x + CELL_W / 2} {TOP - BAND - 6})">'
            f"<title>{text(label)}</title>{text(_short(column.label))}</text>"
        )
        if heat.has_metadata:
            about = column.family or "family unknown"
            released = f", released {column.released}" if column.released else ""
            parts.append(
                f'<rect x="{x}" y="{TOP - BAND - 2}" width="{CELL_W - 1}" height="{BAND}" fill="{family_colour(column.family)}">'
                f"<title>{text(f'{column.label}: {about}{released}')}</title></rect>"
            )
    for j, detector in enumerate(heat.detectors):
        y = TOP + j * CELL_H
        parts.append(f'<text x="{LEFT - 6}" y="{y + CELL_H * 0.65}" font-size="12" text-anchor="end">{text(_short(detector))}</text>')
        for i, column in enumerate(heat.columns):
            cell = heat.cell(detector, i)
            x = LEFT + i * CELL_W
            if cell is None or cell.value is None:
                fill, shown_value = "#f0f0f0", ""
            else:
                number = grid[j][i]
                t = 0.5 if high == low else (number - low) / (high - low)
                fill, shown_value = ramp(t if heat.higher_is_better else 1 - t), f"{number:g}"
            tip = f"{detector} · {column.task} · {column.label}: " + (cell.hover(heat.metric) if cell else "no value")
            ink = "#fff" if fill != "#f0f0f0" and _dark(fill) else "#000"
            parts.append(
                f'<g><rect x="{x}" y="{y}" width="{CELL_W - 1}" height="{CELL_H - 1}" fill="{fill}"><title>{text(tip)}</title></rect>'
                f'<text x="{x + CELL_W / 2}" y="{y + CELL_H * 0.65}" font-size="11" text-anchor="middle" fill="{ink}">{shown_value}</text></g>'
            )
    parts.append("</svg>")
    return "".join(parts) + _legend(heat, low, high)


def _dark(colour: str) -> bool:
    r, g, b = (int(colour[k : k + 2], 16) for k in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 140


def _legend(heat: HeatMap, low: float, high: float) -> str:
    direction = "higher is better" if heat.higher_is_better else "lower is better"
    best, worst = (high, low) if heat.higher_is_better else (low, high)
    line = f"Colour: {text(heat.metric)} ({direction}), from {worst:g} (dark) to {best:g} (bright); hover a cell for its CI and n."
    if heat.has_metadata:
        swatches = " ".join(
            f'<span style="display:inline-block;width:.9em;height:.9em;background:{family_colour(f)}"></span> {text(f)}'
            for f in heat.families()
        )
        line += f" Band above the columns: generator family {swatches}."
    return f'<p class="note">{line}</p>'


# --------------------------------------------------------------------------- robustness chart

#: one colour per detector line (Okabe-Ito, distinguishable with colour-blindness), repeated past eight
LINE_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
CHART_W, CHART_H, PAD_L, PAD_R, PAD_T, PAD_B = 640, 300, 56, 20, 20, 64


def robustness_svg(points: list[dict], metric: str, conditions: list[str]) -> str:
    """The metric under each condition (clean first) for every detector as inline SVG: one line per
    detector, a whisker per point for its interval, the value and interval in each point's tooltip.
    ``points`` are :func:`fdrbench.leaderboard.robustness.points` in the metric's own scale."""
    drawn = [
        {**p, "v": shown(p["value"], metric), "lo": shown(p["low"], metric), "hi": shown(p["high"], metric)}
        for p in points
        if p["condition"] in conditions and shown(p["value"], metric) is not None
    ]
    if not drawn:
        return f'<p class="note">No detector has a value of {text(metric)} under this protocol.</p>'
    bottom = min(min(p["lo"], p["v"]) for p in drawn)
    top = max(max(p["hi"], p["v"]) for p in drawn)
    span = (top - bottom) or 1.0
    # a margin above and below, kept inside the 0-100 scale when every value lies on it
    bottom = bottom - 0.05 * span if bottom < 0 else max(0.0, bottom - 0.05 * span)
    top = top + 0.05 * span if top > 100 else min(100.0, top + 0.05 * span)
    if top <= bottom:
        bottom, top = bottom - 0.5, top + 0.5
    step = (CHART_W - PAD_L - PAD_R) / max(len(conditions), 1)

    def x_of(condition: str) -> float:
        return PAD_L + step * (conditions.index(condition) + 0.5)

    def y_of(value: float) -> float:
        return PAD_T + (CHART_H - PAD_T - PAD_B) * (top - value) / (top - bottom)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_W}" height="{CHART_H}" role="img" class="robustness">',
        f"<title>{text(metric)} under each perturbation</title>",
        f'<line x1="{PAD_L}" y1="{CHART_H - PAD_B}" x2="{CHART_W - PAD_R}" y2="{CHART_H - PAD_B}" stroke="#57606a"/>',
        f'<line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{CHART_H - PAD_B}" stroke="#57606a"/>',
    ]
    for tick in (bottom, (bottom + top) / 2, top):
        y = y_of(tick)
        parts.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{tick:.3g}</text>')
        parts.append(f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{CHART_W - PAD_R}" y2="{y:.1f}" stroke="#eaeef2"/>')
    for condition in conditions:
        x = x_of(condition)
        parts.append(
            f'<text x="{x:.1f}" y="{CHART_H - PAD_B + 16}" font-size="11" text-anchor="middle">'
            f"<title>{text(condition)}</title>{text(_short(condition, 14))}</text>"
        )
    detectors = list(dict.fromkeys(p["run"] for p in drawn))
    for k, detector in enumerate(detectors):
        colour = LINE_COLOURS[k % len(LINE_COLOURS)]
        mine = sorted((p for p in drawn if p["run"] == detector), key=lambda p: conditions.index(p["condition"]))
        path = " ".join(f"{x_of(p['condition']):.1f},{y_of(p['v']):.1f}" for p in mine)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for p in mine:
            x = x_of(p["condition"])
            tip = f"{detector} · {p['condition']}: {p['v']:g} [{p['lo']:g}, {p['hi']:g}]"
            parts.append(
                f"<g><title>{text(tip)}</title>"
                f'<line x1="{x:.1f}" y1="{y_of(p["lo"]):.1f}" x2="{x:.1f}" y2="{y_of(p["hi"]):.1f}" stroke="{colour}"/>'
                f'<circle cx="{x:.1f}" cy="{y_of(p["v"]):.1f}" r="4" fill="{colour}"/></g>'
            )
    parts.append("</svg>")
    legend = " ".join(
        f'<span style="display:inline-block;width:.9em;height:.9em;background:{LINE_COLOURS[k % len(LINE_COLOURS)]}"></span> {text(d)}'
        for k, d in enumerate(detectors)
    )
    return "".join(parts) + f'<p class="note">{text(metric)} (as displayed; whiskers: confidence interval). {legend}</p>'
