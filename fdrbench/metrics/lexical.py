"""Word-overlap scores of one explanation against its references: BLEU-1..4, ROUGE-L, METEOR.

BLEU is nltk's ``sentence_bleu`` (all four orders in one call), ROUGE-L is rouge-score's
LCS F-measure on rouge-score's own tokens, METEOR is nltk's ``meteor_score`` (it needs the
WordNet data; :func:`wordnet_status` says whether it is there). ROUGE-L's longest common
subsequence is computed with a bit-parallel algorithm instead of rouge-score's Python table,
which gives the same length tens of times faster (tested equal to rouge-score); tokenization,
stemming and the F-measure are rouge-score's.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence

BLEU_WEIGHTS = ((1.0, 0.0, 0.0, 0.0), (0.5, 0.5, 0.0, 0.0), (1 / 3, 1 / 3, 1 / 3, 0.0), (0.25, 0.25, 0.25, 0.25))
TOKENIZERS = ("whitespace", "treebank")


def word_tokenizer(kind: str = "treebank", lowercase: bool = False) -> Callable[[str], list[str]]:
    """``whitespace``: ``str.split`` (as some papers' BLEU); ``treebank``: nltk's Penn Treebank rules."""
    if kind == "whitespace":
        split = str.split
    elif kind == "treebank":
        from nltk.tokenize import TreebankWordTokenizer

        split = TreebankWordTokenizer().tokenize
    else:
        raise ValueError(f"bleu_tokenizer must be one of {TOKENIZERS}, got {kind!r}")
    if lowercase:
        return lambda text: split(text.lower())
    return split


def smoothing(name: str | None):
    """nltk smoothing function by name (``method0``..``method7``), or None for none."""
    if name is None:
        return None
    from nltk.translate.bleu_score import SmoothingFunction

    fn = getattr(SmoothingFunction(), str(name), None)
    if fn is None or not str(name).startswith("method"):
        raise ValueError(f"bleu_smoothing must be null or an nltk SmoothingFunction method (method0..method7), got {name!r}")
    return fn


def bleu_all(references: Sequence[Sequence[str]], hypothesis: Sequence[str], smoothing_function=None) -> list[float]:
    """[BLEU-1, BLEU-2, BLEU-3, BLEU-4] of one tokenized hypothesis; zeros when it is empty."""
    if not hypothesis or not any(references):
        return [0.0, 0.0, 0.0, 0.0]
    from nltk.translate.bleu_score import sentence_bleu

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nltk warns about zero n-gram counts on every short sentence
        scores = sentence_bleu(list(references), list(hypothesis), weights=list(BLEU_WEIGHTS), smoothing_function=smoothing_function)
    return [float(s) for s in scores]


class _MemoStemmer:
    """rouge-score calls ``stem`` per token; explanations reuse a small vocabulary."""

    def __init__(self):
        from nltk.stem import porter

        self._stem = functools.lru_cache(maxsize=200_000)(porter.PorterStemmer().stem)

    def stem(self, word: str) -> str:
        return self._stem(word)


def rouge_tokenizer(use_stemmer: bool = True) -> Callable[[str], list[str]]:
    """rouge-score's tokenization (lower-case, alphanumeric runs, Porter stems of words over 3 letters)."""
    from rouge_score import tokenize

    stemmer = _MemoStemmer() if use_stemmer else None
    return lambda text: tokenize.tokenize(text, stemmer)


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (Hyyrö's bit-vector recurrence over ``a``)."""
    if not a or not b:
        return 0
    positions: dict[str, int] = {}
    for i, token in enumerate(a):
        positions[token] = positions.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & positions.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def rouge_l(reference_tokens: Sequence[Sequence[str]], prediction_tokens: Sequence[str]) -> float:
    """ROUGE-L F-measure against the best-matching reference (rouge-score's ``score_multi``)."""
    best = 0.0
    for target in reference_tokens:
        if not target or not prediction_tokens:
            continue
        lcs = lcs_length(target, prediction_tokens)
        if lcs == 0:
            continue
        precision = lcs / len(prediction_tokens)
        recall = lcs / len(target)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def wordnet_status() -> str | None:
    """None when nltk's WordNet data loads, else why METEOR is unavailable."""
    try:
        from nltk.corpus import wordnet

        wordnet.ensure_loaded()
    except ImportError:
        return "needs nltk (pip install 'fdrbench[text]')"
    except (LookupError, OSError) as exc:
        first = str(exc).strip().splitlines()[1:2] or [type(exc).__name__]
        return f"needs the WordNet data, which is not installed ({first[0].strip()}); see the README's metrics section"
    return None


def meteor(reference_tokens: Sequence[Sequence[str]], hypothesis: Sequence[str]) -> float:
    """nltk METEOR of a tokenized hypothesis against tokenized references (best reference)."""
    if not hypothesis or not any(reference_tokens):
        return 0.0
    from nltk.translate.meteor_score import meteor_score

    return float(meteor_score([list(r) for r in reference_tokens if r], list(hypothesis)))
