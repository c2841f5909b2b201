"""Explanation quality: BLEU-1..4, ROUGE-L, CSS, BERTScore-F1, METEOR and CIDEr against reference texts.

The explanation is ``Prediction.explanation`` (after a protocol's re-parse, e.g. the REASONING
tag under a paper protocol); the references are ``truth.reference.texts`` (or ``.text``).
Samples without a reference are left out; a sample with a reference but no explanation scores
0 (under ``strict`` an unparsed output has none). Every score is computed once per sample when a
run is scored; groups, aggregates and bootstrap replicates average those per-sample values.
With several references a sample takes its best-matching one (BLEU and METEOR use all of them
at once, as their definitions do; CIDEr averages over them).

Settings are protocol options (recorded in ``scores.json`` with each metric's details):

- ``text_lowercase`` (False): lower-case before BLEU/METEOR/CIDEr tokenization.
- ``bleu_tokenizer`` (``treebank``): ``whitespace`` or ``treebank``; also used by METEOR and CIDEr.
- ``bleu_smoothing`` (None): an nltk ``SmoothingFunction`` method name, or None for none.
- ``rouge_stemmer`` (True): rouge-score's Porter stemming.
- ``css_encoder`` (``minilm``): ``minilm`` (bundled all-MiniLM-L6-v2), ``sentence-transformers``
  or ``clip`` with ``css_model`` a model folder; ``css_max_tokens`` truncates (77 for CLIP).
- ``bertscore_model`` (bundled MiniLM) and ``bertscore_num_layers`` (the model's depth).
- ``score_empty_text`` (False): an empty explanation, or an empty reference (stored as ``""``,
  not absent), is scored instead of left to 0 / left out: BLEU and ROUGE are 0, CSS is the cosine
  with the empty string's embedding, and the sample counts in every mean (as a paper's evaluation
  does when an empty tagged answer is not a failure and a sample whose annotations are all null
  has the reference ``""``).

A metric whose library or data is missing (nltk, rouge-score, sentence-transformers, WordNet for
METEOR, a CLIP folder) is null with the reason in the details, never 0. Cosine-based scores
(``css``, ``bertscore_f1``) are means of cosines, clipped to [0, 1] only in the rare case the mean
is negative.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from fdrbench.errors import ResultsError
from fdrbench.metrics.frame import Frame, Metric, family
from fdrbench.metrics.options import FamilyOptions

BLEU_NAMES = ("bleu1", "bleu2", "bleu3", "bleu4")
_HYP, _REFS, _VALID = "text_hypothesis", "text_references", "text_valid"


@dataclass(frozen=True)
class TextOptions(FamilyOptions):
    """The explanation metrics' settings (see the module docstring); None keeps a default."""

    text_lowercase: bool = False
    bleu_tokenizer: Literal["whitespace", "treebank"] = "treebank"
    bleu_smoothing: str | None = None
    rouge_stemmer: bool = True
    css_encoder: Literal["minilm", "sentence-transformers", "clip"] = "minilm"
    css_model: str | None = None
    css_max_tokens: int | None = None
    css_device: str | None = None
    bertscore_model: str | None = None
    bertscore_num_layers: int | None = None
    score_empty_text: bool = False


def _options(frame: Frame) -> TextOptions:
    return frame.family_options(TextOptions)


# --------------------------------------------------------------------------- inputs


def _score_empty(frame: Frame) -> bool:
    return _options(frame).score_empty_text


def _pairs(frame: Frame) -> str | None:
    """Collect (explanation, references) per row once; the reason the family cannot run, if any."""
    if _VALID not in frame.columns:
        hyps, refs = [], []
        for record, pred in zip(frame.records, frame.predictions, strict=True):
            given = record.truth.reference.all_texts()
            if not all(isinstance(t, str) for t in given):
                raise ResultsError(f"sample {record.sample_id!r}: truth.reference texts must be strings, got {str(given)[:80]}")
            texts = [t for t in given if t.strip()]
            if not texts and _score_empty(frame) and isinstance(record.truth.reference.text, str):
                texts = [""]  # an empty reference, not an absent one: scored against ""
            refs.append(texts)
            hyps.append((pred.explanation or "").strip())
        frame.columns[_HYP] = np.array(hyps, dtype=object)
        ref_col = np.empty(len(refs), dtype=object)
        ref_col[:] = refs
        frame.columns[_REFS] = ref_col
        frame.columns[_VALID] = np.array([bool(r) for r in refs], dtype=bool)
    valid = frame.columns[_VALID]
    if not valid.any():
        return "no sample has a reference text"
    gives = (lambda p: p.explanation is not None) if _score_empty(frame) else (lambda p: bool(p.explanation))
    if not any(gives(pred) for pred in frame.predictions):
        return "the detector gives no explanations"
    return None


