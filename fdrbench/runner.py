"""The infer stage: batches, image prefetch, per-sample error isolation, failure budget.

A batch that raises is retried one sample at a time, so one corrupt image or one adapter
exception costs that sample only; its Prediction records the error and the run goes on until
the failure budget is spent. Every finished batch is appended to the store before the next
starts, so an interruption loses at most the batch in flight.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from fdrbench.api.detector import Detector
from fdrbench.errors import DataError, RunAborted
from fdrbench.prediction_check import checked_or_error
from fdrbench.progress import Bar
from fdrbench.record import PredictionFields, Record, Truth
from fdrbench.store import PredictionWriter
from fdrbench.types import Prediction, Sample


@dataclass
class InferStats:
    n_predicted: int = 0
    n_errors: int = 0
    seconds: float = 0.0
    n_tokens: int = 0


def shard(samples: Sequence[Sample], rank: int, world_size: int) -> list[Sample]:
    """Rank ``k`` of ``w`` takes every ``w``-th sample from offset ``k``: the same split every time."""
    return [s for i, s in enumerate(samples) if i % world_size == rank]


def _prefetch(batch: list[Sample]) -> dict[str, str]:
    """Decode the batch's images; returns ``{sample_id: error}`` for the ones that cannot be read."""
    errors = {}
    for sample in batch:
        try:
            sample.load_image()
        except DataError as exc:
            errors[sample.id] = f"DataError: {exc}"
        except Exception as exc:  # an image decoder can raise anything on a hostile file
            errors[sample.id] = f"{type(exc).__name__}: {exc}"
    return errors


def _predict_checked(detector: Detector, batch: list[Sample], label_space: str) -> list[Prediction]:
    """One checked prediction per sample (:mod:`fdrbench.prediction_check`); a batch whose answers
    do not line up with its samples raises, so that each sample is asked again on its own."""
    preds = detector.predict(batch)
    if isinstance(preds, tuple):
        preds = list(preds)
    if not isinstance(preds, list) or len(preds) != len(batch):
        got = len(preds) if isinstance(preds, list) else type(preds).__name__
        raise ValueError(f"adapter {detector.name!r} returned {got} predictions for {len(batch)} samples")
    out = []
    for sample, pred in zip(batch, preds, strict=True):
        if isinstance(pred, Prediction) and pred.sample_id != sample.id:
            raise ValueError(f"adapter {detector.name!r} returned sample_id {pred.sample_id!r} for sample {sample.id!r}")
        out.append(checked_or_error(pred, sample, label_space))
    return out


def _predict_isolated(detector: Detector, batch: list[Sample], label_space: str = "binary") -> dict[str, Prediction]:
    """Predict a batch; if it raises, retry each sample alone and record who failed."""
    if not batch:
        return {}
    start = time.perf_counter()
    try:
        preds = _predict_checked(detector, batch, label_space)
    except Exception:
        out = {}
        for sample in batch:
            t0 = time.perf_counter()
            try:
                (pred,) = _predict_checked(detector, [sample], label_space)
            except Exception as exc:
                pred = Prediction.from_error(sample.id, exc)
            if pred.latency_s is None:
                pred.latency_s = time.perf_counter() - t0
            out[sample.id] = pred
        return out
    per_sample = (time.perf_counter() - start) / len(batch)
    for pred in preds:
        if pred.latency_s is None:
            pred.latency_s = per_sample
    return {p.sample_id: p for p in preds}


def record_line(sample: Sample, pred: Prediction) -> Record:
    """The stored line of a run folder: the prediction with its sample's truth."""
    try:
        truth = Truth.of(sample)
    except DataError as exc:
        truth = Truth.of(sample, include_mask=False)
        pred = Prediction.from_error(sample.id, f"ground-truth mask unreadable: {exc}")
    return Record.of(pred, truth)


def infer(
    detector: Detector,
    samples: Sequence[Sample],
    writer: PredictionWriter,
    batch_size: int,
    max_failures: int | None,
    bar: Bar,
    label_space: str = "binary",
    line: Callable[[Sample, Prediction], Record | PredictionFields] = record_line,
) -> InferStats:
    """Predict ``samples`` in batches, appending each finished batch to ``writer``.

    ``label_space`` is the task's: a prediction naming a class outside it is that sample's error.
    ``line`` makes the stored line of a sample and its prediction: a :class:`Record` with the
    sample's truth, or the prediction alone in a blind run.
    """
    stats = InferStats()
    batches = [list(samples[i : i + batch_size]) for i in range(0, len(samples), batch_size)]
    prefetch = not detector.loads_images
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fdrbench-prefetch") as pool:
        pending: Future | None = pool.submit(_prefetch, batches[0]) if prefetch and batches else None
        for number, batch in enumerate(batches):
            load_errors = pending.result() if pending is not None else {}
            pending = pool.submit(_prefetch, batches[number + 1]) if prefetch and number + 1 < len(batches) else None
            preds = {sid: Prediction.from_error(sid, err) for sid, err in load_errors.items()}
            preds.update(_predict_isolated(detector, [s for s in batch if s.id not in load_errors], label_space))
            records = [line(sample, preds[sample.id]) for sample in batch]
            writer.write(records)
            for sample in batch:
                sample.release_image()
            stats.n_predicted += len(batch)
            batch_errors = [r for r in records if r.error is not None]
            stats.n_errors += len(batch_errors)
            stats.n_tokens += sum(r.n_tokens or 0 for r in records)
            bar.advance(len(batch))
            if max_failures is not None and stats.n_errors > max_failures:
                last = batch_errors[-1]
                raise RunAborted(
                    f"{stats.n_errors} samples failed, more than the budget of {max_failures} (--max-failures); "
                    f"the last one, {last.sample_id!r}: {last.error}. "
                    f"The {stats.n_predicted} predictions made so far are saved; fix the cause and re-run to resume."
                )
    stats.seconds = time.perf_counter() - start
    return stats
