"""The finish stage: a run's timing, usage and status, recorded after it is scored."""

from __future__ import annotations

from fdrbench.manifest import now_iso
from fdrbench.record import Record
from fdrbench.results import Manifest


def finish(manifest: Manifest, records: dict[str, Record], duplicates: int, infer_s: float | None, score_s: float) -> Manifest:
    """Update ``manifest`` in place: throughput, latency, token and error counts, ``complete`` or ``running``."""
    expected = manifest.task_info.n_samples or len(records)
    timing = manifest.timing
    if infer_s is not None:
        timing["infer_s"] = round(timing.get("infer_s", 0.0) + infer_s, 3)
    timing["score_s"] = round(score_s, 3)
    latencies = [r.latency_s for r in records.values() if r.latency_s is not None]
    if timing.get("infer_s"):
        timing["samples_per_s"] = round(len(records) / timing["infer_s"], 3)
    timing["mean_latency_s"] = round(sum(latencies) / len(latencies), 6) if latencies else None
    manifest.usage = {
        "n_tokens": sum(int(r.n_tokens or 0) for r in records.values()),
        "n_errors": sum(1 for r in records.values() if r.error is not None),
        "n_duplicates_superseded": duplicates,
    }
    manifest.status = "complete" if len(records) >= expected else "running"
    manifest.updated = now_iso()
    return manifest
