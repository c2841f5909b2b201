"""The plain-array Python API and the ``evaluate`` modules, which load offline by path."""

from __future__ import annotations

import numpy as np
import pytest

from fdrbench.errors import FdrbenchError, RegistryError
from fdrbench.hf_evaluate import EVALUATE_FAMILIES, evaluate_module_path
from fdrbench.record import Record
from fdrbench.score_arrays import build_records, detection_scores, text_scores


def test_api_takes_plain_lists_and_gives_intervals():
    y = [1, 0, 1, 0, 1, 0, 1, 0]
    out = detection_scores(y, [1, 0, 0, 0, 1, 1, 1, 0], p_fake=[0.9, 0.1, 0.4, 0.2, 0.8, 0.6, 0.7, 0.3], n_boot=200)
    # fakes .9 .4 .8 .7, reals .1 .2 .6 .3: one of 16 pairs (.4 below .6) is misordered
    assert out["accuracy"] == pytest.approx(0.75) and out["roc_auc"] == pytest.approx(15 / 16)
    low, high = out["ci"]["accuracy"]
    assert 0 <= low <= 0.75 <= high <= 1
    real_positive = detection_scores(y, [1, 0, 0, 0, 1, 1, 1, 0], positive="real")
    assert real_positive["f1"] == pytest.approx(0.75)
    # verdicts default to p_fake >= 0.5
    assert detection_scores([1, 0], p_fake=[0.7, 0.2])["accuracy"] == 1.0
    with pytest.raises(FdrbenchError, match="y_pred has 1 entries, expected 2"):
        detection_scores([1, 0], [1])
    with pytest.raises(FdrbenchError, match="nothing to score"):
        detection_scores([], [])


def test_records_follow_the_results_contract():
    rec = build_records([1], [None], references=[["a", "b"]], true_masks=[np.eye(2, dtype=bool)])[0]
    assert rec.parse_ok is False and rec.label is None
    assert rec.truth.reference.to_dict() == {"text": "a", "texts": ["a", "b"], "parts": {}}
    assert rec.truth.mask == {"size": [2, 2], "counts": [0, 1, 2, 1]}
    assert Record.from_json(rec.to_json()) == rec  # what a run folder stores reads back the same


@pytest.fixture(scope="module")
def evaluate_lib():
    return pytest.importorskip("evaluate")


def test_every_family_loads_as_an_evaluate_module_offline(evaluate_lib, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    det = evaluate_lib.load(evaluate_module_path("detection"))
    assert det.compute(predictions=[1, 0, 0, 0], references=[1, 0, 1, 0], p_fake=[0.9, 0.2, 0.4, 0.1])["accuracy"] == 0.75
    cal = evaluate_lib.load(evaluate_module_path("calibration"))
    assert cal.compute(predictions=[0.9, 0.2], references=[1, 0])["ece"] == pytest.approx(0.15)
    ter = evaluate_lib.load(evaluate_module_path("ternary"))
    out = ter.compute(predictions=["real", None, "tampered"], references=["real", "full_synthetic", "tampered"])
    assert out["macro_f1"] == pytest.approx(2 / 3) and out["details"]["macro_f1"]["confusion_matrix"][1] == [0, 0, 0, 1]
    loc = evaluate_lib.load(evaluate_module_path("localization"))
    mask = [[True, False], [False, False]]
    assert loc.compute(predictions=[mask, None], references=[mask, mask])["ciou"] == pytest.approx(0.5)
    txt = evaluate_lib.load(evaluate_module_path("text"))
    res = txt.compute(predictions=["the edges are odd"], references=[["odd edges", "the edges look odd"]], metrics=["bleu1", "rouge_l"])
    assert res["bleu1"] == pytest.approx(0.75) and res["rouge_l"] == pytest.approx(0.75)
    assert res == text_scores(["the edges are odd"], [["odd edges", "the edges look odd"]], metrics=["bleu1", "rouge_l"])
    assert set(EVALUATE_FAMILIES) == {"detection", "calibration", "ternary", "localization", "text"}
    with pytest.raises(RegistryError, match="unknown metric family"):
        evaluate_module_path("judge")


def test_evaluate_modules_import_one_name_per_line():
    from pathlib import Path

    for family in EVALUATE_FAMILIES:
        script = Path(evaluate_module_path(family)) / f"fdrbench_{family}.py"
        imports = [line for line in script.read_text().splitlines() if line.startswith(("import ", "from "))]
        assert imports and all("," not in line for line in imports), family
