"""``fdrbench reproduce`` output: the registry listed, and a target's check as a table or JSON."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table
from rich.text import Text

from fdrbench.report import console_for_tables
from fdrbench.reproduce.check import EntryResult, TargetResult
from fdrbench.reproduce.registry import Entry, Registry, Target
from fdrbench.reproduce.verdict import DEVIATES, REPRODUCED

STYLES = {REPRODUCED: "green", DEVIATES: "red"}


def on_printed_scale(value: float, entry: Entry, extra_digits: int = 1) -> str:
    """``value`` in the unit the paper printed, with one digit more than it printed."""
    digits = len(entry.printed.partition(".")[2]) + extra_digits
    return f"{value * entry.scale:.{digits}f}"


def deviation_text(result: EntryResult) -> str:
    """ "-1.02 points, 2.4 CI half-widths" (points on the printed scale)."""
    if result.difference is None:
        return ""
    entry = result.entry
    unit = "points" if entry.scale == 100 else f"x{entry.scale:g}"
    away = "a zero-width CI" if result.half_widths is None or math.isinf(result.half_widths) else f"{result.half_widths:.1f} CI half-widths"
    return f"{result.difference * entry.scale:+.{len(entry.printed.partition('.')[2]) + 1}f} {unit}, {away}"


def target_heading(target: Target) -> str:
    model = target.model
    weights = f" ({model.weights})" if model.weights else ""
    options = "".join(f" {k}={v}" for k, v in sorted(target.task_args.items()))
    return (
        f"{target.name}: {target.description}\n"
        f"  {target.title} - {target.source}\n"
        f"  model {model.adapter}{weights}; task {target.task} v{target.task_version} {target.split}{options}; protocol {target.protocol}"
    )


def print_result(result: TargetResult, console: Console | None = None) -> None:
    console = console or console_for_tables()
    console.print(Text(target_heading(result.target)))
    console.print(Text(f"  run: {result.run}" if result.run else "  run: none"))
    for reason in result.reasons:
        console.print(Text(f"  not comparable: {reason}", style="yellow"))
    for note in result.notes:
        console.print(Text(f"  note: {note}", style="dim"))
    table = Table(header_style="bold")
    for name in ("entry", "as printed", "metric", "printed", "measured", "95% CI", "verdict"):
        table.add_column(name, justify="right" if name in ("printed", "measured", "95% CI") else "left")
    for item in result.entries:
        entry = item.entry
        measured = on_printed_scale(item.measured, entry) if item.measured is not None else "--"
        ci = f"[{on_printed_scale(item.ci[0], entry)}, {on_printed_scale(item.ci[1], entry)}]" if item.ci else "--"
        verdict = Text(item.verdict, style=STYLES.get(item.verdict, "yellow"))
        detail = deviation_text(item) or (item.reason if item.reason and not result.reasons else "")
        if detail:
            verdict.append(f"\n{detail}", style="dim")
        scope = entry.metric if entry.scope == "overall" else f"{entry.metric} @ {entry.scope}"
        table.add_row(Text(entry.id), Text(entry.label), Text(scope), entry.printed, measured, ci, verdict)
    console.print(table)
    console.print(Text(f"verdict: {result.verdict} (exit {result.exit_code})", style=STYLES.get(result.verdict, "yellow")))


def print_registry(registry: Registry, console: Console | None = None) -> None:
    console = console or console_for_tables()
    targets = Table(title="Targets (fdrbench reproduce TARGET)", title_justify="left", header_style="bold")
    for name in ("target", "paper", "model", "task", "protocol", "entries", "needs"):
        targets.add_column(name)
    for t in registry.targets.values():
        model = t.model.adapter + (f"\n{t.model.weights}" if t.model.weights else "")
        task = f"{t.task} v{t.task_version}\n{t.split}" + "".join(f" {k}={v}" for k, v in sorted(t.task_args.items()))
        needs = "; ".join(n for n in (t.model.needs, t.needs) if n)
        targets.add_row(Text(t.name), Text(t.paper), Text(model), Text(task), Text(t.protocol), str(len(t.entries)), Text(needs))
    console.print(targets)
    entries = Table(title="Entries", title_justify="left", header_style="bold")
    for name in ("id", "target", "as printed", "metric", "printed"):
        entries.add_column(name, justify="right" if name == "printed" else "left")
    for e in registry.entries():
        scope = e.metric if e.scope == "overall" else f"{e.metric} @ {e.scope}"
        entries.add_row(Text(e.id), Text(e.target), Text(e.label), Text(scope), e.printed + ("%" if e.scale == 100 else ""))
    console.print(entries)


def registry_json(registry: Registry) -> dict:
    return {
        "targets": [
            {
                "name": t.name,
                "description": t.description,
                "paper": t.paper,
                "title": t.title,
                "source": t.source,
                "file": t.file,
                "model": {"adapter": t.model.adapter, "weights": t.model.weights, "weights_arg": t.model.weights_arg, "args": t.model.args},
                "task": t.task,
                "task_version": t.task_version,
                "split": t.split,
                "task_args": t.task_args,
                "protocol": t.protocol,
                "n_samples": t.n_samples,
                "needs": [n for n in (t.model.needs, t.needs) if n],
                "note": t.note or None,
                "entries": [
                    {"id": e.id, "table": e.table, "row": e.row, "column": e.column, "metric": e.metric, "scope": e.scope}
                    | {"printed": e.printed, "scale": e.scale, "value": e.value, "half_width": e.half_width, "note": e.note or None}
                    for e in t.entries
                ],
            }
            for t in registry.targets.values()
        ]
    }
