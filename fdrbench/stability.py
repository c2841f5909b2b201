"""How a perturbation changes a detector's own answers, sample by sample against its clean run.

Two runs of one detector on the same samples, one on clean images and one perturbed, are
compared on the samples both hold (after the protocol's re-parse and failure policy, as scoring
sees them):

- **verdict flips**: among the samples with a verdict in both runs, the share whose verdict
  changed (with the direction: to real, to fake), and how many lost their verdict;
- **explanation stability**: the perturbed explanation scored against the same detector's clean
  explanation as if that were the reference, with the text metrics' own code (ROUGE-L of
  rouge-score tokens, CSS with the protocol's encoder, the offline MiniLM by default). Samples
  without a clean explanation are left out; a perturbed sample without one scores 0.

Every rate carries a label-stratified percentile bootstrap interval, seeded per condition.
"""

from __future__ import annotations

from dataclasses import replace

import msgspec
import numpy as np

from fdrbench.metrics.frame import Frame
from fdrbench.metrics.paired import align
from fdrbench.metrics.registry import get_metric
from fdrbench.metrics.stats import derive_seed, percentile_ci, resample_chunks
from fdrbench.paired import subset
from fdrbench.results import Entry, Stability
from fdrbench.scoring import ScoredFrame
from fdrbench.types import Prediction, Reference

TEXT_METRICS = ("rouge_l", "css")
NO_VERDICT = -1


def _verdict(prediction: Prediction) -> int:
    return NO_VERDICT if prediction.failed or prediction.label not in (0, 1) else int(prediction.label)


def _interval(stat, rows: np.ndarray, strata: np.ndarray, n_boot: int, seed: int, level: float) -> list[float] | None:
    if n_boot <= 0 or rows.size == 0:
        return None
    reps = np.concatenate([stat(chunk) for chunk in resample_chunks(rows, strata, n_boot, seed)])
    return percentile_ci(reps, level)


def against_clean(frame: Frame, rows: np.ndarray, clean_texts: list[str | None]) -> Frame:
    """The rows of ``frame`` with each sample's reference replaced by the clean run's explanation,
    and nothing the text metrics computed against the dataset's references carried over."""
    base = subset(frame, rows)
    records = [
        msgspec.structs.replace(record, truth=msgspec.structs.replace(record.truth, reference=Reference(text=text)))
        for record, text in zip(base.records, clean_texts, strict=True)
    ]
    return replace(base, records=records, columns={}, unavailable={})


def stability(clean: ScoredFrame, other: ScoredFrame, n_boot: int, seed: int, level: float, scope: str) -> Stability:
    """Verdict flips and explanation similarity of ``other`` against ``clean`` (``scope`` names the
    condition in the bootstrap seeds)."""
    shared = align(clean.frame, other.frame)
    before = [clean.frame.predictions[i] for i in shared.rows_a]
    after = [other.frame.predictions[i] for i in shared.rows_b]
    v_clean = np.array([_verdict(p) for p in before], dtype=np.int8)
    v_other = np.array([_verdict(p) for p in after], dtype=np.int8)
    y = clean.frame.y[shared.rows_a]
    both = (v_clean != NO_VERDICT) & (v_other != NO_VERDICT)
    flipped = both & (v_clean != v_other)
    rows = np.flatnonzero(both)
    rate = float(flipped[rows].mean()) if rows.size else None
    flip_ci = _interval(
        lambda idx: flipped[idx].mean(axis=-1), rows, y[rows], n_boot, derive_seed(seed, "stability", scope, "flips"), level
    )
    texts = [p.explanation if p.explanation and p.explanation.strip() else None for p in before]
    frame = against_clean(other.frame, shared.rows_b, texts)
    entries: dict[str, Entry] = {}
    for name in TEXT_METRICS:
        metric = get_metric(name)
        metric.prepare(frame)
        everything = frame.all_rows()
        value = metric.value(frame, everything)
        ci = None
        if value is not None:
            seed_for = derive_seed(seed, "stability", scope, name)
            ci = _interval(lambda idx, m=metric: m.replicates(frame, idx), everything, frame.y, n_boot, seed_for, level)
        entries[name] = Entry(value, ci)
    return Stability(
        n=int(both.sum()),
        n_flipped=int(flipped.sum()),
        to_real=int((flipped & (v_clean == 1)).sum()),
        to_fake=int((flipped & (v_clean == 0)).sum()),
        n_lost=int(((v_clean != NO_VERDICT) & (v_other == NO_VERDICT)).sum()),
        flip_rate=Entry(rate, flip_ci if rate is not None else None),
        n_explained=sum(text is not None for text in texts),
        rouge_l=entries["rouge_l"],
        css=entries["css"],
        unavailable=_reasons(frame, texts),
    )


def _reasons(frame: Frame, clean_texts: list[str | None]) -> dict[str, str]:
    """Why a text similarity is missing, said in this comparison's terms (the reference is the clean explanation)."""
    if not any(clean_texts):
        return {name: "the clean run gives no explanation to compare with" for name in TEXT_METRICS}
    return {name: frame.unavailable[name] for name in TEXT_METRICS if name in frame.unavailable}
