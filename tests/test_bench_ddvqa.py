"""DD-VQA: keys to labels and manipulations, all references kept, frames placed from FF++."""

from __future__ import annotations

import json

import pytest

from fdrbench.errors import DataError, FdrbenchError
from fdrbench.tasks.common.miniature import write_image, write_json
from fdrbench.tasks.ddvqa import DDVQA
from fdrbench.tasks.ddvqa.loader import question_part
from fdrbench.tasks.ddvqa.miniature import build as build_ddvqa
from fdrbench.tasks.ddvqa.prepare import prepare_ddvqa, sorted_frames
from fdrbench.tasks.ddvqa.task import PROMPT


@pytest.fixture()
def ddvqa(tmp_path):
    root = build_ddvqa(tmp_path / "ddvqa", tmp_path / "ffpp")
    prepare_ddvqa(root, tmp_path / "ffpp", show_progress=False)
    return root


def test_image_level_samples(ddvqa):
    samples = DDVQA(questions="image").load(ddvqa)
    assert len(samples) == 8
    by_id = {s.id: s for s in samples}
    assert {k: s.label for k, s in by_id.items() if s.label == 0} == {"5_044": 0, "5_114": 0, "5_078": 0}
    assert {s.group["manipulation"] for s in samples} == {"Deepfakes", "Face2Face", "FaceShifter", "FaceSwap", "NeuralTextures", "Original"}
    nt = by_id["6_078_955"]
    assert nt.label == 1 and nt.group["manipulation"] == "NeuralTextures"  # released folder "Neuraltexture"
    assert nt.question == PROMPT == "Does the image looks real/fake?"
    # every reference answer of the image-level question is kept
    assert nt.reference.texts == [
        "The image looks fake. Reference one for 6_078_955/0.",
        "The image looks fake. A second annotator on 6_078_955.",
    ]
    assert nt.reference.text == nt.reference.texts[0]
    assert set(nt.reference.parts["answers"]) == {"0", "1"}
    assert nt.reference.parts["questions"]["1"] == "Does the person's skin look real/fake?"
    assert nt.image_ref == "frames/6_078_955/0.png"
    assert nt.meta["source_frame"] == "manipulated_sequences/NeuralTextures/c23/images/078_955/0000.png"
    assert len(DDVQA(questions="image").load(ddvqa, "train")) == 6


def test_per_question_samples_are_the_default(ddvqa):
    """FakeVLM's DD-VQA figures score every question on its own frame (1,323 test questions)."""
    task = DDVQA()
    samples = task.load(ddvqa)
    assert [s.id for s in samples] == [s.id for s in DDVQA(questions="all").load(ddvqa)]
    assert len(samples) == 19  # 5 fakes x 2 questions + originals with 2, 3 and 4
    assert task.group_keys == ("manipulation", "part")
    s = next(s for s in samples if s.id == "5_078/3")
    assert s.question == "Do the person's eyes look real/fake?" and s.group["part"] == "eyes" and s.label == 0
    assert s.reference.texts == ["The person's eyes look real. Reference one for 5_078/3."]
    assert s.image_ref == "frames/5_078/3.png"
    assert question_part("Do the person's eyebrows look real/fake?") == "eyebrows"


def test_consecutive_frames_follow_question_order(ddvqa):
    index = json.loads((ddvqa / "frames" / "index.json").read_text())
    assert index["policy"] == "consecutive"
    assert index["frames"]["5_078"] == {
        "0": "original_sequences/youtube/c23/images/078/0000.png",
        "1": "original_sequences/youtube/c23/images/078/0001.png",
        "2": "original_sequences/youtube/c23/images/078/0002.png",
        "3": "original_sequences/youtube/c23/images/078/0003.png",
    }
    placed = (ddvqa / "frames" / "5_078" / "3.png").read_bytes()
    assert placed == (ddvqa.parent / "ffpp" / "original_sequences" / "youtube" / "c23" / "images" / "078" / "0003.png").read_bytes()


