"""Seeded, label-stratified percentile bootstrap for any metric.

Replicates resample within each stratum (the true label, by default) so every replicate keeps
the run's class balance. Seeds are derived from the run seed and the scope name, so a group's
interval does not change when other groups are added. Index matrices are built in chunks to
keep memory bounded on large runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np

DEFAULT_N_BOOT = 1000
DEFAULT_LEVEL = 0.95
_CHUNK_ELEMENTS = 4_000_000


def derive_seed(seed: int, *scope: str) -> int:
    digest = hashlib.sha256(("\x1f".join([str(seed), *scope])).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def resample_chunks(rows: np.ndarray, strata: np.ndarray, n_boot: int, seed: int) -> list[np.ndarray]:
    """``(b, len(rows))`` index matrices totalling ``n_boot`` replicates, stratified by ``strata``."""
    rng = np.random.default_rng(seed)
    groups = [rows[strata == value] for value in np.unique(strata)]
    per_chunk = max(1, _CHUNK_ELEMENTS // max(len(rows), 1))
    chunks = []
    done = 0
    while done < n_boot:
        b = min(per_chunk, n_boot - done)
        parts = [g[rng.integers(0, len(g), size=(b, len(g)))] for g in groups if len(g)]
        chunks.append(np.concatenate(parts, axis=1))
        done += b
    return chunks


def percentile_ci(values: np.ndarray, level: float = DEFAULT_LEVEL) -> list[float] | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return [float(low), float(high)]


def bootstrap_replicates(
    stat: Callable[[np.ndarray], np.ndarray],
    rows: np.ndarray,
    strata: np.ndarray,
    n_boot: int,
    seed: int,
) -> np.ndarray:
    """Apply ``stat`` (index matrix -> one value per replicate) to ``n_boot`` stratified resamples."""
    if len(rows) == 0 or n_boot <= 0:
        return np.full(max(n_boot, 0), np.nan)
    return np.concatenate([stat(chunk) for chunk in resample_chunks(rows, strata, n_boot, seed)])


def combine_replicates(parts: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> np.ndarray:
    """Replicates of a (weighted) mean of several groups' metrics; NaN if any member is undefined."""
    stacked = np.vstack(parts)
    w = np.ones(len(parts)) if weights is None else np.asarray(weights, dtype=float)
    return (stacked * w[:, None]).sum(axis=0) / w.sum()
