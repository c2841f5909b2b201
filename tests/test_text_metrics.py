"""Explanation-quality metrics: goldens, agreement with nltk and rouge-score, encoders, cache, unavailability."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest

from fdrbench.errors import FdrbenchError
from fdrbench.metrics import embeddings as emb
from fdrbench.metrics.cider import corpus_cider_d
from fdrbench.metrics.lexical import bleu_all, lcs_length, rouge_l, rouge_tokenizer, word_tokenizer
from fdrbench.score_arrays import text_scores

HYP = "the cat sat on the mat"
REF = "the cat is on the mat"


def test_bleu_and_rouge_goldens():
    out = text_scores([HYP], [REF], metrics=["bleu1", "bleu2", "rouge_l"], bleu_tokenizer="whitespace")
    assert out["bleu1"] == pytest.approx(5 / 6)  # the x2, cat, on, mat; equal lengths, no brevity penalty
    assert out["bleu2"] == pytest.approx(np.sqrt(5 / 6 * 3 / 5))  # the-cat, on-the, the-mat of 5 bigrams
    assert out["rouge_l"] == pytest.approx(5 / 6)  # LCS "the cat on the mat"
    assert out["details"]["bleu1"]["tokenizer"] == "whitespace" and out["details"]["bleu1"]["smoothing"] is None


def test_case_and_tokenization_settings():
    paper = text_scores(["The Cat."], ["the cat ."], metrics=["bleu1"], bleu_tokenizer="whitespace")
    strict = text_scores(["The Cat."], ["the cat ."], metrics=["bleu1"], bleu_tokenizer="treebank", text_lowercase=True)
    assert paper["bleu1"] == 0.0  # case-sensitive whitespace tokens share nothing
    assert strict["bleu1"] == pytest.approx(1.0)


def test_bleu_matches_nltk_and_rouge_matches_rouge_score():
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    from rouge_score import rouge_scorer

    rng = random.Random(0)
    words = [
        "the",
        "image",
        "shows",
        "lighting",
        "shadow",
        "edges",
        "texture",
        "blurry",
        "natural",
        "smooth",
        "odd",
        "face",
        "hands",
        "sky",
    ]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    tokenize = rouge_tokenizer(True)
    for _ in range(60):
        hyp = " ".join(rng.choice(words) for _ in range(rng.randint(1, 30)))
        refs = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(rng.randint(1, 3))]
        ours = bleu_all([r.split() for r in refs], hyp.split(), SmoothingFunction().method1)
        for k, weights in enumerate([(1, 0, 0, 0), (0.5, 0.5, 0, 0), (1 / 3, 1 / 3, 1 / 3, 0), (0.25,) * 4]):
            expected = sentence_bleu([r.split() for r in refs], hyp.split(), weights, SmoothingFunction().method1)
            assert ours[k] == pytest.approx(expected)
        expected_rouge = scorer.score_multi(refs, hyp)["rougeL"].fmeasure
        assert rouge_l([tokenize(r) for r in refs], tokenize(hyp)) == pytest.approx(expected_rouge)


def test_bit_parallel_lcs_equals_the_dynamic_programme():
    from rouge_score.rouge_scorer import _lcs_table

    rng = random.Random(1)
    for _ in range(500):
        a = [rng.choice("abcde") for _ in range(rng.randint(1, 90))]
        b = [rng.choice("abcde") for _ in range(rng.randint(1, 90))]
        assert lcs_length(a, b) == _lcs_table(a, b)[-1][-1]
    assert lcs_length([], ["a"]) == 0


def test_cider_goldens():
    # two samples with disjoint words: every n-gram has document frequency 1 (weight log 2)
    cand = ["a", "b", "c", "e"]
    ref = ["a", "b", "c", "d"]
    other = ["w", "x", "y", "z"]
    scores = corpus_cider_d([cand, other], [[ref], [other]])
    # cosines per order: 3/4 (unigrams), 2/3, 1/2, 0; equal lengths, no penalty; mean of the orders
    assert scores[0] == pytest.approx((3 / 4 + 2 / 3 + 1 / 2 + 0) / 4)
    assert scores[1] == pytest.approx(1.0)
    # an n-gram in every sample's references carries no weight
    assert corpus_cider_d([["a"], ["a"]], [[["a"]], [["a"]]]) == [0.0, 0.0]
    with pytest.raises(ValueError, match="2 candidates but 1"):
        corpus_cider_d([cand, other], [[ref]])


def test_missing_explanations_references_and_libraries():
    out = text_scores(["the cat sat", None], [REF, REF], metrics=["bleu1", "rouge_l", "cider"], bleu_tokenizer="whitespace")
    # LCS "the cat": P 2/3, R 2/6, F 4/9 for the first sample; the second has no explanation and scores 0
    assert out["rouge_l"] == pytest.approx((4 / 9) / 2)
    assert out["details"]["rouge_l"]["n_with_reference"] == 2 and out["details"]["rouge_l"]["n_with_explanation"] == 1
    none = text_scores([None, None], [REF, REF], metrics=["bleu1"])
    assert none["bleu1"] is None and none["details"]["bleu1"] == {"unavailable": "the detector gives no explanations"}
    no_ref = text_scores(["x"], [None], metrics=["rouge_l"])
    assert no_ref["details"]["rouge_l"] == {"unavailable": "no sample has a reference text"}
    from fdrbench.errors import ResultsError
    from fdrbench.record import Record

    line = {"sample_id": "000000000", "label": 1, "explanation": "x", "truth": {"label": 1, "reference": {"texts": [3]}}}
    with pytest.raises(ResultsError, match=r"line 7: field 'truth.reference.texts\[0\]': expected str, got int"):
        Record.from_json(line, where="line 7")


def test_meteor_is_unavailable_without_wordnet_never_zero(monkeypatch):
    from fdrbench.metrics import lexical

    monkeypatch.setattr(lexical, "wordnet_status", lambda: "needs the WordNet data, which is not installed")
    out = text_scores([HYP], [REF], metrics=["meteor", "bleu1"])
    assert out["meteor"] is None and out["bleu1"] is not None
    assert "WordNet" in out["details"]["meteor"]["unavailable"]


def test_meteor_with_wordnet_installed(tmp_path):
    """A WordNet without synsets is enough for exact-match METEOR; run apart so nltk's loaded corpus stays local."""
    wordnet = tmp_path / "corpora" / "wordnet"
    wordnet.mkdir(parents=True)
    (wordnet / "lexnames").write_text("00\tadj.all\t3\n01\tadj.pert\t3\n02\tadv.all\t4\n03\tnoun.Tops\t1\n")
    for pos in ("noun", "verb", "adj", "adv"):
        (wordnet / f"index.{pos}").write_text("")
        (wordnet / f"{pos}.exc").write_text("")
        (wordnet / f"data.{pos}").write_text("")
    (wordnet / "data.adj").write_text("  1 WordNet 3.0 Copyright 2006 by Princeton University.\n")
    (wordnet / "index.sense").write_text("")
    code = (
        "import json; from fdrbench.score_arrays import text_scores;"
        f"print(json.dumps(text_scores([{HYP!r}], [{REF!r}], metrics=['meteor'])['meteor']))"
    )
    env = {**os.environ, "NLTK_DATA": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    # 5 of 6 unigrams match both ways: Fmean = 5/6; 2 chunks over 5 matches: penalty 0.5 * 0.4^3
    assert json.loads(done.stdout.strip().splitlines()[-1]) == pytest.approx(5 / 6 * (1 - 0.5 * 0.4**3))


def test_css_with_bundled_minilm_and_the_disk_cache(monkeypatch, isolated_cache):
    texts = ["the lighting is inconsistent with the shadows", "a natural photograph of a cat"]
    out = text_scores(texts, [texts[0], "the sky has odd banding artifacts"], metrics=["css"])
    per_sample_identical = 1.0
    assert 0.0 < out["css"] < (per_sample_identical + 1.0) / 2 + 1e-6
    same = text_scores([texts[0]], [texts[0]], metrics=["css"])
    assert same["css"] == pytest.approx(1.0, abs=1e-5)
    info = same["details"]["css"]
    assert info["encoder"] == "minilm" and info["model"].startswith("all-MiniLM-L6-v2") and len(info["model_fingerprint"]) == 24
    assert list((isolated_cache / "embeddings").glob("*.sqlite"))

    # every text is now cached: no model is needed to score them again
    monkeypatch.setattr(emb, "_LOADED", {})

    def no_model(spec):
        raise AssertionError("the encoder was loaded although every text is cached")

    monkeypatch.setattr(emb, "_load", no_model)
    again = text_scores(texts, [texts[0], "the sky has odd banding artifacts"], metrics=["css"])
    assert again["css"] == out["css"]


def test_embedding_cache_round_trip(tmp_path):
    cache = emb.EmbeddingCache(tmp_path / "c.sqlite")
    cache.put_many({"k1": np.array([0.5, -1.0]), "k2": np.array([1.0, 2.0])})
    got = cache.get_many(["k1", "k3", "k1"])
    cache.close()
    assert set(got) == {"k1"} and np.array_equal(got["k1"], np.array([0.5, -1.0], dtype=np.float32))


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    """A randomly initialised CLIP text tower and a word-level tokenizer, saved as a model folder."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, PreTrainedTokenizerFast

    words = [f"w{i}" for i in range(40)]
    vocab = {"<pad>": 0, "<unk>": 1, "<|startoftext|>": 2, "<|endoftext|>": 3, **{w: i + 4 for i, w in enumerate(words)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A <|endoftext|>", special_tokens=[("<|endoftext|>", 3)])
    folder = tmp_path_factory.mktemp("tiny-clip")
    PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<|startoftext|>", eos_token="<|endoftext|>"
    ).save_pretrained(folder)
    torch.manual_seed(0)
    config = CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=300,
        projection_dim=8,
        eos_token_id=3,
        pad_token_id=0,
        bos_token_id=2,
    )
    CLIPTextModelWithProjection(config).save_pretrained(folder)
    return folder, words


def test_css_with_a_clip_text_encoder_truncates_at_77_tokens(tiny_clip):
    folder, words = tiny_clip
    head = " ".join(words[i % 40] for i in range(80))
    a, b = head + " w1 w2 w3", head + " w9 w9 w9 w9"  # differ only after token 80
    clip = {"css_encoder": "clip", "css_model": str(folder)}
    truncated = text_scores([a], [b], metrics=["css"], **clip)
    assert truncated["css"] == pytest.approx(1.0, abs=1e-5)
    assert truncated["details"]["css"]["max_tokens"] == 77 and truncated["details"]["css"]["encoder"] == "clip"
    longer = text_scores([a], [b], metrics=["css"], css_max_tokens=200, **clip)
    assert longer["css"] < 0.99999
    different = text_scores(["w1 w2 w3"], ["w30 w31"], metrics=["css"], **clip)
    assert different["css"] < 0.99999


def test_css_encoder_unavailable_is_null_with_reason():
    out = text_scores([HYP], [REF], metrics=["css", "bleu1"], css_encoder="clip")
    assert out["css"] is None and out["bleu1"] is not None
    assert "needs a model folder" in out["details"]["css"]["unavailable"]
    with pytest.raises(FdrbenchError, match="option 'css_encoder' must be 'minilm' or 'sentence-transformers' or 'clip', got 'word2vec'"):
        text_scores([HYP], [REF], metrics=["css"], css_encoder="word2vec")


def test_bertscore_with_the_bundled_minilm():
    out = text_scores([REF, HYP], [REF, "a photo of mountains under a clear sky"], metrics=["bertscore_f1"])
    details = out["details"]["bertscore_f1"]
    assert details["num_layers"] == 6 and "L6" in details["hash"] and "/" not in details["model"]
    # the identical pair scores 1; the unrelated pair less: the mean is strictly between
    assert 0.5 < out["bertscore_f1"] < 1.0
    same = text_scores([REF], [REF], metrics=["bertscore_f1"])
    assert same["bertscore_f1"] == pytest.approx(1.0, abs=1e-4)


def test_word_tokenizer_rejects_unknown_names():
    with pytest.raises(ValueError, match="bleu_tokenizer"):
        word_tokenizer("spacy")


def test_mmfr_paper_protocol_scores_css_with_the_given_clip_folder(tiny_clip):
    from fdrbench.scoring import ScoreSettings
    from fdrbench.tasks.mmfr import MMFREval

    from .helpers.records import score_records

    folder, _ = tiny_clip
    answer = "<REASONING>w1 w2 w3</REASONING><CONCLUSION>This image is fake.</CONCLUSION>"
    truth = {"label": 1, "group": {"generator": "flux"}, "reference": {"text": "w1 w2 w3"}}
    records = [{"sample_id": "a", "label": 1, "raw_output": answer, "truth": truth}]
    block = score_records(records, MMFREval(clip_path=str(folder)), ["paper"], ScoreSettings(n_boot=0))["paper"]
    assert block["overall"]["css"]["value"] == pytest.approx(1.0, abs=1e-5)
    assert block["details"]["css"]["encoder"] == "clip" and block["details"]["css"]["max_tokens"] == 77


def test_mmfr_paper_scores_an_empty_reasoning_and_an_empty_reference_as_the_original(tiny_clip):
    """FakeReasoning's eval.py: <REASONING></REASONING> is no failure (BLEU/ROUGE 0, CSS = cosine with the
    empty string's CLIP embedding), and an image whose attributes are all null has the reference ""."""
    from fdrbench.metrics.embeddings import EncoderSpec, embed
    from fdrbench.scoring import ScoreSettings
    from fdrbench.tasks.mmfr import MMFREval

    from .helpers.records import score_records

    folder, _ = tiny_clip
    empty, text = embed(["", "w1 w2 w3"], EncoderSpec("clip", str(folder)))
    with_empty = float(empty @ text)

    def answer(reasoning):
        return f"<REASONING>{reasoning}</REASONING><CONCLUSION>This image is fake.</CONCLUSION>"

    def record(sid, reasoning, reference):
        truth = {"label": 1, "group": {"generator": "flux"}, "reference": {"text": reference}}
        return {"sample_id": sid, "label": 1, "raw_output": answer(reasoning), "explanation": reasoning, "truth": truth}

    records = [record("a", "", "w1 w2 w3"), record("b", "w1 w2 w3", ""), record("c", "w1 w2 w3", "w1 w2 w3")]
    block = score_records(records, MMFREval(clip_path=str(folder)), ["paper"], ScoreSettings(n_boot=0))["paper"]
    assert block["n_failed"] == 0 and block["overall"]["accuracy"]["value"] == 1.0
    assert block["overall"]["bleu1"]["value"] == pytest.approx(1 / 3) and block["overall"]["rouge_l"]["value"] == pytest.approx(1 / 3)
    css = min(1.0, max(0.0, (with_empty + with_empty + 1.0) / 3))
    assert block["overall"]["css"]["value"] == pytest.approx(css, abs=1e-5)
    assert block["details"]["css"]["n_with_reference"] == 3 and block["details"]["bleu1"]["n_with_reference"] == 3
    # strict leaves the empty reference out and scores the empty reasoning 0
    strict = score_records(records, MMFREval(clip_path=str(folder)), ["strict"], ScoreSettings(n_boot=0))["strict"]
    assert strict["details"]["rouge_l"]["n_with_reference"] == 2