def test_middle_policy_template_and_numeric_order(tmp_path):
    root = build_ddvqa(tmp_path / "d")
    frames = tmp_path / "fc"
    for key_video, kind, method in (("114_102", "fake", "Deepfakes"), ("078_955", "fake", "NeuralTextures")):
        for n in (1, 2, 10):  # numeric order: 1, 2, 10 (not 1, 10, 2)
            write_image(frames / kind / method / "c23" / "frames" / key_video / f"{n}.png")
    for video in ("044", "114", "078"):
        for n in (1, 2, 10):
            write_image(frames / "real" / "youtube" / "c23" / "frames" / video / f"{n}.png")
    for key, video in (("1_012_026", "012_026"), ("2_623_630", "623_630"), ("3_919_015", "919_015")):
        method = {"1": "Face2Face", "2": "FaceShifter", "3": "FaceSwap"}[key[0]]
        for n in (1, 2, 10):
            write_image(frames / "fake" / method / "c23" / "frames" / video / f"{n}.png")
    summary = prepare_ddvqa(
        root,
        frames,
        splits=("test",),
        template="{real_fake}/{method}/{compression}/frames/{video}",
        frame_policy="middle",
        show_progress=False,
    )
    assert summary["keys"] == 8
    index = json.loads((root / "frames" / "index.json").read_text())["frames"]
    assert index["0_114_102"] == {"0": "fake/Deepfakes/c23/frames/114_102/2.png", "1": "fake/Deepfakes/c23/frames/114_102/2.png"}
    assert [p.name for p in sorted_frames(frames / "real" / "youtube" / "c23" / "frames" / "044")] == ["1.png", "2.png", "10.png"]


def test_missing_frames_are_a_clear_error_or_counted(tmp_path):
    root = build_ddvqa(tmp_path / "d", tmp_path / "ffpp", frames_per_video=3)
    # 5_078 has 4 questions but only 3 frames: consecutive cannot serve it
    with pytest.raises(DataError, match=r"record 5_078: .*has 3 frames but the key has 4 questions"):
        prepare_ddvqa(root, tmp_path / "ffpp", splits=("test",), show_progress=False)
    summary = prepare_ddvqa(root, tmp_path / "ffpp", splits=("test",), skip_missing=True, show_progress=False)
    assert summary["skipped"]["counts"] == {"keys_without_frames": 1}
    with pytest.raises(DataError, match=r"record 5_078/0: image file not found: .*frames/5_078/0.png") as info:
        DDVQA().load(root)
    assert "data prepare ddvqa" in str(info.value)
    with pytest.warns(UserWarning, match="4 missing images"):
        assert len(DDVQA(skip_missing=True).load(root)) == 19 - 4  # the 4 questions of 5_078
    with pytest.warns(UserWarning, match="1 missing images"):
        assert len(DDVQA(questions="image", skip_missing=True).load(root)) == 7
    with pytest.raises(DataError, match="no frames in"):
        prepare_ddvqa(root, tmp_path / "ffpp", splits=("test",), template="{sequences}/{method}/c40/images/{video}", show_progress=False)
    with pytest.raises(FdrbenchError, match="--arg frame_policy must be one of consecutive, first, middle"):
        prepare_ddvqa(root, tmp_path / "ffpp", frame_policy="random", show_progress=False)


def test_key_and_folder_must_agree(ddvqa):
    path = ddvqa / "DQ_FF++" / "test_set" / "Deepfakes" / "Deepfakes.json"
    data = json.loads(path.read_text())
    data["1_114_102"] = data.pop("0_114_102")
    write_json(path, data)
    with pytest.raises(DataError, match="key prefix 1 means Face2Face, but the key is in the Deepfakes file"):
        DDVQA().load(ddvqa)
    data["9_114_102"] = data.pop("1_114_102")
    write_json(path, data)
    with pytest.raises(DataError, match=r"record 9_114_102: unknown manipulation id '9'"):
        DDVQA().load(ddvqa)
    data["0_114_102"] = {"1": data.pop("9_114_102")["1"]}
    write_json(path, data)
    with pytest.raises(DataError, match="expected question id '0'"):
        DDVQA().load(ddvqa)


def test_paper_preset_cuts_the_echoed_question_and_names_its_samples():
    """FakeVLM's eval.py keeps the text after the last '?': an echoed part question would read as 'real'."""
    from fdrbench.scoring import ScoreSettings

    from .helpers.records import score_records

    echoed = "Does the person's skin look real/fake? The person's skin looks fake. It is too smooth."
    records = [
        {"sample_id": "0_114_102/1", "label": None, "raw_output": echoed, "truth": {"label": 1, "cls": None, "group": {}}},
        {"sample_id": "5_044/1", "label": None, "raw_output": "The person's skin looks real.", "truth": {"label": 0, "group": {}}},
    ]
    task = DDVQA()
    paper = score_records(records, task, ["paper"], ScoreSettings(n_boot=0))["paper"]
    assert paper["overall"]["accuracy"]["value"] == 1.0 and paper["n_failed"] == 0
    assert paper["protocol"]["samples"].startswith("one per question")
    assert "not the sample set" in DDVQA(questions="image").protocols()["paper"].samples
