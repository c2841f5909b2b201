"""Paper protocols reproduce the published figures from constructed predictions, and their parse and failure rules."""

from __future__ import annotations

import pytest

from fdrbench.record import Truth
from fdrbench.scoring import ScoreSettings
from fdrbench.task import Task
from fdrbench.tasks.fakeclue.paper import coin, fakevlm_paper, fakevlm_verdict
from fdrbench.tasks.loki.paper import loki_paper
from fdrbench.tasks.mmfr import MMFREval
from fdrbench.tasks.mmfr.loader import MMFR_SETS
from fdrbench.tasks.mmfr.paper import fakereasoning_reparse
from fdrbench.tasks.sidset.paper import sidset_paper
from fdrbench.tasks.sofake.paper import sofake_paper
from fdrbench.types import Prediction, encode_mask

from .helpers.records import score_records

NO_BOOT = ScoreSettings(n_boot=0)


class PaperTask(Task):
    """A task shell around one paper protocol, as the dataset modules wire them."""

    name = "paper_shell"
    group_keys = ("category",)

    def __init__(self, protocol, label_space="binary"):
        super().__init__()
        self._protocol = protocol
        self.label_space = label_space

    def samples(self, data_dir, split):
        return []

    def protocols(self):
        return {"paper": self._protocol}


def record(sid, truth, raw=None, **fields):
    truth = truth if isinstance(truth, dict) else {"label": truth}
    return {"sample_id": sid, "label": fields.pop("label", None), "raw_output": raw, "truth": truth, **fields}


# --------------------------------------------------------------------------- FakeVLM on FakeClue


def fakeclue_records():
    """FakeVLM's reported FakeClue confusion, real positive: TP 1760, FN 48, FP 20, TN 3168."""
    recs = []
    plan = [(0, "real", 1760), (0, "fake", 48), (1, "real", 20), (1, "fake", 3168)]
    for truth, said, count in plan:
        for k in range(count):
            answer = f"This image is {said}. The lighting looks {'natural' if said == 'real' else 'odd'}."
            if k % 3 == 0:  # the HF script's output echoes the question, whose 'real or fake' must be skipped
                answer = "USER: Does the image look real/fake? ASSISTANT: " + answer
            recs.append(record(f"{truth}-{said}-{k}", truth, answer))
    return recs


def test_fakevlm_confusion_matrix_gives_the_printed_accuracy_and_f1():
    block = score_records(fakeclue_records(), PaperTask(fakevlm_paper()), settings=NO_BOOT)["paper"]
    assert block["n"] == 4996 and block["n_failed"] == 0
    assert round(100 * block["overall"]["accuracy"]["value"], 1) == 98.6
    assert round(100 * block["overall"]["f1"]["value"], 1) == 98.1  # real is the positive class
    assert block["protocol"]["positive_class"] == "real"
    # with fake as the positive class the same predictions give 98.9, not the printed figure
    assert block["overall"]["f1"]["value"] != pytest.approx(2 * 3168 / (2 * 3168 + 48 + 20))


def test_fakevlm_fallback_is_a_deterministic_coin_counted_as_failure():
    pred = Prediction(sample_id="s1", raw_output="I am not sure about this one")
    first = fakevlm_verdict(pred)
    assert first.label == coin("s1") and not first.parse_ok
    assert fakevlm_verdict(pred).label == first.label  # same on every re-score
    recs = fakeclue_records() + [record(f"odd-{k}", k % 2, "Hard to say") for k in range(4)]
    block = score_records(recs, PaperTask(fakevlm_paper()), settings=NO_BOOT)["paper"]
    assert block["n_failed"] == 4 and block["overall"]["failure_rate"]["value"] == pytest.approx(4 / 5000)
    coin_right = sum(coin(f"odd-{k}") == k % 2 for k in range(4))
    assert block["overall"]["accuracy"]["value"] == pytest.approx((4928 + coin_right) / 5000)
    # a detector with no text keeps its own verdict
    kept = fakevlm_verdict(Prediction(sample_id="c", label=1, p_fake=0.8))
    assert kept.label == 1 and kept.parse_ok


