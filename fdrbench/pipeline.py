"""One evaluation end to end: resolve, infer (resumable, sharded), score, finish.

``run`` is what ``fdrbench run`` and ``fdrbench demo`` call; each stage is its own module
(:mod:`fdrbench.resolve`, :mod:`fdrbench.stages.infer`, :mod:`fdrbench.stages.score`,
:mod:`fdrbench.stages.finish`). A run folder is ``<out>/<task>/<model>/<run_id>/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fdrbench.distributed import shutdown
from fdrbench.errors import FdrbenchError, os_error_text
from fdrbench.resolve import RunConfig, RunPlan, make_detector, make_task, plan
from fdrbench.results import Manifest, RunDir, Scores
from fdrbench.scoring import ScoreSettings
from fdrbench.stages.infer import infer_missing, open_manifest
from fdrbench.stages.score import score_run, score_run_dir
from fdrbench.store import PredictionWriter, predictions_path


@dataclass
class RunResult:
    run_dir: Path
    manifest: Manifest
    scores: Scores | None


def run(config: RunConfig) -> RunResult:
    """Infer what is missing, then score; safe to interrupt and re-run."""
    return run_plan(plan(config))


def run_plan(p: RunPlan) -> RunResult:
    """The stages after resolve, for a run already planned (``fdrbench robustness`` plans first to
    leave finished conditions untouched)."""
    config = p.config
    # the lock comes first: a second run on this folder stops here, before it reads what is finished
    writer = PredictionWriter(predictions_path(p.run_dir, p.info.rank, p.info.world_size))
    try:
        manifest = open_manifest(p)
        inferred = infer_missing(p, manifest, writer)
    except OSError as exc:
        raise FdrbenchError(
            f"{os_error_text(exc)}; the predictions written before are kept - fix that and re-run the same command to resume"
        ) from exc
    finally:
        writer.close()
    scores = None
    if p.info.is_main:
        settings = ScoreSettings(config.n_boot, seed=config.seed)
        scores, manifest = score_run(RunDir(p.run_dir), inferred.manifest, p.task, config.protocols, settings, inferred.seconds)
    shutdown(p.info)
    return RunResult(p.run_dir, manifest, scores)


__all__ = ["RunConfig", "RunResult", "make_detector", "make_task", "run", "run_plan", "score_run_dir"]
