"""Terminal tables of a run's scores and provenance (``fdrbench run``, ``show``, ``demo``)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

WIDE = 200  # columns used when output is not a terminal (logs, CI), so tables do not wrap


def metric_cell(entry: dict | None) -> Text:
    """Value on the first line, its interval dimmed on the second."""
    if not entry or entry.get("value") is None:
        return Text("--", style="dim")
    text = Text(f"{entry['value'] * 100:.1f}")
    ci = entry.get("ci")
    if ci:
        text.append(f"\n[{ci[0] * 100:.1f}, {ci[1] * 100:.1f}]", style="dim")
    return text


def console_for_tables() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=WIDE)


def scores_table(scores: dict, protocol: str = "strict", metrics: Sequence[str] | None = None, groups: bool = True) -> Table:
    block = scores["protocols"][protocol]
    names = [m for m in (metrics or scores.get("headline_metrics") or block["overall"].keys()) if m in block["overall"]]
    level = int(round(100 * scores.get("settings", {}).get("ci_level", 0.95)))
    title = f"{scores['model']} on {scores['task']} - protocol '{protocol}' (values in %, {level}% CI)"
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("scope", no_wrap=True)
    table.add_column("n", justify="right")
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_row(Text("overall", style="bold"), str(block["n"]), *(metric_cell(block["overall"].get(n)) for n in names))
    for agg, values in block.get("aggregates", {}).items():
        table.add_row(Text(f"[{agg}]", style="cyan"), "", *(metric_cell(values.get(n)) for n in names))
    if groups:
        for key, members in block.get("groups", {}).items():
            sizes = block.get("group_sizes", {}).get(key, {})
            for value, values in members.items():
                table.add_row(Text(f"{key}={value}"), str(sizes.get(value, "")), *(metric_cell(values.get(n)) for n in names))
    return table


def print_scores(scores: dict, console: Console | None = None, protocols: Sequence[str] | None = None, groups: bool = True) -> None:
    console = console or console_for_tables()
    for name in protocols or scores["protocols"]:
        if name not in scores["protocols"]:
            continue
        console.print(scores_table(scores, name, groups=groups))
        block = scores["protocols"][name]
        notes = [f"{block['n_failed']} of {block['n']} samples had no usable verdict"]
        if block.get("n_missing_p_fake") == block["n"]:
            notes.append("the detector gives no p_fake, so AP/AUC/ECE/Brier are undefined")
        if scores.get("partial"):
            notes.append(f"PARTIAL: {block['n']} of {scores.get('n_expected')} samples predicted")
        console.print("  " + "; ".join(notes), style="dim")
        shown = scores.get("headline_metrics") or []
        reasons: dict[str, list[str]] = {}
        for metric, detail in (block.get("details") or {}).items():
            if metric in shown and isinstance(detail, dict) and detail.get("unavailable"):
                reasons.setdefault(detail["unavailable"], []).append(metric)
        for reason, metrics in reasons.items():
            console.print(f"  {', '.join(metrics)} not computed: {reason}", style="dim")


def print_manifest(manifest: dict, console: Console | None = None) -> None:
    console = console or Console()
    timing = manifest.get("timing") or {}
    settings = manifest.get("settings") or {}
    info = manifest.get("task_info") or {}
    rows = [
        ("task", f"{manifest.get('task')} v{info.get('version')} split={info.get('split')} n={info.get('n_samples')}"),
        ("model", f"{manifest.get('model')} ({(manifest.get('adapter') or {}).get('target')})"),
        ("run", f"{manifest.get('run_id')} status={manifest.get('status')} created={manifest.get('created')}"),
        ("data fingerprint", str(manifest.get("data_fingerprint"))[:16]),
        ("prompt sha256", str(manifest.get("prompt_sha256"))[:16]),
        (
            "device",
            f"{settings.get('device')} x{settings.get('world_size')} batch={settings.get('batch_size')} seed={settings.get('seed')}",
        ),
        ("throughput", f"{timing.get('samples_per_s')} samples/s, inference {timing.get('infer_s')} s, scoring {timing.get('score_s')} s"),
        ("fdrbench", f"{(manifest.get('fdrbench') or {}).get('version')} @ {(manifest.get('fdrbench') or {}).get('commit')}"),
    ]
    if manifest.get("abort_reason"):
        rows.append(("aborted", manifest["abort_reason"]))
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
