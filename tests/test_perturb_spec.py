"""The spec language (canonical form, hashes, errors) and the presets' contents."""

from __future__ import annotations

import pytest

from fdrbench.errors import FdrbenchError
from fdrbench.perturb import PRESETS, parse, preset
from fdrbench.perturb.params import format_number


@pytest.mark.parametrize(
    ("spec", "canonical"),
    [
        ("jpeg:q=70", "jpeg:q=70"),
        (" JPEG : q = 70 , sub=420 ", "jpeg:q=70"),  # spaces, case, a default spelled out
        ("jpeg:q=70,p=1.0", "jpeg:q=70"),
        ("resize:interp=bicubic,side=512", "resize:interp=bicubic,side=512"),
        ("resize:side=512,interp=bicubic", "resize:interp=bicubic,side=512"),  # parameters sorted
        ("resize:f=.50", "resize:f=0.5"),
        ("resize:f=1", "resize:f=1"),
        ("jpeg:q=75+resize:side=512", "jpeg:q=75+resize:side=512"),
        ("resize:side=512+jpeg:q=75", "resize:side=512+jpeg:q=75"),  # order of steps is kept
        ("noise:sigma=3.825..19.125,p=0.3", "noise:p=0.3,sigma=3.825..19.125"),
        ("jpeg:q=50..50", "jpeg:q=50"),  # an empty range is a constant
        ("rrcrop:size=224,scale=0.08..1,ratio=0.75..1.3333333333333333", "rrcrop:size=224"),
        ("rrcrop:size=224,scale=0.5", "rrcrop:scale=0.5,size=224"),
        ("gray", "gray"),
        ("fakevlm_t7/jpeg70", "jpeg:q=70"),
        ("social_hard/hard", "resize:side=512,upscale=no+jpeg:q=40"),
        ("fakevlm_t7/resize0.5+jpeg:q=40", "resize:f=0.5+jpeg:q=40"),
    ],
)
def test_canonical_form(spec, canonical):
    parsed = parse(spec)
    assert parsed.canonical == canonical
    assert parse(parsed.canonical).canonical == canonical  # a fixed point
    assert parse(parsed.canonical).hash == parsed.hash == parse(canonical).hash


def test_equal_specs_hash_equal_and_different_ones_do_not():
    assert parse("jpeg:q=70").hash == parse("jpeg:sub=420,q=70").hash == parse("fakevlm_t7/jpeg70").hash
    hashes = {parse(s).hash for s in ("jpeg:q=70", "jpeg:q=71", "jpeg:q=70,sub=444", "jpeg:q=70+resize:f=0.5", "resize:f=0.5+jpeg:q=70")}
    assert len(hashes) == 5
    assert len(parse("jpeg:q=70").hash) == 12
    assert parse("jpeg:q=70") == parse("fakevlm_t7/jpeg70")  # the name it was given by does not count
    assert parse("fakevlm_t7/jpeg70").name == "fakevlm_t7/jpeg70" and parse("jpeg:q=70").name is None


def test_the_hash_is_stable():
    # a change here changes every perturbed run's id and fingerprint: only ever on purpose
    assert parse("jpeg:q=70").hash == "bfada48c2cf0"
    assert parse("jpeg:q=75+resize:side=512").hash == "add6108c63d9"


def test_number_formatting_reads_back():
    for value in (0.5, 1.0, 1 / 0.9, 1e-05, 3.825, 70, 4 / 3):
        assert float(format_number(value)) == value
    assert format_number(1.0) == "1" and format_number(0.5) == "0.5" and format_number(70) == "70"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("jpg:q=70", "unknown kind 'jpg' (did you mean 'jpeg'?); kinds: blur, ccrop, gray, jpeg, noise, resize, rotate, rrcrop, webp"),
        ("jpeg:quality=70", "unknown parameter 'quality'; jpeg accepts: q (quality: an integer in [1, 100]; required)"),
        ("jpeg:q=150", "q=150 is out of range; accepted: q (quality: an integer in [1, 100]; required)"),
        ("jpeg:q=70.5", "q='70.5' is not an integer"),
        ("jpeg", "jpeg needs q"),
        ("jpeg:q=70,q=80", "parameter 'q' given twice"),
        ("jpeg:q", "'q' is not name=value"),
        ("jpeg:q=", "q has no value"),
        ("jpeg:q=90..50", "empty range"),
        ("jpeg:q=50|50", "repeats a choice"),
        ("jpeg:sub=411,q=70", "sub='411' is not accepted; expected one of 420|422|444"),
        ("resize:f=0.5,side=512", "resize takes exactly one of f or side"),
        ("resize:interp=bicubic", "resize takes exactly one of f or side"),
        ("resize:f=0", "f=0 is out of range; accepted: f (scale factor: a number in (0, 16]"),
        ("resize:f=nan", "must be finite"),
        ("resize:side=512,interp=cubic", "interp='cubic' is not accepted; expected one of nearest|bilinear|bicubic|lanczos|box|hamming"),
        ("rotate:deg=15,interp=lanczos", "expected one of nearest|bilinear|bicubic"),
        ("blur:k=4", "k=4 is out of range; accepted: k (kernel size: an integer in [1, 255], odd"),
        ("blur", "blur needs sigma or k (or both)"),
        ("noise:sigma=10,p=1.5", "p=1.5 is out of range"),
        ("rrcrop:size=64,scale=0.5|1", "takes a number or low..high, not a choice"),
        ("rotate:deg=10,fit=same..expand", "takes a word or a choice a|b, not a range"),
        ("", "empty perturbation spec"),
        ("jpeg:q=70+", "empty step around '+'"),
        ("fakevlm_t7/jpeg80", "preset 'fakevlm_t7' has no member 'jpeg80'; members: fakevlm_t7/jpeg70, fakevlm_t7/resize0.5"),
        ("fakevlm/jpeg70", "unknown perturbation preset 'fakevlm' (did you mean 'fakevlm_t7'?); presets: fakevlm_t7,"),
    ],
)
def test_errors_are_one_line_and_say_what_is_accepted(spec, message):
    with pytest.raises(FdrbenchError) as info:
        parse(spec)
    text = str(info.value)
    assert message in text and "\n" not in text


