"""MMFR: evaluation sets and training split read as released, and the paper's reference rule."""

from __future__ import annotations

import json

import pytest

from fdrbench.errors import DataError
from fdrbench.resolve import make_task
from fdrbench.tasks.common.miniature import write_image, write_json
from fdrbench.tasks.mmfr import MMFREval, MMFRTrain
from fdrbench.tasks.mmfr.loader import reference_text
from fdrbench.tasks.mmfr.miniature import build as build_mmfr
from fdrbench.tasks.mmfr.miniature import fake_attributes as mmfr_fake_attributes
from fdrbench.tasks.mmfr.miniature import real_attributes as mmfr_real_attributes
from fdrbench.tasks.mmfr.task import PROMPT


@pytest.fixture()
def mmfr(tmp_path):
    return build_mmfr(tmp_path / "mmfr")


def test_eval_counts_labels_groups_and_references(mmfr):
    task = MMFREval()
    with pytest.warns(UserWarning, match="2 unannotated images"):
        samples = task.load(mmfr)
    assert len(samples) == 8
    assert [s.label for s in samples].count(1) == 4
    assert {s.group["generator"] for s in samples} == {"stablediffusion", "gigagan"}
    fake = next(s for s in samples if s.id == "gigagan/1_fake/000001.png")
    assert fake.label == 1 and fake.image_ref == "dataset/evaluation_sets/gigagan/1_fake/000001.png"
    # non-null descriptions, keys in Python's sort order, one space
    assert fake.reference.text == "The skin of figure 1 is waxy. The hands of figure 1 have six fingers."
    assert fake.reference.parts["attributes"] == mmfr_fake_attributes(1)
    real = next(s for s in samples if s.id == "stablediffusion/0_real/000000.jpg")
    assert real.label == 0
    # the extra, non-canonical key of a real entry is kept in the text, as the paper's script keeps it
    assert real.reference.text == "Shadows in scene 0 fall one way. Scene 0 is sharp. Colours are natural."
    assert real.reference.parts["extra_keys"] == ["Natural Color Distribution"]
    assert task.prompt == PROMPT
    assert task.info()["load_report"]["counts"] == {"unannotated_images": 2}
    assert set(task.aggregates) == {"DM", "GAN", "AVG"} and len(task.aggregates["DM"].members) == 8


def test_eval_can_include_unannotated_images(mmfr):
    with pytest.warns(UserWarning):
        samples = MMFREval(unannotated="include").load(mmfr)
    assert len(samples) == 10
    dropped = next(s for s in samples if s.id == "gigagan/1_fake/dropped.png")
    assert dropped.reference.text is None and dropped.label == 1


def test_reference_rule_is_case_sensitive_sort():
    assert reference_text({"b": "second", "A": "first", "c": None, "a": "third"}) == "first third second"


def test_missing_image_is_an_error_unless_skipped(mmfr):
    image = mmfr / "dataset" / "evaluation_sets" / "gigagan" / "0_real" / "000001.jpg"
    image.unlink()
    with pytest.raises(DataError, match=r"gigagan/0_real/000001.jpg.*image file not found") as info:
        MMFREval().load(mmfr)
    assert "gigagan_reasoning.json" in str(info.value) and "--skip-missing" in str(info.value)
    task = MMFREval(skip_missing=True)
    with pytest.warns(UserWarning, match="1 missing images"):
        samples = task.load(mmfr)
    assert len(samples) == 7
    assert task.report.counts["missing_images"] == 1


def test_malformed_reasoning_file_errors_name_file_and_record(mmfr):
    path = mmfr / "dataset" / "evaluation_sets" / "gigagan" / "gigagan_reasoning.json"
    path.write_text('{"gigagan/1_fake/000000.png": {', encoding="utf-8")
    with pytest.raises(DataError, match="gigagan_reasoning.json: not valid JSON"):
        MMFREval().load(mmfr)
    write_json(path, {"gigagan/2_other/000000.png": mmfr_fake_attributes(0)})
    with pytest.raises(DataError, match=r"record gigagan/2_other/000000.png: unknown label"):
        MMFREval().load(mmfr)
    write_json(path, {"gigagan/1_fake/000000.png": {"Low Image Quality": 3}})
    with pytest.raises(DataError, match="must be a string or null"):
        MMFREval().load(mmfr)
    write_json(path, {"gigagan/1_fake/../../../../outside.png": mmfr_fake_attributes(0)})
    with pytest.raises(DataError, match="outside the data folder"):
        MMFREval().load(mmfr)


def test_set_without_reasoning_file_falls_back_to_folders(tmp_path):
    root = tmp_path / "plain"
    write_image(root / "evaluation_sets" / "flux" / "0_real" / "a.png")
    write_image(root / "evaluation_sets" / "flux" / "1_fake" / "b.png")
    task = MMFREval()
    with pytest.warns(UserWarning, match="sets without reasoning file"):
        samples = task.load(root)
    assert [(s.id, s.label) for s in samples] == [("flux/0_real/a.png", 0), ("flux/1_fake/b.png", 1)]
    with pytest.raises(DataError, match="no evaluation_sets"):
        MMFREval().load(tmp_path)


