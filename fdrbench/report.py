"""Terminal tables of a run's scores and provenance (``fdrbench run``, ``show``, ``demo``) and of a sweep (``robustness``)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from fdrbench.errors import RegistryError
from fdrbench.metrics.registry import get_metric
from fdrbench.results import Entry, Manifest, Robustness, Scores

WIDE = 200  # columns used when output is not a terminal (logs, CI), so tables do not wrap


def _fmt(value: float, name: str) -> str:
    try:
        return get_metric(name).text(value)
    except RegistryError:
        return f"{value * 100:.1f}"


def metric_cell(entry: Entry | None, name: str = "") -> Text:
    """Value on the first line (as the metric displays itself), its interval dimmed on the second."""
    if entry is None or entry.value is None:
        return Text("--", style="dim")
    text = Text(_fmt(entry.value, name))
    if entry.ci:
        text.append(f"\n[{_fmt(entry.ci[0], name)}, {_fmt(entry.ci[1], name)}]", style="dim")
    return text


def console_for_tables() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=WIDE)


def scores_table(scores: Scores, protocol: str = "strict", metrics: Sequence[str] | None = None, groups: bool = True) -> Table:
    block = scores.protocols[protocol]
    names = [m for m in (metrics or scores.headline_metrics or block.overall.keys()) if m in block.overall]
    level = int(round(100 * scores.settings.ci_level))
    title = f"{scores.model} on {scores.task} - protocol '{protocol}' (values in %, {level}% CI)"
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("scope", no_wrap=True)
    table.add_column("n", justify="right")
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_row(Text("overall", style="bold"), str(block.n), *(metric_cell(block.overall.get(n), n) for n in names))
    for agg, values in block.aggregates.items():
        table.add_row(Text(f"[{agg}]", style="cyan"), "", *(metric_cell(values.get(n), n) for n in names))
    if groups:
        for key, members in block.groups.items():
            sizes = block.group_sizes.get(key, {})
            for value, values in members.items():
                table.add_row(Text(f"{key}={value}"), str(sizes.get(value, "")), *(metric_cell(values.get(n), n) for n in names))
    return table


def print_scores(scores: Scores, console: Console | None = None, protocols: Sequence[str] | None = None, groups: bool = True) -> None:
    console = console or console_for_tables()
    for name in protocols or scores.protocols:
        if name not in scores.protocols:
            continue
        console.print(scores_table(scores, name, groups=groups))
        block = scores.protocols[name]
        notes = [f"{block.n_failed} of {block.n} samples had no usable verdict"]
        if block.n_missing_p_fake == block.n:
            notes.append("the detector gives no p_fake, so AP/AUC/ECE/Brier are undefined")
        if scores.partial:
            notes.append(f"PARTIAL: {block.n} of {scores.n_expected} samples predicted")
        console.print("  " + "; ".join(notes), style="dim")
        shown = scores.headline_metrics
        reasons: dict[str, list[str]] = {}
        for metric, detail in block.details.items():
            if metric in shown and isinstance(detail, dict) and detail.get("unavailable"):
                reasons.setdefault(detail["unavailable"], []).append(metric)
        for reason, metrics in reasons.items():
            console.print(f"  {', '.join(metrics)} not computed: {reason}", style="dim")


def print_manifest(manifest: Manifest, console: Console | None = None) -> None:
    console = console or Console()
    timing, settings, info = manifest.timing, manifest.settings, manifest.task_info
    rows = [
        ("task", f"{manifest.task} v{info.version} split={info.split} n={info.n_samples}"),
        ("model", f"{manifest.model} ({manifest.adapter.target})"),
        ("run", f"{manifest.run_id} status={manifest.status} created={manifest.created}"),
        ("data fingerprint", manifest.data_fingerprint[:16]),
        *([("perturbation", _perturbation_text(manifest))] if manifest.perturbation else []),
        ("prompt sha256", str(manifest.prompt_sha256)[:16]),
        ("device", f"{settings.device} x{settings.world_size} batch={settings.batch_size} seed={settings.seed}"),
        ("throughput", f"{timing.get('samples_per_s')} samples/s, inference {timing.get('infer_s')} s, scoring {timing.get('score_s')} s"),
        ("fdrbench", f"{manifest.fdrbench.version} @ {manifest.fdrbench.commit}"),
    ]
    if manifest.abort_reason:
        rows.append(("aborted", manifest.abort_reason))
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)


def _perturbation_text(manifest: Manifest) -> str:
    info = manifest.perturbation
    name = f" ({info.name})" if info.name else ""
    return f"{info.spec}{name} seed={info.seed} clean data {info.clean_fingerprint[:16]}"


def _change_cell(change, name: str) -> Text:
    """A condition's value, and under it its difference to clean (bold and starred when significant)."""
    text = metric_cell(Entry(change.value, None), name)
    if change.diff is not None:
        star = "*" if change.significant else ""
        sign = get_metric(name).text(change.diff, signed=True) if _known(name) else f"{100 * change.diff:+.1f}"
        text.append(f"\n{sign}{star}", style="bold" if change.significant else "dim")
    return text


def _known(name: str) -> bool:
    try:
        get_metric(name)
    except RegistryError:
        return False
    return True


def print_robustness(robustness: Robustness, console: Console | None = None) -> None:
    """Per protocol: headline metrics per condition with the paired difference to clean, then stability."""
    console = console or console_for_tables()
    names = robustness.conditions()
    level = int(round(100 * robustness.settings.ci_level))
    for protocol, block in robustness.protocols.items():
        table = Table(
            title=f"{robustness.model} on {robustness.task} under {robustness.preset} - protocol '{protocol}' "
            f"(values in %; second line: condition - clean, * significant at {100 - level}%)",
            title_justify="left",
            header_style="bold",
        )
        for column in ("metric", "clean", *names):
            table.add_column(column, justify="left" if column == "metric" else "right", no_wrap=True)
        for metric, entry in block.metrics.items():
            table.add_row(metric, metric_cell(entry.clean, metric), *(_change_cell(entry.conditions[n], metric) for n in names))
        console.print(table)
        steady = Table(title=f"stability against the clean run - protocol '{protocol}'", title_justify="left", header_style="bold")
        for column in ("condition", "verdicts", "flipped", "to real / to fake", "lost", "flip rate", "ROUGE-L vs clean", "CSS vs clean"):
            steady.add_column(column, justify="left" if column == "condition" else "right", no_wrap=True)
        for name in names:
            st = block.stability[name]
            steady.add_row(
                name,
                str(st.n),
                str(st.n_flipped),
                f"{st.to_real} / {st.to_fake}",
                str(st.n_lost),
                metric_cell(st.flip_rate),
                metric_cell(st.rouge_l, "rouge_l"),
                metric_cell(st.css, "css"),
            )
        console.print(steady)
        reasons = sorted({reason for st in block.stability.values() for reason in st.unavailable.values()})
        for reason in reasons:
            console.print(f"  explanation stability not computed: {reason}", style="dim")
