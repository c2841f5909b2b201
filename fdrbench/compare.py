"""``fdrbench compare``: paired differences between runs of one task on the samples they share.

Every run after the first is compared with the first (the baseline). Samples are matched by id;
under a protocol that excludes failures, a metric compares only the samples both runs keep
(``failure_rate`` compares all shared samples). Each metric gets the difference B - A with a
paired, label-stratified bootstrap interval and p-value; accuracy also gets McNemar's test.
The comparison warns, without refusing, when the runs' task fingerprints, task versions,
perturbations or recorded protocol settings differ, because then the numbers may not mean the
same thing. Runs of one sweep (``fdrbench robustness``) differ in perturbation only: their clean
fingerprints agree, so only the perturbation is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fdrbench.errors import FdrbenchError, ResultsError
from fdrbench.metrics.paired import align, restrict
from fdrbench.metrics.registry import get_metric
from fdrbench.paired import compare_metric
from fdrbench.results import Manifest, RunDir, Scores
from fdrbench.scoring import ScoredFrame, build_frame, prepare_metrics


@dataclass
class LoadedRun:
    run: RunDir
    manifest: Manifest
    scores: Scores | None
    records: list

    @property
    def label(self) -> str:
        return self.manifest.label


def load_run(run_dir: Path) -> LoadedRun:
    run = RunDir(run_dir)
    if not run.is_run():
        raise ResultsError(f"{run_dir} is not a run folder (no manifest.json)")
    manifest = run.manifest()
    records, _ = run.records()
    if not records:
        raise ResultsError(f"{run_dir} has no predictions")
    return LoadedRun(run, manifest, run.scores(strict=False), list(records.values()))


def perturbation_text(manifest: Manifest) -> str:
    """A run's perturbation as shown: ``none (clean images)``, or the spec with its preset member name."""
    info = manifest.perturbation
    if info is None:
        return "none (clean images)"
    return f"{info.spec!r}" + (f" ({info.name})" if info.name else "")


def clean_fingerprint(manifest: Manifest) -> str:
    """The fingerprint of the samples before any perturbation."""
    return manifest.perturbation.clean_fingerprint if manifest.perturbation else manifest.data_fingerprint


def _warnings(runs: list[LoadedRun], protocol: str, current: dict) -> list[str]:
    out = []
    base = runs[0]
    for run in runs[1:]:
        if run.manifest.task != base.manifest.task:
            out.append(f"tasks differ: {base.label} has {base.manifest.task!r}, {run.label} has {run.manifest.task!r}")
        fingerprints = [clean_fingerprint(r.manifest) for r in (base, run)]
        if fingerprints[0] != fingerprints[1]:
            out.append(f"task fingerprints differ: {base.label} has {fingerprints[0]!r}, {run.label} has {fingerprints[1]!r}")
        hashes = [r.manifest.perturbation.hash if r.manifest.perturbation else None for r in (base, run)]
        if hashes[0] != hashes[1]:
            out.append(
                f"perturbations differ: {base.label} has {perturbation_text(base.manifest)}, {run.label} has "
                f"{perturbation_text(run.manifest)} - the difference measures the perturbation's effect"
            )
        versions = [r.manifest.task_info.version for r in (base, run)]
        if versions[0] != versions[1]:
            out.append(f"task versions differ: {base.label} v{versions[0]}, {run.label} v{versions[1]}")
    for run in runs:
        block = run.scores.protocols.get(protocol) if run.scores is not None else None
        if block is None:
            continue
        stored = _settings(block)
        if stored != current:
            changed = sorted(k for k in set(stored) | set(current) if stored.get(k) != current.get(k))
            out.append(
                f"{run.label} was scored under protocol {protocol!r} with other settings ({', '.join(changed)} differ); "
                f"the comparison recomputes both runs with the current ones"
            )
    return out


def _settings(block) -> dict:
    """A stored protocol's settings as ``Protocol.settings()`` gives them (its version aside)."""
    import msgspec

    out = msgspec.to_builtins(block.protocol)
    out.pop("version", None)
    return out