def test_demo_benchmark_loads_through_mmfr_eval(demo_root):
    samples = make_task("mmfr_eval").load(demo_root / "test")
    assert len(samples) == 240 and sum(s.label for s in samples) == 120
    assert {s.group["generator"] for s in samples} == {"gan", "diffusion", "tampered"}


def test_train_from_cot_labels_from_conclusion(mmfr):
    samples = MMFRTrain().load(mmfr)
    assert len(samples) == 4
    by_id = {s.id: s for s in samples}
    fake = by_id["diffusiondb/part-000001/0a3c75bb-4bd0-47c8-a2ba-e2aee92ad400.png"]
    assert fake.label == 1 and fake.group == {"source": "diffusiondb"}
    assert fake.reference.parts["conclusion"] == "This image is fake."
    assert fake.reference.parts["reasoning"] == "From low-level perspective: cue 0. From high-level perspective: none."
    assert fake.reference.parts["attributes"] == mmfr_fake_attributes(0)
    assert fake.reference.text.startswith("<SUMMARY>") and fake.meta["instruction"] == "<image>\n" + PROMPT
    assert by_id["laion/00000/000000000.jpg"].label == 0
    assert by_id["laion/00000/000000000.jpg"].reference.parts["attributes"] == mmfr_real_attributes(0)


def test_train_label_rule_and_bad_records(mmfr):
    path = mmfr / "dataset" / "forgery_reasoning_cot.json"
    items = json.loads(path.read_text())
    # the paper's rule: "fake" anywhere in the CONCLUSION content means fake, anything else real
    items[1]["conversations"][1]["value"] = "<CONCLUSION> Looks authentic to me. </CONCLUSION>"
    items[2]["conversations"][1]["value"] = "<CONCLUSION>\nit is fake\n</CONCLUSION>"
    write_json(path, items)
    labels = {s.id: s.label for s in MMFRTrain().load(mmfr)}
    assert labels["laion/00000/000000000.jpg"] == 0
    assert labels["diffusiondb/part-000001/0a3c75bb-4bd0-47c8-a2ba-e2aee92ad401.png"] == 1
    items[0]["conversations"][1]["value"] = "This image is fake."
    write_json(path, items)
    with pytest.raises(DataError, match=r"forgery_reasoning_cot.json: record #0: the gpt turn has no <CONCLUSION>"):
        MMFRTrain().load(mmfr)
    items[0]["conversations"] = [{"from": "gpt", "value": "x"}]
    write_json(path, items)
    with pytest.raises(DataError, match="record #0: expected 'conversations'"):
        MMFRTrain().load(mmfr)


def test_train_from_reasoning_files_and_key_forms(mmfr):
    samples = MMFRTrain(source="reasoning").load(mmfr)
    assert [(s.id, s.label) for s in samples] == [
        ("diffusiondb/part-000001/0a3c75bb-4bd0-47c8-a2ba-e2aee92ad400.png", 1),
        ("diffusiondb/part-000001/0a3c75bb-4bd0-47c8-a2ba-e2aee92ad401.png", 1),
        ("laion/00000/000000000.jpg", 0),
        ("laion/00000/000000001.jpg", 0),
    ]
    assert samples[0].reference.text == "The skin of figure 0 is waxy. The hands of figure 0 have six fingers."
    # the other reading of the unverified key prefix: relative to the annotation's own folder
    laion = mmfr / "dataset" / "laion" / "laion_reasoning.json"
    write_json(laion, {"00000/000000000.jpg": mmfr_real_attributes(0)})
    diffusion = mmfr / "dataset" / "diffusiondb" / "diffusiondb_reasoning.json"
    write_json(diffusion, {"0a3c75bb-4bd0-47c8-a2ba-e2aee92ad401.png": mmfr_fake_attributes(1)})
    assert [s.id for s in MMFRTrain(source="reasoning").load(mmfr)] == [
        "diffusiondb/part-000001/0a3c75bb-4bd0-47c8-a2ba-e2aee92ad401.png",
        "laion/00000/000000000.jpg",
    ]
    cot = {s.id: s for s in MMFRTrain().load(mmfr)}
    assert cot["laion/00000/000000000.jpg"].reference.parts["attributes"] == mmfr_real_attributes(0)
    assert "attributes" not in cot["laion/00000/000000001.jpg"].reference.parts
    assert len(MMFRTrain(source="reasoning", reasoning_keys="name").load(mmfr)) == 2
    with pytest.raises(DataError, match="image file not found"):
        MMFRTrain(source="reasoning", reasoning_keys="root").load(mmfr)


def test_demo_training_split_loads_through_mmfr_train(demo_root):
    samples = MMFRTrain().load(demo_root / "train")
    assert len(samples) == 360
    folder_label = {s.id: (1 if "/1_fake/" in s.id else 0) for s in samples}
    assert all(s.label == folder_label[s.id] for s in samples)
