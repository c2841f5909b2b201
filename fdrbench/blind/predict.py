"""``fdrbench run --predict-only``: a blind run that writes a submission instead of a scored run folder.

The samples are the task's :meth:`~fdrbench.api.task.Task.blind_sample` views (id, image and
question; no label, class, groups, reference, mask or metadata), so the detector cannot see the
truth even where the data folder holds it, and nothing it writes can carry it. The folder
``<out>/<task>/<model>/<run_id>/`` gets ``submission.jsonl`` (one prediction per sample) and
``submission-manifest.json`` (the run's provenance, with the public fingerprint of the samples).
Resumable like any run: a re-run of the same command predicts only what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from fdrbench.blind.submission import SUBMISSION, SUBMISSION_MANIFEST, SubmissionLine, finished_ids, merged_lines
from fdrbench.distributed import shutdown
from fdrbench.errors import FdrbenchError, os_error_text
from fdrbench.resolve import RunConfig, RunPlan, plan
from fdrbench.results import Manifest, SubmissionInfo
from fdrbench.stages.finish import finish
from fdrbench.stages.infer import Outputs, infer_missing, open_manifest
from fdrbench.store import PredictionWriter, write_jsonl_atomic


@dataclass
class BlindRun:
    folder: Path
    manifest: Manifest
    n_predicted: int
    n_failed: int

    @property
    def submission(self) -> Path:
        return self.folder / SUBMISSION


def submission_outputs(p: RunPlan) -> Outputs:
    """A blind run's files: its manifest beside ``submission.jsonl``, whose lines hold no truth."""

    def mark(manifest: Manifest) -> Manifest:
        manifest.submission = SubmissionInfo(role="submission", public_fingerprint=p.fingerprint)
        return manifest

    return Outputs(
        p.run_dir / SUBMISSION_MANIFEST,
        lambda sample, prediction: SubmissionLine.of(prediction),
        lambda retry: finished_ids(p.run_dir / SUBMISSION, retry),
        mark,
    )


def predict_only(config: RunConfig) -> BlindRun:
    """Predict every sample of the split without its truth; safe to interrupt and re-run."""
    p = plan(replace(config, predict_only=True))
    if p.info.world_size > 1:
        raise FdrbenchError("--predict-only runs in one process; start it without torchrun / accelerate")
    outputs = submission_outputs(p)
    writer = PredictionWriter(p.run_dir / SUBMISSION)
    try:
        manifest = open_manifest(p, outputs)
        inferred = infer_missing(p, manifest, writer, outputs)
    except OSError as exc:
        raise FdrbenchError(
            f"{os_error_text(exc)}; the predictions written before are kept - fix that and re-run the same command to resume"
        ) from exc
    finally:
        writer.close()
    lines, superseded = merged_lines(p.run_dir / SUBMISSION)
    if superseded:  # a retried failure: the organiser accepts one line per sample
        order = {sample.id: i for i, sample in enumerate(p.samples)}
        write_jsonl_atomic(p.run_dir / SUBMISSION, sorted(lines.values(), key=lambda line: order.get(line.sample_id, len(order))))
    finish(inferred.manifest, lines, superseded, inferred.seconds, 0.0)
    outputs.write(inferred.manifest)
    shutdown(p.info)
    return BlindRun(p.run_dir, inferred.manifest, len(lines), sum(1 for line in lines.values() if line.error is not None))
