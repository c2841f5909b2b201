"""FakeClue (1 = real, converted) and LOKI (question polarity, UTF-16 explanations, `sence`)."""

from __future__ import annotations

import json

import msgspec
import pytest

from fdrbench.errors import DataError
from fdrbench.record import Truth
from fdrbench.resolve import make_task
from fdrbench.scoring import ScoreSettings
from fdrbench.tasks.common.miniature import write_json
from fdrbench.tasks.fakeclue import FakeClue
from fdrbench.tasks.fakeclue.loader import split_answer
from fdrbench.tasks.fakeclue.miniature import RECORDS as FAKECLUE_RECORDS
from fdrbench.tasks.fakeclue.miniature import build as build_fakeclue
from fdrbench.tasks.fakeclue.task import PROMPT as FAKECLUE_PROMPT
from fdrbench.tasks.loki import Loki, LokiExplain
from fdrbench.tasks.loki.loader import ANSWER_SUFFIX, ASK_FAKE_QUESTION
from fdrbench.tasks.loki.miniature import build as build_loki

from .helpers.records import score_records


@pytest.fixture()
def fakeclue(tmp_path):
    return build_fakeclue(tmp_path / "fakeclue")


@pytest.fixture()
def loki(tmp_path):
    return build_loki(tmp_path / "loki")


def test_fakeclue_converts_one_is_real(fakeclue):
    samples = FakeClue().load(fakeclue)
    assert len(samples) == 6
    expected = {image: 1 - label for image, label, _, _ in FAKECLUE_RECORDS}  # FakeClue 1 = real -> fdrbench 0
    assert {s.id: s.label for s in samples} == expected
    assert sum(s.label for s in samples) == 3
    first = samples[0]
    assert first.group == {"category": "deepfake", "source": "ff++"}
    assert first.image_ref == "test/ff++/fake/Deepfakes/c23/frames/071_054/160.png"
    assert first.meta["question_raw"] == "<image>Does the image looks real/fake?"
    assert first.meta["fakeclue_label"] == 0
    assert {s.group["category"] for s in samples} == {"deepfake", "animal", "satellite", "human", "doc"}
    assert FakeClue.prompt == FAKECLUE_PROMPT == "Does the image looks real/fake?"


def test_truncated_or_non_image_file_is_a_clear_error_naming_file_and_record(fakeclue):
    samples = FakeClue().load(fakeclue)
    path = fakeclue / "test" / "genimage" / "fake" / "416_adm_45.PNG"
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataError, match=r"416_adm_45.PNG: record genimage/fake/416_adm_45.PNG: not a readable image"):
        samples[2].load_image()
    path.write_text("<html>not an image</html>")
    with pytest.raises(DataError, match="not a readable image"):
        FakeClue().load(fakeclue)[2].load_image()


def test_all_benchmark_names_are_registered():
    from fdrbench.registry import TASKS

    names = {"mmfr_eval", "mmfr_train", "fakeclue", "loki", "loki_explain", "ddvqa", "sofake_ood", "sidset"}
    assert names <= set(TASKS.names())
    spaces = {name: make_task(name).label_space for name in names}
    assert spaces == {n: ("ternary" if n in ("sofake_ood", "sidset") else "binary") for n in names}


def test_fakeclue_reference_with_and_without_verdict(fakeclue):
    full = FakeClue().load(fakeclue)[0]
    assert full.reference.text == "This is a fake image. The nostrils are pixelated; the skin is smooth."
    assert full.reference.parts["verdict"] == "This is a fake image."
    assert full.reference.parts["explanation"] == "The nostrils are pixelated; the skin is smooth."
    assert FakeClue(reference="explanation").load(fakeclue)[0].reference.text == "The nostrils are pixelated; the skin is smooth."
    assert split_answer("This is a real image.") == ("This is a real image.", "")