# --------------------------------------------------------------------------- FakeReasoning on MMFR

TABLE_II = {  # FakeReasoning row of Table II, accuracy in % per generator
    "stablediffusion": 99.20,
    "dalle3": 91.28,
    "if": 99.10,
    "midjourney": 87.68,
    "kandinsky": 96.90,
    "pixart": 93.49,
    "flux": 87.16,
    "gpt4o": 97.80,
    "styleganxl": 90.00,
    "gigagan": 98.00,
}


def reasoning_answer(verdict: str) -> str:
    return f"<REASONING>The texture looks {verdict}.</REASONING><CONCLUSION>This image is {verdict}.</CONCLUSION>"


def test_fakereasoning_per_generator_table_gives_dm_gan_avg():
    recs = []
    for gen in MMFR_SETS:
        right = round(TABLE_II[gen] * 100)  # of 10,000 images per set
        for k in range(10_000):
            truth = k % 2
            said = truth if k < right else 1 - truth
            recs.append(record(f"{gen}/{k:05d}", {"label": truth, "group": {"generator": gen}}, reasoning_answer(["real", "fake"][said])))
    block = score_records(recs, MMFREval(), ["paper"], NO_BOOT)["paper"]
    for gen, acc in TABLE_II.items():
        assert block["groups"]["generator"][gen]["accuracy"]["value"] == pytest.approx(acc / 100)
    agg = {name: round(100 * block["aggregates"][name]["accuracy"]["value"], 2) for name in ("DM", "GAN", "AVG")}
    assert agg == {"DM": 94.08, "GAN": 94.00, "AVG": 94.06}  # Table III's FakeReasoning row


def test_mmfr_paper_excludes_failures_and_scores_the_reasoning():
    ref = {"text": "The texture looks fake."}
    recs = [record(f"ok{k}", {"label": 1, "reference": ref, "group": {"generator": "flux"}}, reasoning_answer("fake")) for k in range(6)]
    recs += [
        # no REASONING tag: a failure even though the verdict is there
        record("f1", {"label": 1, "reference": ref, "group": {"generator": "flux"}}, "<CONCLUSION>This image is fake.</CONCLUSION>"),
        # lower-case verdict: the rule is case-sensitive
        record(
            "f2",
            {"label": 0, "reference": ref, "group": {"generator": "flux"}},
            "<REASONING>x</REASONING><CONCLUSION>this image is real.</CONCLUSION>",
        ),
    ]
    block = score_records(recs, MMFREval(), ["paper"], NO_BOOT)["paper"]
    assert block["n_failed"] == 2 and block["n_scored"] == 6
    assert block["overall"]["failure_rate"]["value"] == pytest.approx(2 / 8)
    assert block["overall"]["accuracy"]["value"] == 1.0
    assert block["overall"]["bleu1"]["value"] == pytest.approx(1.0) and block["overall"]["rouge_l"]["value"] == pytest.approx(1.0)
    assert block["overall"]["css"]["value"] is None  # no CLIP folder given: unavailable, not 0
    assert "clip" in block["protocol"]["options"]["css_encoder"] and block["protocol"]["options"]["css_max_tokens"] == 77
    parsed = fakereasoning_reparse(Prediction(sample_id="x", raw_output=reasoning_answer("real")), Truth(label=0))
    assert parsed.label == 0 and parsed.explanation == "The texture looks real." and parsed.parse_ok