def _todo(frame: Frame) -> list[int]:
    """Rows whose lexical scores must be computed: a non-empty reference and a non-empty explanation
    (every other row with a reference scores 0)."""
    return [i for i in np.flatnonzero(frame.columns[_VALID]) if frame.columns[_HYP][i] and any(frame.columns[_REFS][i])]


def _embedded_rows(frame: Frame) -> list[int]:
    """Rows whose embedding similarity is computed: :func:`_todo`, or with ``score_empty_text`` every
    row with a reference (an empty text is embedded like any other)."""
    return [int(i) for i in np.flatnonzero(frame.columns[_VALID])] if _score_empty(frame) else _todo(frame)


def _mark(frame: Frame, names: tuple[str, ...], reason: str) -> None:
    for name in names:
        frame.unavailable[name] = reason


def _prepared(frame: Frame, names: tuple[str, ...]) -> bool:
    return all(n in frame.columns or n in frame.unavailable for n in names)


def _guard(names: tuple[str, ...], needs: tuple[str, ...] = ()):
    """Wrap a fill function: skip when done, mark the family unavailable when it cannot run."""

    def decorate(fill: Callable[[Frame, list[int]], dict[str, np.ndarray]]):
        def prepare(frame: Frame) -> None:
            if _prepared(frame, names):
                return
            reason = _pairs(frame)
            if reason is None:
                for module in needs:
                    try:
                        __import__(module)
                    except ImportError:
                        reason = f"needs {module} (pip install 'fdrbench[text]')"
                        break
            if reason is not None:
                _mark(frame, names, reason)
                return
            try:
                filled = fill(frame, _todo(frame))
            except _Unavailable as exc:
                _mark(frame, names, str(exc))
                return
            frame.columns.update(filled)

        return prepare

    return decorate


class _Unavailable(Exception):
    """Raised by a fill function when a model or data file it needs is missing."""


def _column(frame: Frame, rows: list[int], values: list[float]) -> np.ndarray:
    col = np.zeros(len(frame), dtype=float)
    col[rows] = values
    return col


def _word_tokens(frame: Frame, rows: list[int]) -> tuple[dict[int, list[str]], dict[int, list[list[str]]]]:
    """Word tokens of the explanations of ``rows`` and of every reference, computed once per frame
    (BLEU, METEOR and CIDEr share them)."""
    from fdrbench.metrics.lexical import word_tokenizer

    key = "text_word_tokens"
    if key not in frame.columns:
        tokenize = word_tokenizer(_options(frame).bleu_tokenizer, _options(frame).text_lowercase)
        hyps = {i: tokenize(frame.columns[_HYP][i]) for i in _todo(frame)}
        refs = {i: [tokenize(r) for r in frame.columns[_REFS][i]] for i in np.flatnonzero(frame.columns[_VALID])}
        frame.columns[key] = np.array([(hyps, refs)], dtype=object)
    hyps, refs = frame.columns[key][0]
    return {i: hyps[i] for i in rows}, refs


# --------------------------------------------------------------------------- per-sample scores


@_guard(BLEU_NAMES, needs=("nltk",))
def _fill_bleu(frame: Frame, rows: list[int]) -> dict[str, np.ndarray]:
    from fdrbench.metrics.lexical import bleu_all, smoothing

    hyps, refs = _word_tokens(frame, rows)
    smooth = smoothing(_options(frame).bleu_smoothing)
    scores = [bleu_all(refs[i], hyps[i], smooth) for i in rows]
    matrix = np.array(scores, dtype=float).reshape(len(rows), 4)
    return {name: _column(frame, rows, list(matrix[:, k])) for k, name in enumerate(BLEU_NAMES)}


