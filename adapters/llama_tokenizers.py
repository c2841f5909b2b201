"""LLaMA tokenizer folders read as the transformers version that wrote them read them.

transformers 5 builds a LLaMA tokenizer in one of three ways, by what it finds: its
``LlamaTokenizer`` class rebuilds the pipeline from the folder's ``legacy`` flag; for model types
it distrusts (``llava``) it takes a generic backend that converts ``tokenizer.model`` without the
``▁`` LLaMA puts before a text's first word; and a saved ``tokenizer.json`` may be ignored. The
released checkpoints were tokenized otherwise:

- FakeReasoning (4.37.2) and SIDA (4.31.0) load their SentencePiece ``tokenizer.model`` with the
  slow ``LlamaTokenizer``: ``▁`` before the first word, and before a word after an added token
  only when ``legacy`` is true (4.3x read an absent flag as true), and SentencePiece's merge order,
  which follows the piece scores. :func:`sentencepiece_tokenizer` gives that: transformers 5's
  ``LlamaTokenizer`` with the flag as 4.3x read it, its merges re-ordered by score (5.x orders
  them by piece id, which puts LLaMA's ``▁▁`` first: ``is  tampered`` in SIDA's chat prompt would
  become ``▁▁ t am`` instead of SentencePiece's ``▁ ▁tam``);
- FakeVLM (4.45.2) ran the saved ``tokenizer.json`` pipeline as is: :func:`saved_pipeline_tokenizer`.

``make conformance`` checks both against those versions on the real LLaMA vocabulary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fdrbench.errors import FdrbenchError

LLAMA_CLASSES = ("LlamaTokenizer", "LlamaTokenizerFast")


def _tokenizer_config(folder: Path) -> dict:
    path = folder / "tokenizer_config.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FdrbenchError(f"{path}: not readable JSON ({exc})") from exc
    return data if isinstance(data, dict) else {}


def is_sentencepiece_llama(folder: Path) -> bool:
    """A folder with LLaMA's SentencePiece ``tokenizer.model`` and a LLaMA tokenizer class (or none)."""
    config = _tokenizer_config(folder)
    return (folder / "tokenizer.model").is_file() and config.get("tokenizer_class", "LlamaTokenizer") in LLAMA_CLASSES


def sentencepiece_tokenizer(folder: Path) -> Any:
    """The folder's ``tokenizer.model`` as transformers 4.3x's slow ``LlamaTokenizer`` tokenized it."""
    from transformers import LlamaTokenizer

    config = _tokenizer_config(folder)
    legacy = config.get("legacy")
    try:
        tokenizer = LlamaTokenizer.from_pretrained(str(folder), legacy=True if legacy is None else bool(legacy))
    except (OSError, ValueError) as exc:
        raise FdrbenchError(f"cannot read the tokenizer in {folder}: {exc}") from exc
    merge_by_score(tokenizer, folder / "tokenizer.model")
    return tokenizer


def merge_by_score(tokenizer: Any, model_file: Path) -> None:
    """Give the tokenizer's BPE SentencePiece's merge priority: the merged piece's score, highest first."""
    import sentencepiece as spm
    from tokenizers.models import BPE
    from transformers.tokenization_utils_base import generate_merges

    processor = spm.SentencePieceProcessor(model_file=str(model_file))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    vocab = {piece: index for index, piece in enumerate(pieces)}
    scores = {piece: processor.get_score(index) for index, piece in enumerate(pieces)}
    backend = tokenizer.backend_tokenizer
    settings = json.loads(backend.to_str())["model"]
    if settings.get("type") != "BPE" or {p: i for p, i in settings["vocab"].items() if i < len(pieces)} != vocab:
        raise FdrbenchError(f"{model_file}: the converted tokenizer is not a BPE over the SentencePiece pieces")
    keep = ("dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk", "byte_fallback", "ignore_merges")
    backend.model = BPE(
        vocab=settings["vocab"], merges=generate_merges(vocab, scores), **{k: settings[k] for k in keep if settings.get(k) is not None}
    )


def saved_pipeline_tokenizer(source: str, revision: str | None) -> Any | None:
    """The tokenizer exactly as its ``tokenizer.json`` was saved, or None when the source has none."""
    from transformers import PreTrainedTokenizerFast

    folder = Path(source).expanduser()
    if folder.is_dir() and not (folder / "tokenizer.json").is_file():
        return None
    try:
        return PreTrainedTokenizerFast.from_pretrained(source, revision=revision)
    except (OSError, ValueError) as exc:
        if folder.is_dir():
            raise FdrbenchError(f"cannot read {folder / 'tokenizer.json'}: {exc}") from exc
        return None  # a hub processor without tokenizer.json keeps its class's tokenizer
