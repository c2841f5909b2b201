"""Each paper's verdict rule on hand-written outputs, including the quirks the papers have."""

from __future__ import annotations

import pytest

from fdrbench.tasks.fakeclue.paper import coin, fakevlm, strip_echoed_prompt
from fdrbench.tasks.loki.paper import loki_label, loki_yes_no
from fdrbench.tasks.mmfr.paper import fakereasoning
from fdrbench.tasks.sidset.paper import sida_class
from fdrbench.tasks.sofake.paper import sofake_answer
from fdrbench.verdicts import generic_binary

FR_OUT = (
    "<SUMMARY> s </SUMMARY> <CAPTION> c </CAPTION> <REASONING> From low-level perspective: smooth. "
    "From high-level perspective: fine. </REASONING> <CONCLUSION> This image is fake. </CONCLUSION>"
)


def test_fakereasoning_rule_is_exact():
    parsed = fakereasoning(FR_OUT)
    assert parsed.label == 1 and parsed.ok
    assert parsed.reasoning == "From low-level perspective: smooth. From high-level perspective: fine."
    assert fakereasoning(FR_OUT.replace("fake.", "real.")).label == 0
    # case-sensitive, period required
    assert fakereasoning(FR_OUT.replace("This image is fake.", "this image is fake.")).label is None
    assert fakereasoning(FR_OUT.replace("This image is fake.", "This image is fake")).label is None
    no_reasoning = fakereasoning("<CONCLUSION> This image is real. </CONCLUSION>")
    assert no_reasoning.label == 0 and not no_reasoning.ok
    assert not fakereasoning(None).ok
    multiline = "<REASONING>a\nb</REASONING>\n<CONCLUSION>\nThis image is real.\n</CONCLUSION>"
    assert fakereasoning(multiline).ok and fakereasoning(multiline).reasoning == "a\nb"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("This is a fake image. The nostrils are pixelated.", 1),
        ("This is a real image. Nothing looks fake.", 0),
        ("It is not real, it is fake.", 0),  # 'real' is checked first, as the released script does
        ("Hmm. This one looks fake.", 1),  # second sentence
        ("Hmm. Hard to say. It is fake.", None),  # only two sentences are read
        ("", None),
        (None, None),
    ],
)
def test_fakevlm_first_sentence_rule(text, label):
    assert fakevlm(text) == label


def test_fakevlm_helpers():
    assert strip_echoed_prompt("<image>Does the image looks real/fake? This is a real image.") == " This is a real image."
    assert strip_echoed_prompt("no question") == "no question"
    assert coin("abc") == coin("abc")
    flips = [coin(str(i)) for i in range(400)]
    assert 150 < sum(flips) < 250


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Yes", "yes"),
        ("no.", "no"),
        ("Y", "yes"),
        ("n", "no"),
        ("Yes, it is generated.", "yes"),
        ("No, real.", "no"),
        ("Maybe", None),
        ("I think yes", None),
        ("", None),
    ],
)
def test_loki_parse(text, answer):
    assert loki_yes_no(text) == answer


def test_loki_polarity():
    assert loki_label("yes", asks_fake=True) == 1
    assert loki_label("no", asks_fake=True) == 0
    assert loki_label("yes", asks_fake=False) == 0
    assert loki_label("no", asks_fake=False) == 1
    assert loki_label(None, asks_fake=True) is None


def test_sida_and_sofake():
    assert sida_class("[CLS] This image is classified as full synthetic. It appears entirely artificially generated.") == "full_synthetic"
    assert sida_class("<s>[CLS] The image is tampered [SEG] Type: part") == "tampered"
    assert sida_class("nothing") is None
    assert sofake_answer("<think>x</think><answer>TAMPERED,(48,0),(219,223).</answer>") == ("tampered", (48.0, 0.0, 219.0, 223.0))
    assert sofake_answer("<answer>FULL_SYNTHETIC</answer>") == ("full_synthetic", None)
    assert sofake_answer("<answer>maybe</answer>") == (None, None)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("After careful analysis, I conclude this image is fake.", 1),
        ("The photo looks real to me.", 0),
        ("The image is not real.", 1),
        ("The image appears to be AI-generated, although at first the image is real-looking.", 0),
        ("This is a fake image.", 1),
        ("I cannot decide.", None),
    ],
)
def test_generic_rule(text, label):
    assert generic_binary(text) == label