@_guard(("rouge_l",), needs=("rouge_score", "nltk"))
def _fill_rouge(frame: Frame, rows: list[int]) -> dict[str, np.ndarray]:
    from fdrbench.metrics.lexical import rouge_l, rouge_tokenizer

    tokenize = rouge_tokenizer(_options(frame).rouge_stemmer)
    values = [rouge_l([tokenize(r) for r in frame.columns[_REFS][i]], tokenize(frame.columns[_HYP][i])) for i in rows]
    return {"rouge_l": _column(frame, rows, values)}


@_guard(("meteor",), needs=("nltk",))
def _fill_meteor(frame: Frame, rows: list[int]) -> dict[str, np.ndarray]:
    from fdrbench.metrics.lexical import meteor, wordnet_status

    reason = wordnet_status()
    if reason is not None:
        raise _Unavailable(reason)
    hyps, refs = _word_tokens(frame, rows)
    values = [meteor(refs[i], hyps[i]) for i in rows]
    return {"meteor": _column(frame, rows, values)}


@_guard(("cider",), needs=("nltk",))
def _fill_cider(frame: Frame, rows: list[int]) -> dict[str, np.ndarray]:
    from fdrbench.metrics.cider import cider_d, document_frequency

    hyps, refs = _word_tokens(frame, rows)
    lower = lambda tokens: [t.lower() for t in tokens]  # noqa: E731 - CIDEr compares lower-cased n-grams
    ref_tokens = {i: [lower(r) for r in texts] for i, texts in refs.items()}
    df = document_frequency(list(ref_tokens.values()))
    values = [cider_d(lower(hyps[i]), ref_tokens[i], df, len(ref_tokens)) for i in rows]
    return {"cider": _column(frame, rows, values)}


def css_encoder(frame_or_options: Frame | dict) -> Any:
    """The :class:`~fdrbench.metrics.embeddings.EncoderSpec` the options ask for."""
    from fdrbench.metrics.embeddings import EncoderSpec

    if isinstance(frame_or_options, Frame):
        options = _options(frame_or_options)
    else:
        options = TextOptions.of(frame_or_options)
    return EncoderSpec(options.css_encoder, options.css_model, options.css_max_tokens or None, options.css_device)


@_guard(("css",))
def _fill_css(frame: Frame, rows: list[int]) -> dict[str, np.ndarray]:
    from fdrbench.metrics.embeddings import EncoderUnavailable, embed

    rows = _embedded_rows(frame)
    try:
        spec = css_encoder(frame).resolved()
        hyps = [frame.columns[_HYP][i] for i in rows]
        refs = [r for i in rows for r in frame.columns[_REFS][i]]
        hyp_vecs = embed(hyps, spec) if rows else None
        ref_vecs = embed(refs, spec) if rows else None
    except EncoderUnavailable as exc:
        raise _Unavailable(str(exc)) from exc
    values, at = [], 0
    for k, i in enumerate(rows):
        n_refs = len(frame.columns[_REFS][i])
        values.append(float(np.max(ref_vecs[at : at + n_refs] @ hyp_vecs[k])))
        at += n_refs
    frame.columns["css_info"] = np.array([json.dumps(spec.describe())])
    return {"css": _column(frame, rows, values)}


def _num_layers(path: str) -> int:
    try:
        return int(json.loads((Path(path) / "config.json").read_text())["num_hidden_layers"])
    except (OSError, ValueError, KeyError) as exc:
        raise _Unavailable(f"cannot read num_hidden_layers from {path}/config.json ({exc}); set bertscore_num_layers") from exc


