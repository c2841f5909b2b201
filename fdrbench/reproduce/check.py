"""Checking a target against a run: each entry measured on the run and judged, and the run found or made.

The measured value and its 95% interval come from the run's stored ``scores.json`` when the
stored block is current (same protocol version, a 95% bootstrap interval); otherwise the run's
stored predictions are re-scored in memory under the task's protocol as it is now, for the
metrics the target needs (nothing is written; ``fdrbench score RUN_DIR`` updates the file). The
leaderboard asks for stored values only (``rescore=False``) and says when they are stale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec

from fdrbench.errors import FdrbenchError
from fdrbench.reproduce.match import Comparison, compare
from fdrbench.reproduce.registry import Entry, Target
from fdrbench.reproduce.verdict import EXIT_CODES, NOT_COMPARABLE, judge, worst
from fdrbench.results import Block, Manifest, RunDir, find_runs

LEVEL = 0.95


@dataclass
class EntryResult:
    entry: Entry
    verdict: str
    measured: float | None = None
    ci: list[float] | None = None
    difference: float | None = None
    half_widths: float | None = None
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        e = self.entry
        return {
            "id": e.id,
            "table": e.table,
            "row": e.row,
            "column": e.column,
            "metric": e.metric,
            "scope": e.scope,
            "printed": e.printed,
            "scale": e.scale,
            "published": e.value,
            "half_width": e.half_width,
            "measured": self.measured,
            "ci": self.ci,
            "verdict": self.verdict,
            "difference": self.difference,
            "ci_half_widths": None if self.half_widths is None or math.isinf(self.half_widths) else self.half_widths,
            "reason": self.reason or None,
            "note": e.note or None,
        }


@dataclass
class TargetResult:
    target: Target
    run: str | None
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    entries: list[EntryResult] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return worst([e.verdict for e in self.entries])

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_json(self) -> dict[str, Any]:
        t = self.target
        return {
            "target": t.name,
            "description": t.description,
            "task": t.task,
            "protocol": t.protocol,
            "paper": t.paper,
            "source": t.source,
            "run": self.run,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "reasons": self.reasons,
            "notes": self.notes,
            "entries": [e.to_json() for e in self.entries],
        }


def not_comparable(target: Target, run: str | None, reasons: list[str], notes: list[str] | None = None) -> TargetResult:
    """Every entry of ``target`` not comparable, for the reasons given."""
    entries = [EntryResult(e, NOT_COMPARABLE, reason="; ".join(reasons)) for e in target.entries]
    return TargetResult(target, run, list(reasons), list(notes or []), entries)


def check_run(target: Target, run_dir: str | Path, rescore: bool = True) -> TargetResult:
    """``target`` judged on the run folder ``run_dir`` (read through :class:`RunDir` only)."""
    run = RunDir(run_dir)
    manifest = run.manifest()
    comparison = compare(target, run, manifest)
    if not comparison.comparable or comparison.task is None:
        return not_comparable(target, str(run.path), comparison.reasons, comparison.notes)
    block, notes, problem = measured_block(target, run, manifest, comparison, rescore)
    if block is None:
        return not_comparable(target, str(run.path), [problem or "no scores"], comparison.notes)
    result = TargetResult(target, str(run.path), [], [*comparison.notes, *notes])
    members = {
        name: agg.members for name, agg in {**comparison.task.aggregates, **comparison.task.protocols()[target.protocol].aggregates}.items()
    }
    result.entries = [judge_entry(entry, block, members) for entry in target.entries]
    return result


def measured_block(
    target: Target, run: RunDir, manifest: Manifest, comparison: Comparison, rescore: bool
) -> tuple[Block | None, list[str], str | None]:
    """(block, notes, problem): the protocol block the entries are read from, stored or re-scored."""
    from fdrbench.metrics.registry import option_classes
    from fdrbench.metrics.stats import DEFAULT_N_BOOT
    from fdrbench.scoring import ScoreSettings, score_records

    task = comparison.task
    protocol = task.protocols()[target.protocol]
    scores = run.scores()
    stored = scores.protocols.get(target.protocol) if scores is not None else None
    if scores is not None and scores.partial:
        return None, [], f"the run's scores cover only part of its {scores.n_expected} samples"
    has_interval = scores is not None and scores.settings.n_boot > 0 and math.isclose(scores.settings.ci_level, LEVEL)
    if stored is not None and has_interval and stored.protocol.version == protocol.version():
        return stored, [], None
    if not rescore:
        if stored is None or not has_interval:
            return None, [], f"the stored scores hold no 95% interval under protocol {target.protocol!r} (re-score: fdrbench score RUN_DIR)"
        if stored.protocol.version != protocol.version():
            return stored, [f"stored scores from another version of protocol {target.protocol!r} (re-score: fdrbench score RUN_DIR)"], None
        return stored, [], None
    records, _ = run.records()
    if len(records) < manifest.task_info.n_samples:
        return None, [], f"the run has predictions for {len(records)} of its {manifest.task_info.n_samples} samples"
    needed = tuple(dict.fromkeys(e.metric for e in target.entries if e.metric in protocol.metrics))
    if not needed:
        return None, [], f"protocol {target.protocol!r} computes none of the target's metrics"
    n_boot = scores.settings.n_boot if scores is not None and scores.settings.n_boot > 0 else DEFAULT_N_BOOT
    settings = ScoreSettings(n_boot=n_boot, level=LEVEL, seed=manifest.settings.seed)
    # the target's metrics only, with the options of their own families (the others' would be refused)
    accepted = {key for cls in option_classes(needed) for key in cls.names()}
    subset = replace(protocol, metrics=needed, options={k: v for k, v in protocol.options.items() if k in accepted})
    blocks = score_records(records.values(), {target.protocol: subset}, None, settings, task.group_keys, task.aggregates)
    why = "the run has no scores.json" if scores is None else "its stored scores are not current"
    note = f"re-scored in memory from the stored predictions ({why}; fdrbench score RUN_DIR updates the file)"
    return msgspec.convert(blocks[target.protocol], Block), [note], None


def judge_entry(entry: Entry, block: Block, aggregate_members: dict[str, tuple[str, ...]]) -> EntryResult:
    """One entry located in ``block`` and judged; not comparable when the block cannot say."""
    if entry.group is not None:
        key, value = entry.group
        if key not in block.groups:
            return EntryResult(entry, NOT_COMPARABLE, reason=f"the run has no {key} groups")
        scope = block.groups[key].get(value)
        if scope is None:
            return EntryResult(entry, NOT_COMPARABLE, reason=f"the run has no group {key}={value}")
    elif entry.aggregate is not None:
        scope = block.aggregates.get(entry.aggregate)
        if scope is None:
            return EntryResult(entry, NOT_COMPARABLE, reason=f"the run has no aggregate {entry.aggregate!r}")
        wanted = aggregate_members.get(entry.aggregate) or ()
        present = block.aggregate_members.get(entry.aggregate, list(wanted))
        if wanted and set(present) != set(wanted):
            missing = ", ".join(sorted(set(wanted) - set(present)))
            return EntryResult(entry, NOT_COMPARABLE, reason=f"aggregate {entry.aggregate!r} lacks its members {missing}")
    else:
        scope = block.overall
    found = scope.get(entry.metric)
    if found is None:
        return EntryResult(entry, NOT_COMPARABLE, reason=f"the protocol computes no {entry.metric}")
    if found.value is None:
        why = (block.details.get(entry.metric) or {}).get("unavailable") if entry.scope == "overall" else None
        return EntryResult(entry, NOT_COMPARABLE, reason=f"no value for {entry.metric}" + (f" ({why})" if why else ""))
    if found.ci is None:
        return EntryResult(entry, NOT_COMPARABLE, found.value, reason=f"no confidence interval for {entry.metric}")
    judged = judge(entry.value, entry.half_width, found.value, found.ci)
    return EntryResult(entry, judged.verdict, found.value, list(found.ci), judged.difference, judged.half_widths)


# --------------------------------------------------------------------------- finding or making the run


@dataclass
class Found:
    """A matching complete run under a results root (or None), and why each other candidate was passed over."""

    run: RunDir | None
    passed_over: list[tuple[str, list[str]]] = field(default_factory=list)


def find_matching(target: Target, results: Path) -> Found:
    """The newest complete run under ``results`` that is comparable with ``target``."""
    found = Found(None)
    best: tuple[str, RunDir] | None = None
    for run in find_runs(results):
        if run.path.parent.parent.name != target.task:
            continue
        try:
            manifest = run.manifest()
            comparison = compare(target, run, manifest)
        except FdrbenchError as exc:
            found.passed_over.append((str(run.path), [str(exc).splitlines()[0]]))
            continue
        if not comparison.comparable:
            found.passed_over.append((str(run.path), comparison.reasons))
        elif best is None or manifest.created > best[0]:
            best = (manifest.created, run)
    found.run = best[1] if best else None
    return found


def run_settings(target: Target, model_args: dict[str, Any], task_args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The target's model and task settings with the user's additions (a local weights folder, a
    CLIP folder); a setting the target fixes cannot be changed, except the weights' location."""
    fixed_model = {k: v for k, v in target.model.run_args().items() if k != target.model.weights_arg}
    for given, fixed, flag in ((model_args, fixed_model, "--model-arg"), (task_args, target.task_args, "--task-arg")):
        clash = sorted(k for k in given if k in fixed and given[k] != fixed[k])
        if clash:
            shown = ", ".join(f"{k}={fixed[k]!r}" for k in clash)
            raise FdrbenchError(f"target {target.name!r} fixes {flag} {shown}; a different value would not measure the published number")
    return {**target.model.run_args(), **model_args}, {**target.task_args, **task_args}


def make_run(
    target: Target,
    results: Path,
    data_dir: Path | None,
    device: str,
    model_args: dict[str, Any],
    task_args: dict[str, Any],
    batch_size: int,
    show_progress: bool,
) -> Path:
    """Run the target's model on its task through the normal pipeline (resuming a run of the same settings)."""
    from fdrbench.pipeline import RunConfig, run

    model_settings, task_settings = run_settings(target, model_args, task_args)
    config = RunConfig(
        model=target.model.adapter,
        task=target.task,
        model_args=model_settings,
        task_args=task_settings,
        data_dir=data_dir,
        split=target.split,
        batch_size=batch_size,
        out=results,
        device=device,
        show_progress=show_progress,
    )
    return run(config).run_dir