def compare_runs(
    run_dirs: list[Path],
    protocol: str = "strict",
    metrics: list[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict:
    """Paired comparison of every run against the first; a JSON-ready dict."""
    if len(run_dirs) < 2:
        raise FdrbenchError("compare needs at least two run folders")
    runs = [load_run(Path(d)) for d in run_dirs]
    base = runs[0]
    task = base.run.task(base.manifest)
    available = task.protocols()
    if protocol not in available:
        raise FdrbenchError(f"task {task.name!r} has no protocol {protocol!r}; it has {', '.join(available)}")
    proto = available[protocol]
    names = list(metrics) if metrics else list(proto.metrics)
    chosen = [get_metric(n) for n in names]
    scored = [build_frame(run.records, proto, task.group_keys) for run in runs]
    for one in scored:
        prepare_metrics(one.frame, chosen)
    comparisons = [_compare_pair(scored[0], other, names, n_boot, seed, level) for other in scored[1:]]
    for run, comp in zip(runs[1:], comparisons, strict=True):
        comp.update(a=base.label, b=run.label, a_path=str(base.run.path), b_path=str(run.run.path))
    return {
        "task": task.name,
        "protocol": protocol,
        "settings": {"n_boot": n_boot, "seed": seed, "ci_level": level, "ci_method": "paired percentile bootstrap, within true label"},
        "runs": [
            {
                "label": r.label,
                "path": str(r.run.path),
                "n": len(r.records),
                "perturbation": r.manifest.perturbation.spec if r.manifest.perturbation else None,
            }
            for r in runs
        ],
        "warnings": _warnings(runs, protocol, proto.settings()),
        "comparisons": comparisons,
    }


def _compare_pair(a: ScoredFrame, b: ScoredFrame, names: list[str], n_boot: int, seed: int, level: float) -> dict:
    shared = align(a.frame, b.frame)
    kept = restrict(shared, a.included, b.included)
    results = {name: compare_metric(name, a, b, n_boot, seed, level, prepared=True) for name in names}
    accuracy = results.get("accuracy") or compare_metric("accuracy", a, b, 0, seed, level, interval=False)
    return {
        "n_a": len(a.frame),
        "n_b": len(b.frame),
        "n_shared": int(len(shared.ids)),
        "n_compared": int(len(kept.ids)),
        "metrics": results,
        "mcnemar_accuracy": accuracy.get("mcnemar") if len(kept.ids) else None,
    }


def print_comparison(result: dict) -> None:
    """One table per compared pair: A, B, B - A with its interval, bootstrap p, and McNemar."""
    from rich.table import Table
    from rich.text import Text

    from fdrbench.report import console_for_tables

    console = console_for_tables()
    for warning in result["warnings"]:
        console.print(f"warning: {warning}", style="yellow")
    level = int(round(100 * result["settings"]["ci_level"]))
    for comp in result["comparisons"]:
        title = f"{comp['b']} vs {comp['a']} on {result['task']} - protocol '{result['protocol']}' ({comp['n_compared']} paired samples)"
        table = Table(title=title, title_justify="left", header_style="bold")
        for col in ("metric", "A", "B", "B - A", f"{level}% CI", "p"):
            table.add_column(col, justify="left" if col == "metric" else "right")
        undefined = []
        for name, entry in comp["metrics"].items():
            if entry["a"] is None and entry["b"] is None:
                undefined.append(name)
                continue
            if entry["diff"] is None:
                metric = get_metric(name)
                table.add_row(name, metric.text(entry["a"]), metric.text(entry["b"]), Text("--", style="dim"), "", "")
                continue
            ci = entry["ci"]
            metric = get_metric(name)
            table.add_row(
                name,
                metric.text(entry["a"]),
                metric.text(entry["b"]),
                Text(metric.text(entry["diff"], signed=True), style="bold" if entry.get("separated") else ""),
                f"[{metric.text(ci[0], signed=True)}, {metric.text(ci[1], signed=True)}]" if ci else "",
                f"{entry['p_value']:.3g} ({entry['test']})" if entry["p_value"] is not None else "",
            )
        console.print(table)
        if undefined:
            console.print(f"  undefined for both runs (not shown): {', '.join(undefined)}", style="dim")
        mc = comp.get("mcnemar_accuracy")
        if mc:
            kind = "exact binomial" if mc["exact"] else "chi-squared, continuity-corrected"
            console.print(
                f"  McNemar (accuracy): {mc['b']} samples only A gets right, {mc['c']} only B; p = {mc['p_value']:.3g} ({kind})",
                style="dim",
            )
