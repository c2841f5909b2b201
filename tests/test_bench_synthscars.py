"""SynthScars on a miniature of its release: layout spellings, polygon masks, references, groups, mIoU."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fdrbench.datacheck import check_task
from fdrbench.errors import DataError
from fdrbench.media import encode_mask
from fdrbench.scoring import ScoreSettings
from fdrbench.tasks.synthscars import SynthScars, miniature
from fdrbench.types import FAKE

from .helpers.records import line_for, score_records


def test_test_split_layout_masks_and_references(tmp_path):
    root = miniature.build(tmp_path / "ss")
    task = SynthScars()
    samples = {s.id: s for s in task.load(root)}
    assert set(samples) == {"a.png", "b.jpg", "c.png"} and all(s.label == FAKE for s in samples.values())
    a = samples["a.png"]
    assert a.reference.text.startswith("Upon examining the image.") and not a.reference.text.startswith('"')
    assert a.reference.parts["regions"][0] == {
        "sentence": "the lamp post",
        "explanation": "its top bends into the sky",
        "in_caption": True,
        "category": "Structure",
    }
    mask = a.load_mask()
    assert mask.shape == (8, 8) and mask.sum() == 16 and mask[2:6, 2:6].all()
    # the absolute cluster path is read by its file name; the two-point polygon is skipped and counted
    b = samples["b.jpg"]
    assert b.load_mask().sum() == 9 and b.reference.parts["regions"][0]["in_caption"] is False
    assert task.load_report()["counts"] == {"degenerate_polygons_skipped": 1}
    assert samples["c.png"].load_mask().sum() == 0
    # the image-level content type becomes a group, recorded among the run's options
    assert a.group == {"content_type": "Object"} and task.options["groups"] == ["content_type"]
    assert SynthScars(**task.options).group_keys == ("content_type",)


def test_regions_reference_and_train_split(tmp_path):
    root = miniature.build(tmp_path / "ss", nested=False)
    sample = next(s for s in SynthScars(reference="regions").load(root) if s.id == "a.png")
    assert sample.reference.text == "its top bends into the sky" and sample.reference.texts == ["its top bends into the sky"]
    task = SynthScars()
    train = task.load(root, "train")
    assert [s.id for s in train] == ["t.png", "t.png#2"] and task.load_report()["counts"] == {"images_annotated_twice": 1}


def test_bad_annotations(tmp_path):
    root = miniature.build(tmp_path / "ss")
    path = root / "SynthScars" / "test" / "annoations" / "test.json"
    data = json.loads(path.read_text())
    data[0]["0"]["refs"][0]["segmentation"] = [[1, 2, 3]]
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"test.json: record #0 \(id 0\): a polygon must be a flat list of x, y pixel coordinates"):
        SynthScars().load(root)
    path.write_text(json.dumps([{"0": {**data[1]["1"], "img_file_name": ".."}}]))
    with pytest.raises(DataError, match="is not a plain file name"):
        SynthScars().load(root)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no test/annotations/test.json \(nor the README's test/annoations/\)"):
        SynthScars().load(tmp_path / "empty")


def test_paper_protocol_miou_is_the_mean_of_foreground_and_background_iou(tmp_path):
    root = miniature.build(tmp_path / "ss")
    samples = {s.id: s for s in SynthScars().load(root)}
    guess = np.zeros((8, 8), dtype=bool)
    guess[2:6, 2:4] = True  # half of a.png's 16-pixel square
    lines = [
        line_for(samples["a.png"], label=FAKE, mask=encode_mask(guess)),
        line_for(samples["b.jpg"], label=FAKE, mask=encode_mask(np.zeros((8, 8), dtype=bool))),
        line_for(samples["c.png"], label=FAKE),
    ]
    block = score_records(lines, SynthScars(groups=["content_type"]), ["paper"], ScoreSettings(n_boot=0))["paper"]
    # a: fg IoU 8/16, bg IoU 48/56; b: fg 0, bg 55/64; c: both masks empty, 1 and 1
    expected = ((0.5 + 48 / 56) / 2 + (0 + 55 / 64) / 2 + 1.0) / 3
    assert block["overall"]["miou"]["value"] == pytest.approx(expected)
    assert block["overall"]["cmiou"]["value"] == pytest.approx((8 / 25 + (48 + 55 + 64) / (56 + 64 + 64)) / 2)
    assert block["groups"]["content_type"]["Object"]["miou"]["value"] == pytest.approx((0.5 + 48 / 56) / 2)
    assert block["overall"]["fake_accuracy"]["value"] == 1.0


def test_data_check(tmp_path):
    report = check_task("synthscars", miniature.build(tmp_path / "ss"), show_progress=False)
    split = {s["split"]: s for s in report["splits"]}
    assert report["ok"] and split["test"]["with_mask"] == 3 and split["train"]["n"] == 2