def test_presets_hold_the_sources_conditions():
    members = {name: {m.name.split("/")[1]: m.canonical for m in preset(name).conditions()} for name in PRESETS}
    assert members["fakevlm_t7"] == {
        "jpeg70": "jpeg:q=70",
        "resize0.5": "resize:f=0.5",
        "gaussian10": "noise:sigma=10",
        "rotate15": "rotate:deg=15",
        "blur3": "blur:k=3",
    }
    assert members["fakevlm_t7_alt"]["gaussian10"] == "blur:sigma=10" and members["fakevlm_t7_alt"]["blur3"] == "blur:sigma=3"
    assert members["sida_fig"] == {
        "jpeg70": "jpeg:q=70",
        "jpeg80": "jpeg:q=80",
        "resize0.5": "resize:f=0.5",
        "resize0.75": "resize:f=0.75",
        "gaussian10": "noise:sigma=10",
        "gaussian5": "noise:sigma=5",
    }
    assert members["sida_fig_alt"]["gaussian5"] == "blur:sigma=5"
    assert members["aigcdetect"] == {"jpeg95": "jpeg:q=95", "blur1": "blur:sigma=1", "resize0.5": "resize:f=0.5"}
    assert members["openfake_jpeg"] == {f"jpeg{q}": f"jpeg:q={q}" for q in (90, 75, 50, 25)}
    assert list(members["openfake_jpeg"]) == ["jpeg90", "jpeg75", "jpeg50", "jpeg25"]
    assert members["social_hard"] == {"hard": "resize:side=512,upscale=no+jpeg:q=40"}
    mix = parse("aigenbench/mandatory")
    assert [s.kind.name for s in mix.steps] == ["ccrop", "gray", "jpeg", "noise", "jpeg", "rrcrop", "jpeg"]
    assert [s.probability for s in mix.steps] == [1.0, 0.1, 0.5, 0.3, 0.2, 0.25, 0.1]
    assert mix.steps[2].canonical == "jpeg:p=0.5,q=50|100" and mix.steps[3].canonical == "noise:p=0.3,sigma=3.825..19.125"
    assert (
        mix.steps[5].canonical == "rrcrop:interp=bilinear|bicubic|lanczos,p=0.25,ratio=0.9..1.1111111111111112,scale=0.5..1,size=256..512"
    )
    assert parse("aigenbench_range/mandatory").steps[2].canonical == "jpeg:p=0.5,q=50..100"


def test_every_preset_states_its_source_and_open_readings_name_the_variant():
    for item in PRESETS.values():
        assert item.description and item.readings and item.members
        assert len(item.member_names()) == len(set(item.member_names()))
    for name, variant in (("fakevlm_t7", "fakevlm_t7_alt"), ("sida_fig", "sida_fig_alt"), ("aigenbench", "aigenbench_range")):
        assert variant in PRESETS[name].readings and name in PRESETS[variant].readings
    assert "FakeVLM" in PRESETS["fakevlm_t7"].description and "SIDA" in PRESETS["sida_fig"].description
    assert "ai_genbench_pipeline.py" in PRESETS["aigenbench"].description


def test_random_and_geometric_flags():
    assert not parse("jpeg:q=70").random and not parse("jpeg:q=70").geometric
    assert parse("noise:sigma=5").random and parse("jpeg:q=50|90").random and parse("gray:p=0.5").random
    assert parse("rrcrop:size=64").random and parse("rrcrop:size=64").geometric
    assert parse("jpeg:q=70+rotate:deg=3").geometric and not parse("jpeg:q=70+rotate:deg=3").random
    assert parse("jpeg:q=70+blur:k=3").libraries == ("pillow", "libjpeg", "numpy", "scipy")
