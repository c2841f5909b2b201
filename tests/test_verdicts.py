"""Each paper's verdict rule on hand-written outputs, including the quirks the papers have."""

from __future__ import annotations

import pytest

from fdrbench.tasks import verdicts as v
from fdrbench.verdicts import generic_binary

FR_OUT = (
    "<SUMMARY> s </SUMMARY> <CAPTION> c </CAPTION> <REASONING> From low-level perspective: smooth. "
    "From high-level perspective: fine. </REASONING> <CONCLUSION> This image is fake. </CONCLUSION>"
)


def test_fakereasoning_rule_is_exact():
    parsed = v.fakereasoning(FR_OUT)
    assert parsed.label == 1 and parsed.ok
    assert parsed.reasoning == "From low-level perspective: smooth. From high-level perspective: fine."
    assert v.fakereasoning(FR_OUT.replace("fake.", "real.")).label == 0
    # case-sensitive, period required
    assert v.fakereasoning(FR_OUT.replace("This image is fake.", "this image is fake.")).label is None
    assert v.fakereasoning(FR_OUT.replace("This image is fake.", "This image is fake")).label is None
    no_reasoning = v.fakereasoning("<CONCLUSION> This image is real. </CONCLUSION>")
    assert no_reasoning.label == 0 and not no_reasoning.ok
    assert not v.fakereasoning(None).ok
    multiline = "<REASONING>a\nb</REASONING>\n<CONCLUSION>\nThis image is real.\n</CONCLUSION>"
    assert v.fakereasoning(multiline).ok and v.fakereasoning(multiline).reasoning == "a\nb"


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
    assert v.fakevlm(text) == label


def test_fakevlm_helpers():
    assert v.strip_echoed_prompt("<image>Does the image looks real/fake? This is a real image.") == " This is a real image."
    assert v.strip_echoed_prompt("no question") == "no question"
    assert v.coin("abc") == v.coin("abc")
    flips = [v.coin(str(i)) for i in range(400)]
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
    assert v.loki_yes_no(text) == answer


def test_loki_polarity():
    assert v.loki_label("yes", asks_fake=True) == 1
    assert v.loki_label("no", asks_fake=True) == 0
    assert v.loki_label("yes", asks_fake=False) == 0
    assert v.loki_label("no", asks_fake=False) == 1
    assert v.loki_label(None, asks_fake=True) is None


def test_sida_and_sofake():
    assert v.sida_class("[CLS] This image is classified as full synthetic. It appears entirely artificially generated.") == "full_synthetic"
    assert v.sida_class("<s>[CLS] The image is tampered [SEG] Type: part") == "tampered"
    assert v.sida_class("nothing") is None
    assert v.sofake_answer("<think>x</think><answer>TAMPERED,(48,0),(219,223).</answer>") == ("tampered", (48.0, 0.0, 219.0, 223.0))
    assert v.sofake_answer("<answer>FULL_SYNTHETIC</answer>") == ("full_synthetic", None)
    assert v.sofake_answer("<answer>maybe</answer>") == (None, None)


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