def test_fakeclue_bad_records(fakeclue):
    path = fakeclue / "data_json" / "test.json"
    records = json.loads(path.read_text())
    records[2]["label"] = 2
    write_json(path, records)
    with pytest.raises(DataError, match=r"test.json: record #2 \(genimage/fake/416_adm_45.PNG\): unknown label 2"):
        FakeClue().load(fakeclue)
    records[2]["label"] = 0
    records[3]["image"] = "../../secret.png"
    write_json(path, records)
    with pytest.raises(DataError, match="outside the data folder"):
        FakeClue().load(fakeclue)
    records[3]["image"] = "satellite/real/41.8,-87.6_mbev.jpg"
    write_json(path, records)
    (fakeclue / "test" / "doc" / "real" / "0001.png").unlink()
    with pytest.raises(DataError, match=r"record #5 \(doc/real/0001.png\): image file not found"):
        FakeClue().load(fakeclue)
    with pytest.warns(UserWarning, match="1 missing images"):
        assert len(FakeClue(skip_missing=True).load(fakeclue)) == 5
    with pytest.raises(DataError, match="no data_json/train.json"):
        FakeClue().load(fakeclue, "train")


def test_loki_labels_from_question_type_and_polarity(loki):
    task = Loki()
    samples = task.load(loki)
    assert len(samples) == 10  # 5 images x 2 questions
    by_id = {s.id: s for s in samples}
    ask_fake = by_id["doc_tf_fake_0_0"]  # a real image asked "is it AI-generated?"
    assert ask_fake.label == 0 and ask_fake.group == {"category": "doc", "asks": "fake"}
    assert ask_fake.meta["asks_fake"] is True and ask_fake.meta["gold_answer"] == "No"
    ask_real = by_id["sence_tf_real_2_0"]  # a fake image asked "is it real?"
    assert ask_real.label == 1 and ask_real.group == {"category": "scene", "asks": "real"}
    assert ask_real.meta["category_raw"] == "sence"
    assert {s.group["category"] for s in samples} == {"doc", "scene", "animals"}
    assert sum(s.label for s in samples) == 6
    # the question without the image placeholder, then LOKI's yes/no instruction
    # LOKI sends question + "\n" + instruction; its questions end with a newline, so a blank line separates them
    assert ask_fake.question == ASK_FAKE_QUESTION
    assert task.prompt_for(ask_fake) == ASK_FAKE_QUESTION + "\nAnswer with yes or no." == task.prompt
    assert task.prompt_for(ask_fake).endswith("otherwise.)\n\nAnswer with yes or no.")
    assert ask_fake.meta["question_raw"].startswith("<image>\n") and ask_fake.meta["answer_suffix"] == ANSWER_SUFFIX
    assert ask_fake.image_ref == "media_data/image/d9df7eb3-98b4-5478-a667-3ca742dbbcbe.jpg"


def test_loki_answers_become_verdicts_by_polarity(loki):
    task = Loki()
    by_id = {s.id: s for s in task.load(loki)}
    ask_fake, ask_real = by_id["doc_tf_fake_0_0"], by_id["doc_tf_real_0_0"]
    assert task.parse_answer("Yes.", ask_fake) == 1
    assert task.parse_answer("no", ask_fake) == 0
    assert task.parse_answer("Yes, it is taken from the real world.", ask_real) == 0
    assert task.parse_answer("N", ask_real) == 1
    assert task.parse_answer("It might be.", ask_real) is None


def test_loki_total_is_lokis_weighted_category_accuracy(loki):
    """Per category (fake acc + real acc) / 2, weighted by fake-question counts: hand-computed here."""
    task = Loki()
    samples = task.load(loki)
    wrong = {"doc_tf_fake_1_0", "sence_tf_real_3_0"}  # a doc fake-image question, a scene real-image question
    records = []
    for s in samples:
        pred = 1 - s.label if s.id in wrong else s.label
        records.append({"sample_id": s.id, "label": pred, "p_fake": None, "parse_ok": True, "truth": msgspec.to_builtins(Truth.of(s))})
    block = score_records(records, task, ["strict"], ScoreSettings(n_boot=0))["strict"]
    # doc: fake 1/2, real 2/2 -> .75 (2 fake questions); scene: fake 2/2, real 1/2 -> .75 (2); animals: 1.0 (2)
    expected = (2 * 0.75 + 2 * 0.75 + 2 * 1.0) / 6
    assert block["aggregates"]["total"]["balanced_accuracy"]["value"] == pytest.approx(expected)
    assert block["groups"]["category"]["doc"]["balanced_accuracy"]["value"] == pytest.approx(0.75)


