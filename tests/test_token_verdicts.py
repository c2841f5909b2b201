"""Verdict tokens for real tokenizer styles (byte-level BPE, SentencePiece-like), and logprob reading."""

from __future__ import annotations

import math

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from fdrbench.backends.hf_tokens import TokenCandidates, decode, token_at
from fdrbench.backends.logprob_verdict import read_verdict_logprobs
from fdrbench.backends.openai_client import TokenLogprob
from fdrbench.backends.verdict_site import BINARY_WORDS, TERNARY_WORDS
from fdrbench.verdicts import generic_binary, generic_ternary

CORPUS = [
    "This image is fake. The image is real. This is a fake image. This is a real image.",
    "Fake or real? Real. Fake. The photo looks real, the edges look fake (fake) (real).",
    "Yes, it is. No, it is not. The picture is synthetic and generated.",
] * 20


def trained(style: str) -> PreTrainedTokenizerFast:
    backend = Tokenizer(models.BPE(unk_token="<unk>" if style == "metaspace" else None))
    if style == "bytelevel":
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        backend.decoder = decoders.ByteLevel()
        alphabet = pre_tokenizers.ByteLevel.alphabet()
    else:
        backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
        backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
        alphabet = []
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<eos>"], initial_alphabet=alphabet, show_progress=False)
    backend.train_from_iterator(CORPUS, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", eos_token="<eos>")


@pytest.mark.parametrize(("style", "marker"), [("bytelevel", "Ġ"), ("metaspace", "▁")])
def test_first_tokens_follow_the_context(style, marker):
    tokenizer = trained(style)
    candidates = TokenCandidates(tokenizer)
    assert tokenizer.convert_ids_to_tokens(candidates.first_id("fake", "space")) == f"{marker}fake"
    assert tokenizer.convert_ids_to_tokens(candidates.first_id("real", "space")) == f"{marker}real"
    assert tokenizer.convert_ids_to_tokens(candidates.first_id("Real", "space")) == f"{marker}Real"
    ids = candidates.all_ids(["real", "fake"])
    assert candidates.first_id("fake", "space") in ids and candidates.first_id("Fake", "space") in ids
    answer = "The image is fake indeed"
    encoded = tokenizer(answer, add_special_tokens=False)["input_ids"]
    index, lead = token_at(tokenizer, encoded, answer.index("fake"))
    assert tokenizer.convert_ids_to_tokens(encoded[index]) == f"{marker}fake" and lead.strip() == ""
    assert decode(tokenizer, encoded[:index]).strip() == "The image is"
    assert candidates.context_of("fake", encoded[index]) == "space"


def test_a_token_that_merges_the_word_with_punctuation_is_not_a_verdict_token():
    tokenizer = trained("metaspace")
    merged = tokenizer.convert_tokens_to_ids("▁fake.")
    assert merged != tokenizer.unk_token_id  # this toy vocabulary learned "fake." as one token
    assert TokenCandidates(tokenizer).context_of("fake", merged) is None


def test_attached_context_differs_from_space_for_bytelevel():
    tokenizer = trained("bytelevel")
    candidates = TokenCandidates(tokenizer)
    attached = candidates.first_id("fake", "attached")
    assert attached is not None and tokenizer.convert_ids_to_tokens(attached) == "fake"
    assert attached != candidates.first_id("fake", "space")
    encoded = tokenizer("(fake)", add_special_tokens=False)["input_ids"]
    index, _ = token_at(tokenizer, encoded, 1)
    assert candidates.context_of("fake", encoded[index]) == "attached"


def tokens(pieces, tops=None):
    tops = tops or {}
    return [TokenLogprob(p, tops.get(i, [(p, -0.1)])[0][1], tuple(tops.get(i, [(p, -0.1)]))) for i, p in enumerate(pieces)]


def generic(text):
    return generic_binary(text), None


def test_logprobs_at_the_verdict_token():
    pieces = ["This", " image", " is", " fake", "."]
    top = {3: [(" fake", -0.2), (" real", -1.8), (" Fake", -3.0), (" the", -4.0)]}
    p_fake, classes, info = read_verdict_logprobs("This image is fake.", tokens(pieces, top), generic, BINARY_WORDS, 1.0, "binary")
    fake = math.log(math.exp(-0.2) + math.exp(-3.0))  # " fake" and " Fake" are both the word fake
    assert p_fake == pytest.approx(math.exp(fake) / (math.exp(fake) + math.exp(-1.8)))
    assert classes is None and info["verdict_site"]["token_index"] == 3 and info["verdict_site"]["bounded"] == []
    hotter, _, _ = read_verdict_logprobs("This image is fake.", tokens(pieces, top), generic, BINARY_WORDS, 2.0, "binary")
    assert hotter == pytest.approx(math.exp(fake / 2) / (math.exp(fake / 2) + math.exp(-0.9)))


def test_absent_label_is_bounded_by_the_lowest_returned_logprob():
    pieces = ["The", " photo", " is", " real", "."]
    top = {3: [(" real", -0.05), (" a", -3.5), (" not", -4.0)]}
    p_fake, _, info = read_verdict_logprobs("The photo is real.", tokens(pieces, top), generic, BINARY_WORDS, 1.0, "binary")
    assert p_fake == pytest.approx(math.exp(-4.0) / (math.exp(-4.0) + math.exp(-0.05)))
    assert info["verdict_site"]["bounded"] == [[1, None]]


def test_multi_token_class_word_and_class_probabilities():
    def parse(text):
        return generic_ternary(text)

    pieces = ["The", " image", " is", " tam", "pered", "."]
    top = {3: [(" tam", -0.3), (" real", -2.0), (" fully", -2.5), (" fake", -3.0)]}
    p_fake, classes, info = read_verdict_logprobs("The image is tampered.", tokens(pieces, top), parse, TERNARY_WORDS, 1.0, "ternary")
    z = {"tampered": -0.3, "real": -2.0, "full_synthetic": -2.5, "fake": -3.0}
    total = sum(math.exp(x) for x in z.values())
    assert p_fake == pytest.approx(1 - math.exp(-2.0) / total)
    named = sum(math.exp(z[k]) for k in ("tampered", "real", "full_synthetic"))
    assert classes == pytest.approx({k: math.exp(z[k]) / named for k in ("real", "full_synthetic", "tampered")})
    assert info["verdict_site"]["word"] == "tampered"


def test_logprob_failures_give_reasons():
    assert read_verdict_logprobs("This image is fake.", None, generic, BINARY_WORDS, 1.0, "binary")[2] == {
        "p_fake_missing": "the server returned no logprobs"
    }
    mismatched = tokens(["This", " picture", " is", " fake", "."])
    assert (
        "do not spell"
        in read_verdict_logprobs("This image is fake.", mismatched, generic, BINARY_WORDS, 1.0, "binary")[2]["p_fake_missing"]
    )
    only_chosen = tokens(["This", " image", " is", " fake", "."], {3: [(" fake", -0.1)]})
    p_fake, _, info = read_verdict_logprobs("This image is fake.", only_chosen, generic, BINARY_WORDS, 1.0, "binary")
    assert p_fake == pytest.approx(0.5) and info["verdict_site"]["bounded"] == [[0, None]]
    unsure = tokens(["I", " cannot", " tell", "."])
    assert read_verdict_logprobs("I cannot tell.", unsure, generic, BINARY_WORDS, 1.0, "binary")[0] is None
