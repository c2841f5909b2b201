"""Published numbers beside the measured ones: the registry checked against the runs of a results folder.

For every run whose task and adapter a registered target names, the target is checked on the
run's stored scores (``rescore=False``: a page never re-scores predictions), with the verdict
rule of ``fdrbench reproduce``. Free of Streamlit, so the table is tested on its own; every text
in it comes from the registry or a results file and is shown as plain text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fdrbench.errors import FdrbenchError
from fdrbench.leaderboard.data import run_dir
from fdrbench.results import RunDir

#: the verdict rule in one paragraph, shown above every table of checks (app and static site)
RULE = (
    "reproduced: the published value lies inside the measured 95% CI widened by half its printed precision; "
    "deviates: it lies outside (detail: measured minus published, and in CI half-widths); "
    "not comparable: task version, split, subset, options, protocol, model or settings differ (detail says which). "
    "Values on the paper's scale; stored scores only (fdrbench reproduce TARGET --run RUN_DIR re-scores stale ones)."
)
COLUMNS = [
    "benchmark",
    "detector",
    "run",
    "target",
    "entry",
    "as printed",
    "metric",
    "published",
    "measured",
    "95% CI",
    "verdict",
    "detail",
]


def checks_for_run(root: Path, path: str) -> list[dict]:
    """The check of every target that names this run's task and adapter, as ``TargetResult.to_json()``
    (one line of error text under ``error`` when the run's files cannot be read)."""
    from fdrbench.reproduce.check import check_run
    from fdrbench.reproduce.registry import load_registry

    folder = run_dir(root, path)
    try:
        manifest = RunDir(folder).manifest()
        targets = load_registry().for_run(manifest.task, manifest.adapter.name)
        return [check_run(target, folder, rescore=False).to_json() for target in targets]
    except FdrbenchError as exc:
        return [{"error": str(exc).splitlines()[0]}]


def _shown(value: float | None, printed: str, scale: float, sign: str = "") -> str:
    """``value`` on the printed scale with one digit more than printed (``sign="+"`` signs it)."""
    if value is None:
        return "—"
    digits = len(printed.partition(".")[2]) + 1
    return f"{value * scale:{sign}.{digits}f}"


def published_tasks() -> set[str]:
    """The tasks some registered target names (a registry error is raised, for the page to show)."""
    from fdrbench.reproduce.registry import load_registry

    return {target.task for target in load_registry().targets.values()}


def table(checked: list[tuple[dict, dict]], protocol: str | None = None) -> pd.DataFrame:
    """One row per published entry: (index entry of the run, its check) pairs; ``protocol`` keeps the
    targets scored under that protocol only."""
    rows = []
    for run, result in checked:
        if "error" in result or (protocol is not None and result.get("protocol") != protocol):
            continue
        for entry in result["entries"]:
            ci = entry["ci"]
            detail = entry["reason"]
            if entry["difference"] is not None:
                away = entry["ci_half_widths"]
                spread = "a zero-width CI" if away is None else f"{away:.1f} CI half-widths"
                detail = f"{_shown(entry['difference'], entry['printed'], entry['scale'], '+')} ({spread})"
            rows.append(
                {
                    "benchmark": run["task"],
                    "detector": run["model"],
                    "run": run["run_id"],
                    "target": result["target"],
                    "entry": entry["id"],
                    "as printed": " · ".join(p for p in (entry["table"], entry["row"], entry["column"]) if p),
                    "metric": entry["metric"] if entry["scope"] == "overall" else f"{entry['metric']} @ {entry['scope']}",
                    "published": entry["printed"],
                    "measured": _shown(entry["measured"], entry["printed"], entry["scale"]),
                    "95% CI": f"[{_shown(ci[0], entry['printed'], entry['scale'])}, {_shown(ci[1], entry['printed'], entry['scale'])}]"
                    if ci
                    else "—",
                    "verdict": entry["verdict"],
                    "detail": detail or "",
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def errors(checked: list[tuple[dict, dict]]) -> list[tuple[dict, str]]:
    """(run, error line) for every run whose check could not be made."""
    return [(run, result["error"]) for run, result in checked if "error" in result]