def test_loki_malformed_items(loki):
    path = loki / "data_json" / "image" / "true_or_false.json"
    items = json.loads(path.read_text())
    items[3]["question_type"] = "image_tf_image_maybe_ask_fake_doc"
    write_json(path, items)
    with pytest.raises(DataError, match=r"true_or_false.json: record #3 \(doc_tf_real_1_0\): unknown question_type"):
        Loki().load(loki)
    path.write_text("[{", encoding="utf-8")
    with pytest.raises(DataError, match="not valid JSON"):
        Loki().load(loki)


def test_loki_explain_reads_utf16_and_keeps_human_annotations(loki):
    raw = (loki / "data_json" / "image" / "open_ended_vqa.json").read_bytes()
    assert raw[:2] in (b"\xff\xfe", b"\xfe\xff")  # the release's byte-order mark
    samples = LokiExplain().load(loki)
    assert len(samples) == 2 and all(s.label == 1 for s in samples)
    first, second = samples
    assert first.reference.parts["regional"][0]["region"] == pytest.approx(
        [341.49942078539976, 271.39470446394097, 168.92081078090786, 53.58020874648651]
    )
    # empty global description: the reference is the regional descriptions alone
    assert first.reference.text == "Chairs float on the water. The window merges with the wall — oddly."
    assert second.reference.text == "The whole scene is too clean. Chairs float on the water. The window merges with the wall — oddly."
    assert second.reference.texts[0] == "The whole scene is too clean."
    assert LokiExplain(reference="global").load(loki)[1].reference.text == "The whole scene is too clean."
    assert first.question.startswith("This is a fake image generated by an advanced AI model.")
    assert LokiExplain().prompt_for(first) == first.question


def test_loki_explain_wrong_encoding_is_a_clear_error(loki):
    path = loki / "data_json" / "image" / "open_ended_vqa.json"
    path.write_bytes(b'[{"id": "x"}]')  # UTF-8 without a BOM: not what LOKI released
    with pytest.raises(DataError, match="open_ended_vqa.json"):
        LokiExplain().load(loki)


def test_loki_paper_protocol_reads_raw_yes_no_with_the_question_polarity(loki):
    """The paper preset ignores the stored verdict and re-reads LOKI's yes/no answer from the raw output."""
    task = Loki()
    samples = task.load(loki)
    records = []
    for s in samples:
        says_yes = (s.label == 1) == (s.meta["asks_fake"])  # the right answer to the question asked
        raw = "Yes." if says_yes else "No"
        if s.id == "doc_tf_fake_1_0":
            raw = "Perhaps"  # unparsed: wrong under LOKI's rule
        records.append(
            {
                "sample_id": s.id,
                "label": None,
                "p_fake": None,
                "parse_ok": False,
                "raw_output": raw,
                "truth": msgspec.to_builtins(Truth.of(s)),
            }
        )
    paper = score_records(records, task, ["paper"], ScoreSettings(n_boot=0))["paper"]
    assert paper["n_failed"] == 1
    assert paper["groups"]["category"]["doc"]["balanced_accuracy"]["value"] == pytest.approx(0.75)
    assert paper["aggregates"]["total"]["balanced_accuracy"]["value"] == pytest.approx((2 * 0.75 + 2 + 2) / 6)
    strict = score_records(records, task, ["strict"], ScoreSettings(n_boot=0))["strict"]
    assert strict["n_failed"] == len(records), "strict keeps the adapter's own (missing) verdicts"


@pytest.mark.parametrize(
    ("name", "reparse"),
    [
        ("fakeclue", "fakevlm_verdict"),
        ("ddvqa", "fakevlm_verdict"),
        ("loki", "loki_yes_no"),
        ("sidset", "sida_class_head_else_text"),
        ("sofake_ood", "sofake_answer"),
        ("mmfr_eval", "fakereasoning_reparse"),
    ],
)
def test_every_benchmark_has_its_paper_preset(name, reparse):
    from fdrbench.resolve import make_task

    protocols = make_task(name).protocols()
    assert set(protocols) == {"strict", "paper"}
    assert protocols["paper"].settings()["reparse"].startswith(reparse)
