"""DeepfakeJudge on miniatures of both schema readings: labels, edits, rationales, and the paper's F1 arithmetic."""

from __future__ import annotations

import json

import pytest

from fdrbench.datacheck import check_task
from fdrbench.errors import DataError
from fdrbench.scoring import ScoreSettings
from fdrbench.tasks.dfj import DfjDetect, DfjReason, miniature
from fdrbench.tasks.dfj.paper import answer_tag
from fdrbench.types import FAKE, REAL

from .helpers.records import line_for, score_records


def test_detect_with_the_real_fake_edited_vocabulary(tmp_path):
    root = miniature.build(tmp_path / "dfj", schema="label")
    task = DfjDetect()
    samples = {s.id: s for s in task.load(root)}
    assert {k: s.label for k, s in samples.items()} == {
        "images/r1.jpg": REAL,
        "images/r2.jpg": REAL,
        "images/t1.png": FAKE,
        "images/e1.png": FAKE,
    }
    assert samples["images/e1.png"].group == {"class": "edited", "generator": "Flux-Kontext-Max"}
    assert samples["images/t1.png"].group == {"class": "t2i", "generator": "SeedDream"}
    assert samples["images/r1.jpg"].group == {"class": "real"}
    assert task.load_report()["counts"] == {}
    # the generator names meet the shipped table
    table = task.generator_table()
    assert table.lookup("Flux-Kontext-Max").released == "2025-05-29" and table.lookup("SeedDream").released is None


def test_detect_with_the_answer_field_and_dot_slash_paths(tmp_path):
    root = miniature.build(tmp_path / "dfj", schema="answer")
    task = DfjDetect()
    samples = {s.id: s for s in task.load(root / "dfj-bench")}  # dfj-bench/ as the data folder works too
    assert samples["images/e1.png"].label == FAKE and samples["images/e1.png"].group == {"class": "fake"}
    assert task.load_report()["counts"] == {"edits_not_told_apart": 1}
    assert [s.id for s in DfjDetect(label_field="messages").load(root / "dfj-bench" / "dfj-detect")] == sorted(
        samples, key=list(samples).index
    )


def test_unknown_labels_and_unsafe_paths_are_refused(tmp_path):
    root = miniature.build(tmp_path / "dfj", schema="label")
    path = root / "dfj-bench" / "dfj-detect" / "data.jsonl"
    lines = path.read_text().splitlines()
    bad = json.loads(lines[1]) | {"label": "synthetic-ish"}
    path.write_text("\n".join([lines[0], json.dumps(bad), *lines[2:]]) + "\n")
    with pytest.raises(DataError, match=r"data.jsonl: record line 2: unknown label 'synthetic-ish'; expected real, fake or edited"):
        DfjDetect().load(root)
    bad = json.loads(lines[1]) | {"images": ["../../escape.jpg"]}
    path.write_text("\n".join([lines[0], json.dumps(bad), *lines[2:]]) + "\n")
    with pytest.raises(DataError, match=r"record line 2: path '../../escape.jpg' has a '..' component"):
        DfjDetect().load(root)
    bare = {"images": ["images/r1.jpg"], "note": "no label here"}
    path.write_text(json.dumps(bare) + "\n")
    with pytest.raises(DataError, match=r"no label found: none of \['answer', 'label'.*the record has \['images', 'note'\]"):
        DfjDetect().load(root)


@pytest.mark.parametrize("schema", ["label", "answer"])
def test_reason_rationales_from_a_field_or_the_assistant_turn(tmp_path, schema):
    root = miniature.build(tmp_path / "dfj", schema=schema)
    samples = {s.id: s for s in DfjReason().load(root)}
    assert samples["images/t1.png"].reference.text == "The t1.png image shows warped text on a sign."
    assert samples["images/r1.jpg"].reference.text is None
    if schema == "label":
        assert samples["images/e1.png"].reference.parts == {"bboxes": [[1, 1, 5, 5]], "flags": {"text_artifacts": True}}
    task = DfjReason()
    assert "bleu3" in task.protocols()["paper"].metrics and task.has_reference_text


def test_reason_fake_without_rationale_fails_loudly(tmp_path):
    root = miniature.build(tmp_path / "dfj", schema="label")
    path = root / "dfj-bench" / "dfj-reason" / "data.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    records[1].pop("reasoning")
    records[1]["messages"][1]["content"] = "<answer>fake</answer>"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    with pytest.raises(DataError, match=r"record line 2 \(images/t1.png\): no rationale found for a fake image \(the record has"):
        DfjReason().load(root)


def test_answer_tag():
    assert answer_tag("<reasoning>odd hands</reasoning><answer>Edited</answer>") == FAKE
    assert answer_tag("<answer> real. </answer>") == REAL
    assert answer_tag("It is real.") is None


def test_paper_protocol_reproduces_the_published_sida_row():
    """SIDA-13B on DFJ-Detect: 273 of 1,000 fakes and 689 of 1,000 reals right give the printed 48.1 / 57.0 / 34.5
    (accuracy / real F1 / fake F1), and no other confusion matrix on 1,000 + 1,000 images does."""

    class Entry:
        def __init__(self, sid, label, group):
            self.id, self.label, self.group = sid, label, group

    lines = []
    for i in range(1000):
        truth = {"label": FAKE, "group": {"class": "t2i" if i < 500 else "edited"}}
        lines.append(
            {"sample_id": f"f{i:04d}", "label": FAKE if i < 273 else REAL, "raw_output": "[CLS] The image is tampered.", "truth": truth}
        )
        lines.append(
            {
                "sample_id": f"r{i:04d}",
                "label": REAL if i < 689 else FAKE,
                "raw_output": None,
                "truth": {"label": REAL, "group": {"class": "real"}},
            }
        )
    block = score_records(lines, DfjDetect(), ["paper"], ScoreSettings(n_boot=0))["paper"]
    overall = {k: round(100 * v["value"], 1) for k, v in block["overall"].items() if v["value"] is not None}
    assert overall["accuracy"] == 48.1 and overall["f1_real"] == 57.0 and overall["f1_fake"] == 34.5
    # an output in the answer format decides over the stored verdict
    flipped = [dict(line, raw_output="<answer>fake</answer>") if line["sample_id"] == "f0999" else line for line in lines]
    again = score_records(flipped, DfjDetect(), ["paper"], ScoreSettings(n_boot=0))["paper"]
    assert again["overall"]["accuracy"]["value"] == pytest.approx(963 / 2000)  # f0999 was wrong, now right


def test_data_check(tmp_path):
    root = miniature.build(tmp_path / "dfj")
    for name in ("dfj_detect", "dfj_reason"):
        report = check_task(name, root, show_progress=False)
        assert report["ok"], report
    assert check_task("dfj_detect", root, show_progress=False)["splits"][0]["by_group"]["class"]["edited"] == {"n": 1, "real": 0, "fake": 1}


def test_line_helper_keeps_the_truth(tmp_path):
    sample = DfjReason().load(miniature.build(tmp_path / "dfj"))[1]
    line = line_for(sample, label=FAKE)
    assert line["truth"]["reference"]["text"] == sample.reference.text and line["truth"]["group"] == sample.group
