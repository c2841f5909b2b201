"""``fdrbench robustness``: a detector's clean run and one run per member of a perturbation preset, then their analysis.

Each condition is its own run folder, exactly the run ``fdrbench run --perturb MEMBER`` makes
with the same options (so each resumes, and each can be validated, compared and submitted on
its own). A condition whose run is complete and scored with the requested settings is left
untouched; the others are run or resumed, each loading the detector afresh. When every
condition is done, :mod:`fdrbench.robustness` writes ``robustness.json`` beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from fdrbench.errors import FdrbenchError, ResultsError
from fdrbench.hashing import config_hash
from fdrbench.manifest import now_iso
from fdrbench.pipeline import run_plan
from fdrbench.resolve import RunConfig, RunPlan, plan
from fdrbench.results import Robustness, RunDir
from fdrbench.robustness import CLEAN, Sweep, analyse, write


@dataclass
class SweepResult:
    path: Path | None  # the robustness file (None on a rank other than the main one)
    robustness: Robustness | None
    #: (condition, run folder, "run" or "reused") in the preset's order, the clean run first
    runs: list[tuple[str, Path, str]] = field(default_factory=list)


def finished(p: RunPlan) -> bool:
    """True when ``p``'s run folder holds a complete run, made and scored with exactly these settings."""
    run = RunDir(p.run_dir)
    if not run.is_run():
        return False
    try:
        manifest, scores = run.manifest(), run.scores()
    except ResultsError:
        return False
    wanted = p.config.protocols or list(p.task.protocols())
    return (
        manifest.status == "complete"
        and manifest.config_hash == config_hash(p.settings)
        and scores is not None
        and not scores.partial
        and (scores.settings.n_boot, scores.settings.seed) == (p.config.n_boot, p.config.seed)
        and set(wanted) <= set(scores.protocols)
    )


def _condition(p: RunPlan) -> str:
    if finished(p):
        return "reused"
    run_plan(p)
    return "run"


def run_sweep(config: RunConfig, preset_name: str) -> SweepResult:
    """Run (or resume) the clean condition and every member of ``preset_name``, then write the analysis."""
    from fdrbench import perturb

    group = perturb.preset(preset_name)  # an unknown preset stops here, before any work
    if config.perturb:
        raise FdrbenchError("fdrbench robustness runs the clean images and each preset member itself; leave out --perturb")
    clean = plan(config)
    result = SweepResult(None, None, [(CLEAN, clean.run_dir, _condition(clean))])
    conditions = []
    for member in group.member_names():
        run_id = f"{config.run_id}__{perturb.run_id_part(member)}" if config.run_id else None
        p = plan(replace(config, perturb=member, run_id=run_id))
        if p.run_dir.parent != clean.run_dir.parent:
            raise FdrbenchError(f"condition {member} would be filed under {p.run_dir.parent}, not beside the clean run")
        result.runs.append((member.partition("/")[2], p.run_dir, _condition(p)))
        conditions.append((member.partition("/")[2], p.run_dir.name))
    if not clean.info.is_main:
        return result
    sweep = Sweep(
        model_dir=clean.run_dir.parent,
        preset=group.name,
        description=group.description,
        readings=group.readings,
        clean_run_id=clean.run_dir.name,
        conditions=tuple(conditions),
        n_boot=config.n_boot,
        seed=config.seed,
    )
    result.robustness = analyse(sweep, now_iso(), config.protocols, progress=config.show_progress)
    result.path = write(sweep, result.robustness)
    return result
