"""Core types: mask encoding, label conventions, prediction validation, image opening errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fdrbench.errors import DataError, ResultsError
from fdrbench.record import Truth
from fdrbench.types import FAKE, REAL, Prediction, Reference, Sample, decode_mask, encode_mask, label_of_class, open_image


def test_label_constants_and_class_mapping():
    assert (REAL, FAKE) == (0, 1)
    assert label_of_class("real") == 0
    assert label_of_class("full_synthetic") == 1
    assert label_of_class("tampered") == 1
    assert label_of_class("fake") == 1
    with pytest.raises(ValueError):
        label_of_class("forged")


def test_mask_encoding_known_example():
    mask = np.array([[0, 1, 1], [1, 0, 0]], dtype=bool)
    rle = encode_mask(mask)
    # row-major: 0 | 1 1 1 | 0 0
    assert rle == {"size": [2, 3], "counts": [1, 3, 2]}
    assert np.array_equal(decode_mask(rle), mask)


def test_mask_encoding_starting_with_ones_and_edge_cases():
    ones = np.ones((2, 2), dtype=bool)
    assert encode_mask(ones) == {"size": [2, 2], "counts": [0, 4]}
    zeros = np.zeros((3, 1), dtype=bool)
    assert encode_mask(zeros) == {"size": [3, 1], "counts": [3]}
    assert np.array_equal(decode_mask(encode_mask(ones)), ones)
    assert np.array_equal(decode_mask(encode_mask(zeros)), zeros)


def test_mask_round_trip_random():
    rng = np.random.default_rng(3)
    for _ in range(20):
        mask = rng.random((int(rng.integers(1, 40)), int(rng.integers(1, 40)))) < rng.random()
        assert np.array_equal(decode_mask(encode_mask(mask)), mask)


@pytest.mark.parametrize(
    "bad",
    [{"size": [2, 2], "counts": [1, 1]}, {"size": [2, 2], "counts": [5, -1]}, {"counts": [4]}, "nonsense"],
)
def test_mask_decode_rejects_inconsistent(bad):
    with pytest.raises(ValueError):
        decode_mask(bad)


def test_prediction_validation_and_derivations():
    with pytest.raises(ValueError):
        Prediction("a", label=2)
    with pytest.raises(ValueError):
        Prediction("a", p_fake=1.5)
    with pytest.raises(ValueError):
        Prediction("a", p_fake=float("nan"))
    p = Prediction("a", cls="tampered", class_probs={"real": 0.25, "full_synthetic": 0.25, "tampered": 0.5})
    assert p.label == 1 and p.p_fake == pytest.approx(0.75)
    err = Prediction.from_error("b", RuntimeError("boom"))
    assert err.failed and not err.parse_ok and err.error == "RuntimeError: boom"
    assert Prediction("c", label=None).failed
    assert not Prediction("d", label=0).failed


def test_prediction_round_trip_and_unknown_fields():
    p = Prediction("x", label=1, p_fake=0.9, explanation="why", extra={"k": 1})
    data = p.to_dict()
    data["something_new"] = 5
    assert Prediction.from_dict(data) == p
    with pytest.raises(ResultsError):
        Prediction.from_dict({"label": 1})
    with pytest.raises(ResultsError):
        Prediction.from_dict({"sample_id": "x", "p_fake": 7})


def test_sample_checks_label_and_class():
    with pytest.raises(DataError):
        Sample(id="s", label=2)
    with pytest.raises(DataError):
        Sample(id="s", label=0, cls="tampered")
    s = Sample(id="s", label=1, cls="full_synthetic", reference=Reference(text="t"))
    truth = Truth.of(s)
    assert truth.label == 1 and truth.cls == "full_synthetic" and truth.reference.text == "t"


def test_reference_all_texts():
    assert Reference(text="a").all_texts() == ["a"]
    assert Reference(text="a", texts=["a", "b"]).all_texts() == ["a", "b"]
    assert Reference().all_texts() == []


def test_open_image_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.png"
    with pytest.raises(DataError, match="nope.png.*record s1.*not found"):
        open_image(missing, "s1")
    bogus = tmp_path / "bogus.png"
    bogus.write_bytes(b"not an image at all")
    with pytest.raises(DataError, match="bogus.png.*not a readable image"):
        open_image(bogus, "s2")
    good = tmp_path / "good.png"
    Image.new("RGB", (16, 16), (10, 20, 30)).save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:40])
    with pytest.raises(DataError, match="truncated.png"):
        open_image(truncated, "s3")
    gray = tmp_path / "gray.png"
    Image.new("L", (8, 8), 100).save(gray)
    assert open_image(gray).mode == "RGB"


def test_sample_mask_from_file_and_truth_encoding(tmp_path):
    arr = np.zeros((4, 4), dtype=np.uint8)
    arr[1:3, 1:3] = 255
    arr[0, 0] = 100  # below the 128 threshold: background
    path = tmp_path / "m.png"
    Image.fromarray(arr).save(path)
    s = Sample(id="t", label=1, cls="tampered", mask=path)
    assert s.load_mask().sum() == 4
    # the stored truth keeps how the file was decoded
    assert Truth.of(s).mask == {**encode_mask(arr > 127), "decoded": {"rule": "> 127", "values": "{0, 100, 255}"}}
    with pytest.raises(DataError, match="mask file not found"):
        Sample(id="u", label=1, mask=tmp_path / "missing.png").load_mask()
