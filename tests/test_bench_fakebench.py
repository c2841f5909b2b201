"""FakeBench on a miniature of its release: FakeClass polarity, question-aware verdicts, paper table, FakeClue subtask."""

from __future__ import annotations

import json

import pytest

from fdrbench.datacheck import check_task
from fdrbench.errors import DataError
from fdrbench.scoring import ScoreSettings
from fdrbench.stages.score import task_groups
from fdrbench.tasks.fakebench import FakeBench, FakeBenchFakeClue, miniature
from fdrbench.tasks.fakebench.paper import verdict
from fdrbench.types import FAKE, REAL

from .helpers.records import line_for, score_records


def test_fakeclass_polarity_groups_and_questions(tmp_path):
    root = miniature.build(tmp_path / "fb")
    task = FakeBench()
    samples = {s.id: s for s in task.load(root)}
    # authenticity 0 = fake, 1 = real, converted
    assert {k: s.label for k, s in samples.items()} == {
        "proGAN-00001.png": FAKE,
        "Glide-00007.jpg": FAKE,
        "dalle3-00003.png": FAKE,
        "n01440764_10026.JPEG": REAL,
        "000000430231.jpg": REAL,
        "0801x4.png": REAL,
    }
    assert samples["proGAN-00001.png"].group == {"generator": "progan", "question": "what"}
    assert samples["Glide-00007.jpg"].group == {"generator": "glide", "question": "is_fake"}
    assert samples["0801x4.png"].group == {"question": "is_real", "real_source": "div2k"}  # found in a subfolder by name
    assert samples["000000430231.jpg"].group["real_source"] == "coco"
    assert samples["n01440764_10026.JPEG"].group["real_source"] == "imagenet"
    assert task.prompt_for(samples["Glide-00007.jpg"]) == miniature.IS_FAKE
    assert task.load_report()["counts"] == {}
    # the generators meet the shipped table
    plan = task_groups(task)
    assert plan.derive(samples["proGAN-00001.png"].truth()) == {"generator_family": "gan"}
    assert plan.derive(samples["0801x4.png"].truth()) == {"generator_family": "real"}


def test_a_yes_means_fake_or_real_by_the_question():
    what, is_fake, is_real = miniature.WHAT, miniature.IS_FAKE, miniature.IS_REAL
    assert verdict("It looks real to me, not fake.", what) == REAL
    assert verdict("This is fake; a real photo would differ.", what) == FAKE
    assert verdict("Yes.", is_fake) == FAKE and verdict("no", is_fake) == REAL
    assert verdict("Yes, it is", is_real) == REAL and verdict("No!", is_real) == FAKE
    assert verdict("I think yes", is_fake) is None  # a yes/no answer must start with it
    assert verdict("hard to say", what) is None


def test_paper_protocol_reproduces_the_table_arithmetic(tmp_path):
    root = miniature.build(tmp_path / "fb")
    task = FakeBench()
    samples = task.load(root)
    answers = {
        "proGAN-00001.png": "fake",  # right
        "Glide-00007.jpg": "No.",  # wrong: a fake called real
        "dalle3-00003.png": "No, it is not real",  # right
        "n01440764_10026.JPEG": "It is real.",  # right
        "000000430231.jpg": "maybe",  # a miss: wrong
        "0801x4.png": "Yes",  # right
    }
    lines = [line_for(s, label=None, raw_output=answers[s.id], parse_ok=False) for s in samples]
    block = score_records(lines, task, ["paper"], ScoreSettings(n_boot=0))["paper"]
    assert block["overall"]["fake_accuracy"]["value"] == pytest.approx(2 / 3)
    assert block["overall"]["real_accuracy"]["value"] == pytest.approx(2 / 3)
    assert block["overall"]["balanced_accuracy"]["value"] == pytest.approx(2 / 3)
    assert block["overall"]["failure_rate"]["value"] == pytest.approx(1 / 6)
    assert block["groups"]["question"]["what"]["accuracy"]["value"] == 1.0
    # yes/no pooled over both wordings: dalle3 and 0801x4 right, Glide and 000000430231 wrong
    assert block["aggregates"]["yes_no"]["accuracy"]["value"] == 0.5


def test_fakeclass_errors(tmp_path):
    root = miniature.build(tmp_path / "fb")
    path = root / "Evaluation" / "FakeClass.json"
    records = json.loads(path.read_text())
    records[0]["authenticity"] = 2
    path.write_text(json.dumps(records))
    with pytest.raises(
        DataError, match=r"FakeClass.json: record #0 \(proGAN-00001.png\): unknown authenticity 2; FakeBench uses 0 \(fake\) and 1 \(real\)"
    ):
        FakeBench().load(root)
    records[0] |= {"authenticity": 0, "image_id": "../x.png"}
    path.write_text(json.dumps(records))
    with pytest.raises(DataError, match="is not a plain file name"):
        FakeBench().load(root)
    records[0] |= {"image_id": "proGAN-00001.png", "answer": "real"}
    path.write_text(json.dumps(records))
    (root / "FakeBench_images" / "fake_images" / "Glide-00007.jpg").unlink()
    task = FakeBench(skip_missing=True)
    assert len(task.load(root)) == 5
    assert task.load_report()["counts"] == {"answers_disagreeing_with_authenticity": 1, "missing_images": 1}
    with pytest.raises(DataError, match="image file not found"):
        FakeBench().load(root)


def test_fakebench_fakeclue_is_its_own_subtask(tmp_path):
    root = miniature.build(tmp_path / "fb", clues={"Glide-00007.jpg": "The fingers merge into the cup."})
    task = FakeBenchFakeClue()
    samples = {s.id: s for s in task.load(root)}
    assert set(samples) == {"proGAN-00001.png", "Glide-00007.jpg", "dalle3-00003.png"} and all(s.label == FAKE for s in samples.values())
    assert samples["Glide-00007.jpg"].reference.text == "The fingers merge into the cup."
    assert samples["proGAN-00001.png"].reference.text is None  # blank as released
    assert samples["dalle3-00003.png"].reference.parts["content_categories"] == ["scenery", "photo"]
    assert task.prompt_for(samples["dalle3-00003.png"]) == miniature.INFERENCE
    assert FakeBenchFakeClue(mode="faultfinding").load(root)[0].question == miniature.FAULTFINDING
    assert task.load_report()["counts"] == {"fakes_without_released_references": 2}
    assert "not FakeVLM's FakeClue" in task.description and task.name != "fakeclue"


def test_data_check(tmp_path):
    root = miniature.build(tmp_path / "fb")
    for name in ("fakebench", "fakebench_fakeclue"):
        report = check_task(name, root, show_progress=False)
        assert report["ok"], report
