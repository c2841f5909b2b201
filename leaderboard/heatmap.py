"""The per-generator heat map: detectors x generators across benchmarks, for one metric.

One implementation for both renderers (the Streamlit page draws it with plotly, the static
site as inline SVG). Each benchmark contributes its ranked cohort's newest run per detector
and the values of one group key (``generator``) from those runs' ``scores.json``.

Generator metadata is used when the scores carry it: a run scored with a generator table
records ``{"generators": {"key": ..., "known": {value: {canonical, family, released, ...}}}}``;
columns can then be ordered by release date and coloured by family. Without it
:func:`generator_facts` returns None and the map orders columns by benchmark and name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from fdrbench.leaderboard import tables
from fdrbench.leaderboard.ranking import cohorts, higher_is_better, latest_per_model
from fdrbench.leaderboard.tables import cell as cell_text
from fdrbench.leaderboard.tables import ci_text, shown

GROUP_KEY = "generator"
ORDERS = ("benchmark and name", "release date")
#: the band colour of a family outside the palette of :data:`tables.FAMILY_COLOURS`
OTHER_FAMILY = "#bbbbbb"


@dataclass(frozen=True)
class Column:
    """One generator of one benchmark."""

    task: str
    value: str
    label: str
    family: str | None = None
    released: str | None = None


@dataclass(frozen=True)
class Cell:
    value: float | None
    ci: list[float] | None
    n: int | None

    def hover(self, metric: str) -> str:
        """``"85.4 [80.8, 89.6], n = 40"``: what a pointer over the cell shows."""
        if self.value is None:
            return "no value"
        text = f"{shown(self.value, metric)} {ci_text(self.ci, metric)}".strip()
        return f"{text}, n = {self.n}" if self.n is not None else text


@dataclass
class HeatMap:
    protocol: str
    metric: str
    higher_is_better: bool
    detectors: list[str] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    cells: dict[tuple[str, int], Cell] = field(default_factory=dict)
    has_metadata: bool = False

    def cell(self, detector: str, column: int) -> Cell | None:
        return self.cells.get((detector, column))

    def shown_values(self) -> list[list[float | None]]:
        """Rows of displayed values (percent for most metrics), None where a detector has no value."""
        out = []
        for detector in self.detectors:
            row = []
            for i in range(len(self.columns)):
                found = self.cell(detector, i)
                row.append(None if found is None or found.value is None else shown(found.value, self.metric))
            out.append(row)
        return out

    def families(self) -> list[str]:
        return sorted({c.family for c in self.columns if c.family})


def generator_facts(scores: dict, key: str = GROUP_KEY) -> dict[str, dict] | None:
    """value of ``key`` -> the generator facts one run's scores recorded, or None when they record none."""
    return tables.generator_facts({"run": scores}, key) or None


def family_colour(family: str | None) -> str:
    return tables.FAMILY_COLOURS.get(str(family), OTHER_FAMILY) if family else OTHER_FAMILY


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _release_key(column: Column) -> tuple:
    return (column.released is None, column.released or "", column.task, column.value)


def build(
    runs: list[dict],
    scores_of: Callable[[dict], dict | None],
    protocol: str,
    metric: str,
    key: str = GROUP_KEY,
    order: str = ORDERS[0],
) -> HeatMap:
    """The heat map of the index entries ``runs`` (each benchmark's ranked cohort, newest run per
    detector); ``scores_of(entry)`` reads a run's scores (None skips a run that cannot be read)."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    heat = HeatMap(protocol, metric, higher_is_better(metric))
    found: dict[tuple[str, str], dict[str, Cell]] = {}
    facts: dict[tuple[str, str], dict] = {}
    for task, task_cohorts in sorted(cohorts(runs).items()):
        for run in latest_per_model(task_cohorts[0].runs):
            scores = scores_of(run)
            if scores is None:
                continue
            block = (scores.get("protocols") or {}).get(protocol) or {}
            values = (block.get("groups") or {}).get(key) or {}
            sizes = (block.get("group_sizes") or {}).get(key) or {}
            for value, entry in (generator_facts(scores, key) or {}).items():
                facts.setdefault((task, value), entry)
            for value, metrics in values.items():
                entry = (metrics or {}).get(metric) or {}
                number = entry.get("value")
                if number is not None and not math.isfinite(number):
                    number = None
                cell = Cell(number, entry.get("ci") or None, sizes.get(value))
                found.setdefault((task, str(value)), {})[run["model"]] = cell
                if run["model"] not in heat.detectors:
                    heat.detectors.append(run["model"])
    names = [value for _, value in found]
    columns = []
    for task, value in sorted(found):
        about = facts.get((task, value)) or {}
        label = _text(about.get("canonical")) or value
        if names.count(value) > 1:  # the same name on several benchmarks: say which column is which
            label = f"{label} ({task})"
        columns.append(Column(task, value, label, _text(about.get("family")), _text(about.get("released"))))
    heat.has_metadata = bool(facts)
    if order == "release date":
        columns.sort(key=_release_key)
    heat.columns = columns
    heat.detectors.sort(key=lambda d: _mean_order(heat, d, found))
    for i, column in enumerate(columns):
        for detector, cell in found[(column.task, column.value)].items():
            heat.cells[(detector, i)] = cell
    return heat


def _mean_order(heat: HeatMap, detector: str, found: dict) -> tuple:
    """Detectors with the better mean over their generators first, then by name."""
    values = [cells[detector].value for cells in found.values() if detector in cells and cells[detector].value is not None]
    if not values:
        return (1, 0.0, detector)
    mean = sum(values) / len(values)
    return (0, -mean if heat.higher_is_better else mean, detector)


def table(heat: HeatMap) -> pd.DataFrame:
    """The heat map's cells as text (value [CI]), one row per detector; column headers name benchmark and generator."""
    rows = []
    for detector in heat.detectors:
        row = {"detector": detector}
        for i, column in enumerate(heat.columns):
            cell = heat.cell(detector, i)
            row[f"{column.task} · {column.label}"] = cell_text({"value": cell.value, "ci": cell.ci}, heat.metric) if cell else "—"
        rows.append(row)
    return pd.DataFrame(rows)
