"""CIDEr-D (Vedantam et al., 2015): consensus of an explanation with its references, TF-IDF weighted.

For n = 1..4, every text becomes a vector of n-gram counts weighted by the n-gram's inverse
document frequency, where the "documents" are the samples' reference sets (so the IDF comes
from the whole scored run). The score of order n is the cosine of the candidate's and each
reference's vectors, with the candidate's weights clipped at the reference's and a Gaussian
penalty on the length difference (sigma 6), averaged over references; the four orders are
averaged. The customary x10 factor is left out, so the value lies in [0, 1]: multiply by 10
to compare with captioning papers.

The IDF is fixed once per scored run, so per-sample values are computed once and the bootstrap
and the per-group figures average them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

MAX_N = 4
SIGMA = 6.0


def ngram_counts(tokens: Sequence[str], max_n: int = MAX_N) -> list[Counter]:
    return [Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)) for n in range(1, max_n + 1)]


def document_frequency(reference_sets: Sequence[Sequence[Sequence[str]]], max_n: int = MAX_N) -> Counter:
    """For each n-gram, the number of samples whose references contain it at least once."""
    df: Counter = Counter()
    for refs in reference_sets:
        seen: set[tuple[str, ...]] = set()
        for ref in refs:
            for counts in ngram_counts(ref, max_n):
                seen.update(counts)
        df.update(seen)
    return df


def _tfidf(counts: list[Counter], df: Counter, log_docs: float) -> tuple[list[dict], list[float]]:
    vectors, norms = [], []
    for order in counts:
        vec = {g: c * (log_docs - math.log(max(1.0, df.get(g, 0)))) for g, c in order.items()}
        vectors.append(vec)
        norms.append(math.sqrt(sum(v * v for v in vec.values())))
    return vectors, norms


def cider_d(
    candidate: Sequence[str],
    references: Sequence[Sequence[str]],
    df: Counter,
    n_docs: int,
    sigma: float = SIGMA,
    max_n: int = MAX_N,
) -> float:
    """CIDEr-D / 10 of one tokenized candidate; ``df`` and ``n_docs`` describe the whole corpus."""
    refs = [r for r in references if r]
    if not candidate or not refs or n_docs <= 0:
        return 0.0
    log_docs = math.log(float(n_docs))
    cand_vec, cand_norm = _tfidf(ngram_counts(candidate, max_n), df, log_docs)
    total = 0.0
    for ref in refs:
        ref_vec, ref_norm = _tfidf(ngram_counts(ref, max_n), df, log_docs)
        penalty = math.exp(-((len(candidate) - len(ref)) ** 2) / (2 * sigma**2))
        per_order = []
        for n in range(max_n):
            dot = sum(min(w, ref_vec[n].get(g, 0.0)) * ref_vec[n].get(g, 0.0) for g, w in cand_vec[n].items())
            denom = cand_norm[n] * ref_norm[n]
            per_order.append((dot / denom if denom else 0.0) * penalty)
        total += sum(per_order) / max_n
    return total / len(refs)


def corpus_cider_d(candidates: Sequence[Sequence[str]], reference_sets: Sequence[Sequence[Sequence[str]]]) -> list[float]:
    """Per-sample CIDEr-D / 10 with the IDF taken from all ``reference_sets``."""
    if len(candidates) != len(reference_sets):
        raise ValueError(f"{len(candidates)} candidates but {len(reference_sets)} reference sets")
    df = document_frequency(reference_sets)
    n_docs = len(reference_sets)
    return [cider_d(c, r, df, n_docs) for c, r in zip(candidates, reference_sets, strict=True)]