def test_mmfr_task_option_sets_the_clip_folder(monkeypatch):
    task = MMFREval(clip_path="/models/clip-vit-large-patch14-336")
    assert task.protocols()["paper"].options["css_model"] == "/models/clip-vit-large-patch14-336"
    monkeypatch.setenv("FDRBENCH_CLIP_PATH", "/elsewhere/clip")
    assert MMFREval().protocols()["paper"].options["css_model"] == "/elsewhere/clip"
    assert task.protocols()["paper"].options["css_model"] == "/models/clip-vit-large-patch14-336"
    assert set(task.protocols()) == {"strict", "paper"}
    assert "bleu4" in task.protocols()["strict"].metrics and "giou" not in task.protocols()["strict"].metrics


# --------------------------------------------------------------------------- SIDA on SID-Set


def three_way_records(matrix, answer=lambda cls: f"[CLS] The image is {cls.replace('_', ' ')}."):
    classes = ("real", "full_synthetic", "tampered")
    recs = []
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            for k in range(count):
                truth = {"label": int(i > 0), "cls": classes[i]}
                recs.append(record(f"{i}{j}-{k:04d}", truth, answer(classes[j])))
    return recs


def per_class(block):
    names = ("real", "full_synthetic", "tampered")
    return [round(100 * block["overall"][f"{c}_{m}"]["value"], 1) for m in ("recall", "f1") for c in names]


def test_sida_7b_rows_give_the_printed_macro_f1():
    # a confusion matrix (1,000 images per class) consistent with every per-class figure SIDA-7B printed
    matrix = [[891, 11, 98], [0, 987, 13], [68, 5, 927]]
    block = score_records(three_way_records(matrix), PaperTask(sidset_paper(), "ternary"), settings=NO_BOOT)["paper"]
    assert per_class(block) == [89.1, 98.7, 92.7, 91.0, 98.6, 91.0]
    assert round(100 * block["overall"]["macro_f1"]["value"], 1) == 93.5  # printed Overall F1
    assert round(100 * block["overall"]["macro_recall"]["value"], 1) == 93.5  # printed Overall Acc
    assert block["details"]["macro_f1"]["confusion_matrix"] == [[*row, 0] for row in matrix]


def test_sida_13b_row_is_inconsistent_as_flagged():
    # any matrix matching the 13B per-class rows has macro F1 93.7; the paper printed 93.5
    matrix = [[896, 0, 104], [10, 985, 5], [60, 11, 929]]
    block = score_records(three_way_records(matrix), PaperTask(sidset_paper(), "ternary"), settings=NO_BOOT)["paper"]
    assert per_class(block) == [89.6, 98.5, 92.9, 91.1, 98.7, 91.2]
    assert round(100 * block["overall"]["macro_f1"]["value"], 1) == 93.7


def test_sida_scores_a_class_absent_from_truth_and_predictions_f1_zero():
    # no full-synthetic image and none predicted: test.py's zero division makes its F1 (and
    # accuracy) 0, and the overall figures average all three classes
    matrix = [[8, 0, 2], [0, 0, 0], [1, 0, 9]]
    block = score_records(three_way_records(matrix), PaperTask(sidset_paper(), "ternary"), settings=NO_BOOT)["paper"]
    real_f1, tampered_f1 = 2 * 8 / (2 * 8 + 1 + 2), 2 * 9 / (2 * 9 + 2 + 1)
    assert block["overall"]["full_synthetic_f1"]["value"] == 0.0 and block["overall"]["full_synthetic_recall"]["value"] == 0.0
    assert block["overall"]["macro_f1"]["value"] == pytest.approx((real_f1 + 0.0 + tampered_f1) / 3)
    assert block["overall"]["macro_recall"]["value"] == pytest.approx((0.8 + 0.0 + 0.9) / 3)
    assert block["details"]["macro_f1"]["zero_division"] == 0.0
    assert block["details"]["macro_f1"]["per_class"]["full_synthetic"]["f1"] == 0.0


