"""SentencePiece LLaMA folders read as transformers 4.3x's slow tokenizer read them, under transformers 5.

A hand-made SentencePiece BPE stands in for LLaMA's: its ``▁▁`` piece has a low id but the lowest
score, as LLaMA's does, so merging by id (transformers 5's conversion) and merging by score
(SentencePiece) disagree on a double space. ``make conformance`` checks the same on the real
vocabulary against 4.31.0 and 4.37.2.
"""

from __future__ import annotations

import json

import pytest

from fdrbench.adapters.llama_tokenizers import is_sentencepiece_llama, sentencepiece_tokenizer
from fdrbench.adapters.sida import prompts

pytest.importorskip("sentencepiece")

#: piece -> score; ids follow this order ("▁▁" first, yet merged last)
PIECES = {"▁▁": -100.0, "▁t": -1.0, "am": -2.0, "▁tam": -3.0, "is": -4.0, "▁is": -5.0, "▁A": -6.0, "Th": -7.0, "The": -8.0, "▁The": -9.0}
CHARS = ["▁", "t", "a", "m", "i", "s", "A", "T", "h", "e"]


def sentencepiece_folder(folder, legacy, config_json: dict | None = None):
    from sentencepiece import sentencepiece_model_pb2 as pb

    model = pb.ModelProto()
    model.trainer_spec.model_type = pb.TrainerSpec.BPE
    model.trainer_spec.unk_id, model.trainer_spec.bos_id, model.trainer_spec.eos_id, model.trainer_spec.pad_id = 0, 1, 2, -1
    model.normalizer_spec.name = "identity"
    model.normalizer_spec.add_dummy_prefix = True
    model.normalizer_spec.remove_extra_whitespaces = False
    kinds = pb.ModelProto.SentencePiece
    for text, kind in (("<unk>", kinds.UNKNOWN), ("<s>", kinds.CONTROL), ("</s>", kinds.CONTROL)):
        piece = model.pieces.add()
        piece.piece, piece.type, piece.score = text, kind, 0.0
    for text, score in [*PIECES.items(), *((c, -1000.0 - i) for i, c in enumerate(CHARS))]:
        piece = model.pieces.add()
        piece.piece, piece.type, piece.score = text, kinds.NORMAL, score
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tokenizer.model").write_bytes(model.SerializeToString())
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    config["tokenizer_class"] = "LlamaTokenizer"
    if legacy is not None:
        config["legacy"] = legacy
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    (folder / "added_tokens.json").write_text(json.dumps({"[CLS]": len(model.pieces)}))
    if config_json is not None:
        (folder / "config.json").write_text(json.dumps(config_json))
    return folder


def tokens(tokenizer, text):
    return tokenizer.convert_ids_to_tokens(tokenizer(text, add_special_tokens=False).input_ids)


def test_merges_follow_the_piece_scores_as_sentencepiece_does(tmp_path):
    import sentencepiece as spm
    from transformers import LlamaTokenizer

    folder = sentencepiece_folder(tmp_path / "tok", legacy=True)
    reference = spm.SentencePieceProcessor(model_file=str(folder / "tokenizer.model"))
    assert reference.encode("is  tam", out_type=str) == ["▁is", "▁", "▁tam"]
    assert tokens(LlamaTokenizer.from_pretrained(str(folder), legacy=True), "is  tam")[:2] == ["▁is", "▁▁"]  # by id: differs
    assert tokens(sentencepiece_tokenizer(folder), "is  tam") == ["▁is", "▁", "▁tam"]


@pytest.mark.parametrize(("legacy", "after_cls"), [(True, "▁The"), (None, "▁The"), (False, "The")])
def test_text_after_an_added_token_follows_the_legacy_flag_as_4_31_read_it(tmp_path, legacy, after_cls):
    """4.31's slow tokenizer: ``▁`` after an added token only when legacy (an absent flag was legacy)."""
    tokenizer = sentencepiece_tokenizer(sentencepiece_folder(tmp_path / "tok", legacy))
    ids = prompts.tokenize(tokenizer, "A [CLS] The")
    assert tokenizer.convert_ids_to_tokens(ids) == ["<s>", "▁A", "[CLS]", after_cls]


def test_a_llava_config_beside_the_tokenizer_does_not_change_how_it_is_read(tmp_path):
    """transformers 5's AutoTokenizer picks a generic backend for a ``llava`` config.json that drops the
    ``▁`` before a text's first word; the SIDA and FakeReasoning loaders read the SentencePiece model."""
    from transformers import AutoTokenizer

    from fdrbench.adapters.fakereasoning.pretrained import load_tokenizer as fakereasoning_tokenizer
    from fdrbench.adapters.sida.loader import load_tokenizer as sida_tokenizer

    folder = sentencepiece_folder(tmp_path / "tok", legacy=False, config_json={"model_type": "llava", "architectures": ["SIDAForCausalLM"]})
    assert is_sentencepiece_llama(folder)
    assert tokens(AutoTokenizer.from_pretrained(str(folder)), "The")[0] == "The"
    assert tokens(sida_tokenizer(folder), "The") == ["▁The"] == tokens(fakereasoning_tokenizer(folder), "The")
    assert not is_sentencepiece_llama(tmp_path)
