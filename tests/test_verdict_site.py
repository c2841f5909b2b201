"""Finding the word that decides a verdict, and turning scores there into probabilities."""

from __future__ import annotations

import math

import pytest

from fdrbench.backends.answers import task_verdict_reader
from fdrbench.backends.verdict_site import (
    BINARY_WORDS,
    TERNARY_WORDS,
    find_verdict_site,
    match_case,
    summarize,
    verdict_probabilities,
)
from fdrbench.task import Task
from fdrbench.tasks.fakeclue.paper import fakevlm
from fdrbench.tasks.loki.paper import loki_label, loki_yes_no
from fdrbench.tasks.mmfr.paper import fakereasoning
from fdrbench.tasks.sidset.paper import sida_class
from fdrbench.types import Sample
from fdrbench.verdicts import generic_binary, generic_ternary


def generic(text):
    return generic_binary(text), None


def first_sentence(text):
    return fakevlm(text), None


def test_fakevlm_rule_site_is_the_first_sentence_word():
    site = find_verdict_site("This is a fake image. The lighting looks real.", first_sentence, ["real", "fake"])
    assert (site.start, site.end, site.text) == (10, 14, "fake")
    assert site.verdict == (1, None)
    assert site.outcomes == {"real": (0, None), "fake": (1, None)}


def test_real_checked_first_makes_the_earlier_word_decisive():
    # FakeVLM reads 'real' before 'fake' in the first sentence: "not real, it is fake" is real.
    site = find_verdict_site("It is not real, it is fake.", first_sentence, ["real", "fake"])
    assert site.text == "real" and site.start == 10 and site.verdict == (0, None)


def test_negation_maps_each_word_to_the_verdict_it_would_state():
    site = find_verdict_site("The image is not real.", generic, BINARY_WORDS)
    assert site.text == "real" and site.verdict == (1, None)
    assert site.outcomes["real"] == (1, None)  # "not real" states fake
    assert site.outcomes["fake"] == (0, None)  # "not fake" would state real
    assert site.outcomes["yes"] == (None, None)


def test_non_decisive_occurrences_are_skipped():
    text = "Some textures look real and the image is fake."
    site = find_verdict_site(text, generic, BINARY_WORDS)
    assert site.text == "fake" and site.start == text.index("fake")


def test_fakereasoning_conclusion_is_the_site_and_case_is_kept():
    text = "<REASONING> the sky looks fake </REASONING> <CONCLUSION> This image is real. </CONCLUSION>"
    site = find_verdict_site(text, lambda t: (fakereasoning(t).label, None), ["real", "fake"])
    assert site.start == text.index("real.")
    upper = find_verdict_site("THE IMAGE IS FAKE.", generic, ["real", "fake"])
    assert set(upper.outcomes) == {"REAL", "FAKE"}
    assert match_case("Fake", "real") == "Real" and match_case("fake", "Real") == "real" and match_case("FAKE", "real") == "REAL"


@pytest.mark.parametrize(("asks_fake", "yes_means"), [(True, 1), (False, 0)])
def test_yes_no_questions_follow_the_polarity(asks_fake, yes_means):
    def parse(text):
        return loki_label(loki_yes_no(text), asks_fake), None

    site = find_verdict_site("Yes, it is.", parse, BINARY_WORDS)
    assert site.text == "Yes" and site.start == 0
    assert site.outcomes["Yes"] == (yes_means, None) and site.outcomes["No"] == (1 - yes_means, None)
    assert site.outcomes["Real"] == (None, None)


def test_no_verdict_gives_a_reason():
    assert find_verdict_site("I cannot tell.", generic, BINARY_WORDS) == "the answer states no verdict the parse rule can read"
    # a verdict the candidate words cannot move (the rule reads a word outside the list)
    assert "decides" in find_verdict_site("The image is fake.", generic, ["yes", "no"])


def test_probabilities_by_hand():
    fake, real = (1, None), (0, None)
    probs = verdict_probabilities([(real, 1.0), (fake, 3.0)], temperature=1.0)
    assert probs[fake] == pytest.approx(math.exp(3) / (math.exp(1) + math.exp(3)))
    probs = verdict_probabilities([(real, 1.0), (fake, 3.0)], temperature=2.0)
    assert probs[fake] == pytest.approx(math.exp(1.5) / (math.exp(0.5) + math.exp(1.5)))
    # two tokens of one verdict add up
    probs = verdict_probabilities([(real, 0.0), (fake, 0.0), (fake, 0.0)])
    assert probs[fake] == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        verdict_probabilities([(real, 0.0)], temperature=0)


def test_summarize_binary_and_ternary():
    probs = {(0, "real"): 0.2, (1, "tampered"): 0.5, (1, "full_synthetic"): 0.1, (1, None): 0.2}
    p_fake, classes = summarize(probs, with_classes=True)
    assert p_fake == pytest.approx(0.8)
    assert classes == pytest.approx({"real": 0.25, "full_synthetic": 0.125, "tampered": 0.625})
    assert summarize(probs, with_classes=False)[1] is None
    assert summarize({}, True) == (None, None)


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("The image is tampered: the sign was pasted in.", (1, "tampered")),
        ("It looks fully synthetic.", (1, "full_synthetic")),
        ("The image is not real.", (1, None)),
        ("The image is not tampered.", (None, None)),
        ("This image is classified as full synthetic. It appears generated.", (1, "full_synthetic")),
        ("Fake. The edges are odd.", (1, None)),
        ("Authentic photo of a cat.", (0, "real")),
        ("No idea.", (None, None)),
    ],
)
def test_generic_ternary(text, verdict):
    assert generic_ternary(text) == verdict


class Ternary(Task):
    name = "ternary_test"
    label_space = "ternary"

    def samples(self, data_dir, split):
        return []


class TernaryWithRule(Ternary):
    def parse_class(self, text, sample):
        return sida_class(text)


def test_task_reader_uses_the_task_rules():
    sample = Sample(id="s", label=1, cls="tampered")
    read = task_verdict_reader(Ternary(), sample)
    assert read("The image is tampered.") == (1, "tampered")
    assert read("This image is fake.") == (1, None)
    ruled = task_verdict_reader(TernaryWithRule(), sample)
    assert ruled("[CLS] The image is full synthetic") == (1, "full_synthetic")
    assert ruled("It is fake.") == (1, None)  # no class by the task's rule; the verdict from parse_answer
    site = find_verdict_site("The image is tampered.", read, TERNARY_WORDS)
    assert site.outcomes["real"] == (0, "real") and site.outcomes["fake"] == (1, None)