@_guard(("bertscore_f1",), needs=("bert_score",))
def _fill_bertscore(frame: Frame, rows: list[int]) -> dict[str, np.ndarray]:
    from bert_score import score

    from fdrbench.metrics.embeddings import EncoderUnavailable, bundled_minilm_path, quiet_loading

    try:
        path = str(_options(frame).bertscore_model or bundled_minilm_path())
    except EncoderUnavailable as exc:
        raise _Unavailable(str(exc)) from exc
    if not Path(path).is_dir():
        raise _Unavailable(f"BERTScore model folder {path} not found")
    layers = int(_options(frame).bertscore_num_layers or _num_layers(path))
    values: list[float] = []
    info = {"model": Path(path).name, "num_layers": layers, "rescale_with_baseline": False}
    if rows:
        with quiet_loading():
            (_, _, f1), hash_code = score(
                [frame.columns[_HYP][i] for i in rows],
                [list(frame.columns[_REFS][i]) for i in rows],
                model_type=path,
                num_layers=layers,
                batch_size=64,
                device=_options(frame).css_device,
                return_hash=True,
            )
        values = [float(v) for v in f1]
        info["hash"] = hash_code.replace(path, Path(path).name)
    frame.columns["bertscore_info"] = np.array([json.dumps(info)])
    return {"bertscore_f1": _column(frame, rows, values)}


# --------------------------------------------------------------------------- metric values and details


def _mean_of(column: str, clip: bool = False):
    def compute(frame: Frame, idx: np.ndarray) -> np.ndarray:
        valid = frame.columns[_VALID][idx]
        total = np.where(valid, frame.columns[column][idx], 0.0).sum(axis=-1)
        count = valid.sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        return np.clip(out, 0.0, 1.0) if clip else out

    return compute


def _n_scored(frame: Frame, rows: np.ndarray) -> dict:
    valid = frame.columns[_VALID][rows]
    with_text = int(sum(1 for i in rows[valid] if frame.columns[_HYP][i]))
    return {"n_with_reference": int(valid.sum()), "n_with_explanation": with_text}


def _bleu_details(frame: Frame, rows: np.ndarray) -> dict:
    return {
        "library": "nltk sentence_bleu",
        "tokenizer": _options(frame).bleu_tokenizer,
        "lowercase": _options(frame).text_lowercase,
        "smoothing": _options(frame).bleu_smoothing,
        **_n_scored(frame, rows),
    }


def _rouge_details(frame: Frame, rows: np.ndarray) -> dict:
    return {"library": "rouge-score tokens, LCS F-measure", "stemmer": _options(frame).rouge_stemmer, **_n_scored(frame, rows)}


def _info_details(column: str):
    def details(frame: Frame, rows: np.ndarray) -> dict:
        return {**json.loads(str(frame.columns[column][0])), **_n_scored(frame, rows)}

    return details


def _meteor_details(frame: Frame, rows: np.ndarray) -> dict:
    return {"library": "nltk meteor_score", "tokenizer": _options(frame).bleu_tokenizer, **_n_scored(frame, rows)}


def _cider_details(frame: Frame, rows: np.ndarray) -> dict:
    return {"variant": "CIDEr-D / 10", "sigma": 6.0, "idf_from": "every reference of the scored run", **_n_scored(frame, rows)}


METRICS: dict[str, Metric] = family(
    "text",
    (
        *(
            Metric(
                name,
                _mean_of(name),
                f"BLEU-{k + 1} of the explanation against the reference(s) (nltk)",
                prepare=_fill_bleu,
                details=_bleu_details if k == 0 else None,
            )
            for k, name in enumerate(BLEU_NAMES)
        ),
        Metric("rouge_l", _mean_of("rouge_l"), "ROUGE-L F-measure (rouge-score)", prepare=_fill_rouge, details=_rouge_details),
        *(
            Metric(name, _mean_of(name, clip=True), description, prepare=fill, details=_info_details(info))
            for name, fill, info, description in (
                ("css", _fill_css, "css_info", "cosine similarity of explanation and reference sentence embeddings"),
                ("bertscore_f1", _fill_bertscore, "bertscore_info", "BERTScore F1 (bert-score, no baseline rescaling)"),
            )
        ),
        Metric("meteor", _mean_of("meteor"), "METEOR (nltk; needs WordNet)", prepare=_fill_meteor, details=_meteor_details),
        Metric(
            "cider",
            _mean_of("cider"),
            "CIDEr-D divided by 10, IDF from the run's references",
            prepare=_fill_cider,
            details=_cider_details,
            bounded=False,
            display="raw",
            digits=3,
        ),
    ),
    TextOptions,
)
