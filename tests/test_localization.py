"""Localization metrics: hand-computed IoU/F1/AUC, empty masks, resolution, score maps, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from fdrbench.errors import ResultsError
from fdrbench.metrics.localization import SCORE_MAP_KEY, decode_score_map, encode_score_map, image_auc, target_shape
from fdrbench.score_arrays import LOCALIZATION, build_records, localization_scores, score
from fdrbench.types import encode_mask


def box(shape, rows, cols):
    mask = np.zeros(shape, dtype=bool)
    mask[rows[0] : rows[1], cols[0] : cols[1]] = True
    return mask


TRUTH = box((4, 4), (0, 2), (0, 2))  # 4 pixels
PRED = box((4, 4), (0, 2), (1, 4))  # 6 pixels, 2 shared with TRUTH
EMPTY = np.zeros((4, 4), dtype=bool)


def test_hand_computed_values():
    # image 1: intersection 2, union 8 -> IoU 1/4; F1 = 4 / (4 + 4 fp + 2 fn) = 0.4;
    #          binary AUC = (TPR 2/4 + TNR 8/12) / 2
    # image 2: both masks empty -> IoU 1, F1 1, AUC undefined (left out)
    out = localization_scores([TRUTH, EMPTY], [PRED, EMPTY])
    assert out["giou"] == pytest.approx((0.25 + 1.0) / 2)
    assert out["ciou"] == pytest.approx(2 / 8)
    assert out["pixel_f1"] == pytest.approx((0.4 + 1.0) / 2)
    assert out["pixel_auc"] == pytest.approx((0.5 + 8 / 12) / 2)
    assert out["details"]["pixel_f1"] == {
        "resolution": "ground-truth mask size",
        "n_images": 2,
        "n_with_predicted_mask": 2,
        "pixel_auc_from": "binary masks",
    }


def test_a_run_whose_true_masks_all_decode_empty_is_an_error_not_a_score():
    with pytest.raises(ResultsError, match="all 2 ground-truth masks of tampered images are empty"):
        localization_scores([EMPTY, EMPTY], [PRED, EMPTY])
    records = build_records([1], [1], cls_true=["tampered"], cls_pred=["tampered"], true_masks=[EMPTY], pred_masks=[PRED])
    records[0].truth.mask["decoded"] = {"rule": "> 127", "values": "{0, 100}"}
    with pytest.raises(ResultsError, match=r"decoded: > 127 of \{0, 100\} \(1\)"):
        score(LOCALIZATION, records)
    # one empty truth among others is only an image with nothing to find
    assert localization_scores([TRUTH, EMPTY], [PRED, EMPTY])["giou"] == pytest.approx((0.25 + 1.0) / 2)


def test_how_each_truth_mask_was_decoded_is_in_the_details():
    records = build_records(
        [1, 1], [1, 1], cls_true=["tampered"] * 2, cls_pred=["tampered"] * 2, true_masks=[TRUTH] * 2, pred_masks=[PRED] * 2
    )
    for record in records:
        record.truth.mask["decoded"] = {"rule": "== 100", "values": "{0, 100}"}
    assert score(LOCALIZATION, records)["details"]["pixel_f1"]["truth_mask_decoding"] == {"== 100 of {0, 100}": 2}


def test_missing_prediction_is_an_empty_mask_and_no_masks_at_all_is_null():
    out = localization_scores([TRUTH, TRUTH], [TRUTH, None])
    assert out["giou"] == pytest.approx(0.5) and out["ciou"] == pytest.approx(4 / 8)
    none = localization_scores([TRUTH], [None])
    assert none["giou"] is None and none["details"]["giou"] == {"unavailable": "the detector predicts no masks"}


def test_only_tampered_images_are_scored():
    # the real image carries no mask and the fully synthetic one is not tampered: both ignored
    records = build_records(
        [1, 0, 1],
        [1, 0, 1],
        cls_true=["tampered", "real", "full_synthetic"],
        cls_pred=["tampered", "real", "full_synthetic"],
        true_masks=[TRUTH, None, TRUTH],
        pred_masks=[PRED, None, TRUTH],
    )
    out = score(LOCALIZATION, records)
    assert out["giou"] == pytest.approx(0.25) and out["details"]["pixel_f1"]["n_images"] == 1


def test_stated_resolution():
    assert target_shape((600, 800), 1024) == (768, 1024)
    assert target_shape((4, 4), None) == (4, 4)
    small_truth = np.array([[1, 0], [0, 0]], dtype=bool)
    big_pred = box((4, 4), (0, 2), (0, 2))  # the same region at twice the size
    assert localization_scores([small_truth], [big_pred])["giou"] == pytest.approx(1.0)
    out = localization_scores([small_truth], [big_pred], mask_size=8)
    assert out["giou"] == pytest.approx(1.0) and out["details"]["pixel_f1"]["resolution"] == "longest side 8 px"
    # the resolution matters: a one-pixel sliver missed at full size vanishes at 2x2
    thin = np.zeros((8, 8), dtype=bool)
    thin[0, :] = True
    empty = np.zeros((8, 8), dtype=bool)
    assert localization_scores([thin], [empty])["giou"] == 0.0
    assert localization_scores([thin], [empty], mask_size=2)["giou"] == pytest.approx(1.0)


def test_score_maps_rank_pixels():
    truth = np.array([[1, 0], [0, 0]], dtype=bool)
    scores = np.array([[0.9, 0.1], [0.5, 0.2]])
    assert image_auc(truth, scores) == pytest.approx(1.0)
    assert image_auc(truth, np.array([[0.3, 0.9], [0.3, 0.1]])) == pytest.approx((0 + 0.5 + 1) / 3)  # a tie counts half
    enc = encode_score_map(scores)
    assert np.allclose(decode_score_map(enc), scores, atol=1 / 255)
    records = build_records([1], [1], cls_true=["tampered"], true_masks=[truth], pred_masks=[scores > 0.6])
    records[0].extra = {SCORE_MAP_KEY: enc}
    out = score(LOCALIZATION, records)
    assert out["pixel_auc"] == pytest.approx(1.0) and out["details"]["pixel_f1"]["pixel_auc_from"] == "score maps"
    with pytest.raises(ValueError, match="values in \\[0, 1\\]"):
        encode_score_map(np.array([[2.0]]))


def test_bad_masks_name_the_sample():
    records = build_records([1], [1], cls_true=["tampered"], true_masks=[TRUTH], pred_masks=[PRED])
    records[0].mask = {"size": [4, 4], "counts": [3, 3]}
    with pytest.raises(ResultsError, match="sample '000000000'.*predicted mask"):
        score(LOCALIZATION, records)
    records[0].mask = encode_mask(PRED)
    records[0].extra = {SCORE_MAP_KEY: {"size": [4, 4], "png": "not base64!"}}
    with pytest.raises(ResultsError, match="extra.mask_scores"):
        score(LOCALIZATION, records)
