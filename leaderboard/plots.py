"""Plotly figures of the leaderboard: per-group metrics with CI whiskers, reliability, ROC, PR, paired differences,
metrics under perturbations.

Names shown in a figure come from result files, which are untrusted: plotly renders a subset
of HTML in labels, so every such name is HTML-escaped first.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

from fdrbench.leaderboard.tables import shown


def _name(text: str) -> str:
    return html.escape(str(text))


def _layout(fig: go.Figure, title: str, x: str, y: str, square: bool = False) -> go.Figure:
    fig.update_layout(
        title=_name(title),
        xaxis_title=x,
        yaxis_title=y,
        margin={"l": 40, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2},
        height=480,
    )
    if square:
        fig.update_xaxes(range=[0, 1], constrain="domain")
        fig.update_yaxes(range=[0, 1.02])
    return fig


def _whiskers(mine: list[dict], values: list[float], metric: str) -> dict:
    """Plotly's asymmetric error bars from each point's interval (``low``, ``high``), as displayed."""
    return {
        "type": "data",
        "symmetric": False,
        "array": [shown(p["high"], metric) - v for p, v in zip(mine, values, strict=True)],
        "arrayminus": [v - shown(p["low"], metric) for p, v in zip(mine, values, strict=True)],
    }


def group_ci(points: list[dict], metric: str, key: str) -> go.Figure:
    """One marker per run and group value, with its confidence interval as a whisker."""
    fig = go.Figure()
    for run in dict.fromkeys(p["run"] for p in points):
        mine = [p for p in points if p["run"] == run]
        values = [shown(p["value"], metric) for p in mine]
        fig.add_trace(
            go.Scatter(
                x=[_name(p["group"]) for p in mine],
                y=values,
                mode="markers",
                name=_name(run),
                offsetgroup=_name(run),
                marker={"size": 10},
                error_y=_whiskers(mine, values, metric),
            )
        )
    fig.update_layout(scattermode="group")
    return _layout(fig, f"{metric} per {key} (whiskers: confidence interval)", _name(key), f"{metric} (%)")


def reliability(curves_by_run: dict[str, dict]) -> go.Figure:
    """Mean p_fake against the share of fakes per bin; the diagonal is perfect calibration."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration", line={"dash": "dash", "color": "grey"}))
    for run, data in curves_by_run.items():
        bins = data["reliability"]
        fig.add_trace(
            go.Scatter(
                x=[b["confidence"] for b in bins],
                y=[b["accuracy"] for b in bins],
                mode="lines+markers",
                name=_name(run),
                text=[f"n = {b['count']}" for b in bins],
                hovertemplate="p_fake %{x:.2f}<br>fake share %{y:.2f}<br>%{text}",
            )
        )
    return _layout(fig, "Reliability diagram", "mean p_fake in bin", "share of fake images in bin", square=True)


def roc(curves_by_run: dict[str, dict]) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dash", "color": "grey"}))
    for run, data in curves_by_run.items():
        fig.add_trace(go.Scatter(x=data["roc"]["fpr"], y=data["roc"]["tpr"], mode="lines", name=_name(run)))
    return _layout(fig, "ROC curve (fake = positive)", "false positive rate", "true positive rate", square=True)


def precision_recall(curves_by_run: dict[str, dict]) -> go.Figure:
    fig = go.Figure()
    for run, data in curves_by_run.items():
        fig.add_trace(go.Scatter(x=data["pr"]["recall"], y=data["pr"]["precision"], mode="lines", name=_name(run)))
    if curves_by_run:
        base = next(iter(curves_by_run.values()))["pr"]["base_rate"]
        fig.add_trace(go.Scatter(x=[0, 1], y=[base, base], mode="lines", name="chance", line={"dash": "dash", "color": "grey"}))
    return _layout(fig, "Precision-recall curve (fake = positive)", "recall", "precision", square=True)


def paired_differences(rows: list[dict]) -> go.Figure:
    """A forest plot: each comparison's difference with its paired confidence interval."""
    fig = go.Figure()
    for metric in dict.fromkeys(r["metric"] for r in rows):
        mine = [r for r in rows if r["metric"] == metric and r["diff"] is not None]
        diffs = [shown(r["diff"], metric) for r in mine]
        fig.add_trace(
            go.Scatter(
                x=diffs,
                y=[_name(f"{r['label_b']} − {r['label_a']}") for r in mine],
                mode="markers",
                name=_name(metric),
                marker={"size": 10},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [shown(r["ci"][1], metric) - d if r["ci"] else 0 for r, d in zip(mine, diffs, strict=True)],
                    "arrayminus": [d - shown(r["ci"][0], metric) if r["ci"] else 0 for r, d in zip(mine, diffs, strict=True)],
                },
            )
        )
    fig.add_vline(x=0, line_dash="dash", line_color="grey")
    return _layout(fig, "Paired differences (B − A) with confidence intervals", "difference (percentage points)", "")


def heat_map(heat) -> go.Figure:
    """Detectors (rows) x generators (columns) coloured by value; hover shows the value, its CI and n.
    With generator metadata a band above the map marks each column's family (legend: the families)."""
    x = [_name(c.label) for c in heat.columns]
    hover = [[(heat.cell(d, i).hover(heat.metric) if heat.cell(d, i) else "no value") for i in range(len(x))] for d in heat.detectors]
    fig = go.Figure(
        go.Heatmap(
            z=heat.shown_values(),
            x=x,
            y=[_name(d) for d in heat.detectors],
            customdata=[[_name(t) for t in row] for row in hover],
            hovertemplate="%{y} · %{x}<br>%{customdata}<extra></extra>",
            colorscale="Viridis",
            reversescale=not heat.higher_is_better,
            colorbar={"title": _name(heat.metric)},
            xgap=1,
            ygap=1,
        )
    )
    from fdrbench.leaderboard.heatmap import family_colour

    for family in heat.families():
        mine = [i for i, c in enumerate(heat.columns) if c.family == family]
        fig.add_trace(
            go.Scatter(
                x=[x[i] for i in mine],
                y=["family"] * len(mine),
                mode="markers",
                marker={"symbol": "square", "size": 14, "color": family_colour(family)},
                name=_name(family),
                hovertemplate="%{x}: " + _name(family) + "<extra></extra>",
            )
        )
    direction = "higher is better" if heat.higher_is_better else "lower is better"
    fig = _layout(fig, f"{heat.metric} per generator ({direction}; hover: CI and n)", "generator", "detector")
    fig.update_layout(height=max(320, 60 + 36 * (len(heat.detectors) + 1)))
    return fig


def robustness(points: list[dict], metric: str, conditions: list[str]) -> go.Figure:
    """The metric under each condition (clean first) for every detector, with CI whiskers."""
    fig = go.Figure()
    for run in dict.fromkeys(p["run"] for p in points):
        mine = sorted((p for p in points if p["run"] == run), key=lambda p: conditions.index(p["condition"]))
        values = [shown(p["value"], metric) for p in mine]
        fig.add_trace(
            go.Scatter(
                x=[_name(p["condition"]) for p in mine],
                y=values,
                mode="lines+markers",
                name=_name(run),
                marker={"size": 9},
                error_y=_whiskers(mine, values, metric),
            )
        )
    fig.update_xaxes(categoryorder="array", categoryarray=[_name(c) for c in conditions])
    return _layout(fig, f"{metric} under each perturbation (whiskers: confidence interval)", "condition", f"{metric} (%)")