def test_sida_class_comes_from_the_class_head_also_when_text_was_generated():
    tampered = {"label": 1, "cls": "tampered"}
    recs = [
        # generate mode: the head said tampered, the text says real; SIDA's evaluate takes the head
        record("g1", tampered, "[CLS] The image is real", cls="tampered", extra={"class_source": "head"}),
        # a text-only detector is read from its text
        record("g2", tampered, "[CLS] The image is real", cls="tampered", extra={"class_source": "text"}),
        record("g3", tampered, "[CLS] The image is tampered [SEG]"),
    ]
    paper = score_records(recs, PaperTask(sidset_paper(), "ternary"), settings=NO_BOOT)["paper"]
    assert paper["overall"]["ternary_accuracy"]["value"] == pytest.approx(2 / 3)
    assert paper["protocol"]["reparse"] == "sida_class_head_else_text"


def test_sida_localization_on_every_tampered_image_at_1024():
    truth = {"label": 1, "cls": "tampered", "mask": encode_mask([[1, 1], [0, 0]])}
    recs = [
        # predicted real, yet its mask is scored (SIDA scores every ground-truth tampered image)
        record("t1", truth, "[CLS] The image is real.", mask=encode_mask([[1, 0], [0, 0]])),
        record("t2", truth, "[CLS] The image is tampered.", mask=encode_mask([[1, 1], [0, 0]])),
    ]
    block = score_records(recs, PaperTask(sidset_paper(), "ternary"), settings=NO_BOOT)["paper"]
    assert block["overall"]["giou"]["value"] == pytest.approx((0.5 + 1.0) / 2)
    assert block["overall"]["ciou"]["value"] == pytest.approx(3 / 4)
    assert block["details"]["pixel_f1"]["resolution"] == "longest side 1024 px"


def test_sofake_answer_format():
    recs = three_way_records([[2, 0, 0], [0, 1, 1], [0, 0, 2]], answer=lambda cls: f"<think>...</think><answer>{cls.upper()}</answer>")
    recs.append(record("bad", {"label": 1, "cls": "tampered"}, "no answer tag"))
    block = score_records(recs, PaperTask(sofake_paper(), "ternary"), settings=NO_BOOT)["paper"]
    assert block["n_failed"] == 1
    assert block["overall"]["ternary_accuracy"]["value"] == pytest.approx(5 / 7)
    assert block["overall"]["accuracy"]["value"] == pytest.approx(6 / 7)  # binary: real vs any fake


# --------------------------------------------------------------------------- LOKI


def test_loki_total_weights_categories_by_fake_questions():
    def answers(cat, truth, right, wrong, asks_fake=True):
        out = []
        for k in range(right + wrong):
            is_fake = truth == 1
            says_yes = (is_fake == asks_fake) if k < right else (is_fake != asks_fake)
            question = "Is this image AI-generated?" if asks_fake else "Is this a real photograph?"
            t = {"label": truth, "group": {"category": cat}, "question": question}
            out.append(record(f"{cat}-{truth}-{k}", t, "Yes." if says_yes else "No, it is not."))
        return out

    recs = answers("animal", 1, 5, 1) + answers("animal", 0, 1, 1) + answers("doc", 1, 2, 0, asks_fake=False) + answers("doc", 0, 1, 3)
    protocol = loki_paper(asks_fake=lambda truth: "AI-generated" in truth.question)
    block = score_records(recs, PaperTask(protocol), settings=NO_BOOT)["paper"]
    animal = block["groups"]["category"]["animal"]["balanced_accuracy"]["value"]
    doc = block["groups"]["category"]["doc"]["balanced_accuracy"]["value"]
    assert animal == pytest.approx((5 / 6 + 1 / 2) / 2) and doc == pytest.approx((1 + 1 / 4) / 2)
    # 6 fake-image questions in animal, 2 in doc
    assert block["aggregates"]["total"]["balanced_accuracy"]["value"] == pytest.approx((6 * animal + 2 * doc) / 8)
    assert block["aggregate_members"]["total"] == ["animal", "doc"]
    assert block["protocol"]["aggregates"]["total"]["weighting"] == "fakes"
