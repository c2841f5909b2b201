"""The HF backend and adapters on tiny randomly initialised LLaVA and Qwen2-VL models (CPU).

Batching with left padding must give the answers of one-by-one generation; verdict probabilities
are checked on models turned into next-token tables whose logits at the verdict are set by hand.
"""

from __future__ import annotations

import math

import pytest
import torch
from PIL import Image

from fdrbench.adapters.fakevlm import FakeVLMDetector
from fdrbench.adapters.hf_lmm import HFLMMDetector
from fdrbench.backends.hf_inputs import chat_prompt, raw_prompt, strip_image_mark
from fdrbench.detector import RunContext
from fdrbench.errors import FdrbenchError
from fdrbench.task import Task
from fdrbench.tasks.fakeclue.paper import coin
from fdrbench.tasks.loki.paper import loki_label, loki_yes_no
from fdrbench.types import Sample

from .helpers.tiny_vlm import bigram, tiny_llava, tiny_qwen2vl

EOS = {"llava": "</s>", "qwen": "<|im_end|>"}
LAST = {"llava": ":", "qwen": "assistant"}  # the last prompt token of each chat template
MAKERS = {"llava": tiny_llava, "qwen": tiny_qwen2vl}


class Listed(Task):
    name = "listed"
    prompt = "Is this image real or fake ?"

    def __init__(self, label_space: str = "binary", **options):
        super().__init__(**options)
        self.label_space = label_space

    def samples(self, data_dir, split):
        return []


class YesNo(Listed):
    """Questions of both polarities, read with LOKI's rule."""

    def parse_answer(self, text, sample):
        return loki_label(loki_yes_no(text), sample.meta["asks_fake"])


def image(i: int) -> Image.Image:
    return Image.new("RGB", (30 + 13 * i, 28 + 9 * i), (40 * i % 255, 90, 200 - 20 * i))


def samples(n: int, questions: list[str] | None = None) -> list[Sample]:
    out = []
    for i in range(n):
        question = questions[i % len(questions)] if questions else None
        out.append(Sample(id=f"s{i}", label=i % 2, image=lambda i=i: image(i), question=question))
    return out


def detector(kind: str, model, processor, task: Task, **settings) -> HFLMMDetector:
    class Preloaded(HFLMMDetector):
        def load(self, device):
            return model, processor

    det = Preloaded(path=f"tiny-{kind}", **{"num_workers": 0, "max_new_tokens": 8, **settings})
    det.setup(RunContext(task=task, seed=3))
    return det


def script(kind: str, processor, verdict_row: dict[str, float]) -> None:
    """Answer "This image is <argmax of verdict_row> ." then stop."""
    model = processor.model
    eos = EOS[kind]
    table = {LAST[kind]: {"This": 5.0}, "This": {"image": 5.0}, "image": {"is": 5.0}, "is": verdict_row, ".": {eos: 5.0}}
    for word in verdict_row:
        table.setdefault(word, {".": 5.0})
    bigram(model, processor.tokenizer, table)


@pytest.fixture(params=["llava", "qwen"])
def tiny(request):
    model, processor = MAKERS[request.param]()
    processor.model = model  # handy for script()
    return request.param, model, processor


QUESTIONS = ["Is this image real or fake ?", "Does the photo looks real / fake ? answer with yes or no", "real ?"]


def test_batched_left_padded_generation_matches_one_by_one(tiny):
    kind, model, processor = tiny
    batch = samples(5, QUESTIONS)
    det = detector(kind, model, processor, Listed(), num_workers=2, gen_batch_size=2)
    together = det.predict(batch)
    det.num_workers = 0
    alone = [det.predict([s])[0] for s in batch]
    assert [p.raw_output for p in together] == [p.raw_output for p in alone]
    assert [p.n_tokens for p in together] == [p.n_tokens for p in alone]
    prompt_lengths = {p.extra["prompt_tokens"] for p in together}
    assert len(prompt_lengths) > 1, "the batch mixes prompt lengths, so left padding is exercised"
    for pred in together:
        assert pred.n_tokens == pred.extra["prompt_tokens"] + pred.extra["completion_tokens"]
        assert pred.extra["finish_reason"] in ("stop", "length")


def test_verdict_probability_on_a_crafted_logit_pattern(tiny):
    kind, model, processor = tiny
    script(kind, processor, {"fake": 2.0, "real": 1.0})
    det = detector(kind, model, processor, Listed(), verdict_words=["real", "fake"])
    (pred,) = det.predict(samples(1))
    assert pred.raw_output == "This image is fake ." and pred.label == 1 and pred.parse_ok
    assert pred.p_fake == pytest.approx(math.exp(2) / (math.exp(1) + math.exp(2)), abs=1e-5)
    site = pred.extra["verdict_site"]
    assert site["token_index"] == 3 and site["word"] == "fake" and site["token"] == "fake"
    vocab = len(processor.tokenizer)
    mass = (math.exp(1) + math.exp(2)) / (math.exp(1) + math.exp(2) + (vocab - 2) * math.exp(-8))
    assert site["candidate_mass"] == pytest.approx(mass, abs=1e-3)
    hotter = detector(kind, model, processor, Listed(), verdict_words=["real", "fake"], verdict_temperature=2.0)
    assert hotter.predict(samples(1))[0].p_fake == pytest.approx(math.exp(1) / (math.exp(0.5) + math.exp(1)), abs=1e-5)


def test_default_words_count_synonyms_of_each_verdict(tiny):
    kind, model, processor = tiny
    script(kind, processor, {"real": 3.0, "fake": 1.0, "synthetic": 2.0})
    (pred,) = detector(kind, model, processor, Listed()).predict(samples(1))
    assert pred.label == 0
    # 'synthetic' and 'generated' also state fake; 'yes'/'no' state nothing here and are left out
    z_fake = math.exp(1) + math.exp(2) + math.exp(-8)
    assert pred.p_fake == pytest.approx(z_fake / (z_fake + math.exp(3)), abs=1e-5)


def test_three_way_class_probabilities(tiny):
    kind, model, processor = tiny
    script(kind, processor, {"tampered": 3.0, "fake": 2.0, "real": 1.0, "synthetic": 0.0})
    (pred,) = detector(kind, model, processor, Listed("ternary")).predict(samples(1))
    assert pred.cls == "tampered" and pred.label == 1
    # 'full' starts "full synthetic" (and "full_synthetic"); like 'generated' it sits at the floor
    z = {"tampered": 3.0, "fake": 2.0, "real": 1.0, "synthetic": 0.0, "generated": -8.0, "full": -8.0}
    total = sum(math.exp(x) for x in z.values())
    assert pred.p_fake == pytest.approx(1 - math.exp(1) / total, abs=1e-6)
    named = total - math.exp(2)  # 'fake' names no class
    expected = {"real": math.exp(1) / named, "full_synthetic": (1 + 2 * math.exp(-8)) / named, "tampered": math.exp(3) / named}
    assert pred.class_probs == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(
    ("asks_fake", "expected"), [(True, math.exp(2) / (math.exp(2) + math.exp(0.5))), (False, math.exp(0.5) / (math.exp(2) + math.exp(0.5)))]
)
def test_yes_no_polarity_through_the_task(tiny, asks_fake, expected):
    kind, model, processor = tiny
    bigram(model, processor.tokenizer, {LAST[kind]: {"Yes": 2.0, "No": 0.5}, "Yes": {".": 5.0}, ".": {EOS[kind]: 5.0}})
    sample = Sample(id="q", label=1, image=lambda: image(1), question="Is this image generated by AI ?", meta={"asks_fake": asks_fake})
    (pred,) = detector(kind, model, processor, YesNo()).predict([sample])
    assert pred.raw_output == "Yes ." and pred.label == (1 if asks_fake else 0)
    assert pred.p_fake == pytest.approx(expected, abs=1e-5)


def test_unreadable_verdicts_and_images_are_recorded(tiny, tmp_path):
    kind, model, processor = tiny
    bigram(model, processor.tokenizer, {LAST[kind]: {"I": 5.0}, "I": {"think": 5.0}, "think": {".": 5.0}, ".": {EOS[kind]: 5.0}})
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    batch = [*samples(2), Sample(id="bad", label=1, image=broken)]
    preds = detector(kind, model, processor, Listed(), num_workers=2).predict(batch)
    assert [p.sample_id for p in preds] == ["s0", "s1", "bad"]
    assert preds[0].raw_output == "I think ." and not preds[0].parse_ok and preds[0].label is None
    assert preds[0].p_fake is None and preds[0].extra["p_fake_missing"] == "the answer states no verdict the parse rule can read"
    assert preds[2].error.startswith("DataError") and "not a readable image" in preds[2].error


def test_seeded_sampling_repeats(tiny):
    kind, model, processor = tiny
    batch = samples(3, QUESTIONS)
    det = detector(kind, model, processor, Listed(), do_sample=True, temperature=1.5)
    first = [p.raw_output for p in det.predict(batch)]
    again = [p.raw_output for p in det.predict(batch)]
    greedy = [p.raw_output for p in detector(kind, model, processor, Listed()).predict(batch)]
    assert first == again
    assert first != greedy


def test_prompt_styles():
    model, processor = tiny_llava()
    assert strip_image_mark("<image>\nIs it real?") == "Is it real?"
    assert chat_prompt(processor, "<image>Is it real ?") == "USER: <image> Is it real ? ASSISTANT:"
    assert chat_prompt(processor, "Is it real ?", "Be brief .").startswith("SYSTEM: Be brief . USER: <image> ")
    assert raw_prompt("<image>Does the image looks real/fake?", "<image>") == "<image>Does the image looks real/fake?"
    assert raw_prompt("Real or fake?", "<img>", "{image} Q: {prompt}") == "<img> Q: Real or fake?"
    with pytest.raises(FdrbenchError, match="raw_format"):
        raw_prompt("Real?", "<img>", "{question}")
    processor.chat_template = None
    with pytest.raises(FdrbenchError, match="no chat template"):
        chat_prompt(processor, "Real?")


def test_settings_are_checked():
    with pytest.raises(FdrbenchError, match="template"):
        HFLMMDetector(path="x", template="jinja")
    with pytest.raises(FdrbenchError, match="dtype"):
        HFLMMDetector(path="x", dtype="int8")
    with pytest.raises(FdrbenchError, match="positive temperature"):
        HFLMMDetector(path="x", do_sample=True, temperature=0)


@pytest.fixture
def saved_llava(tmp_path):
    model, processor = tiny_llava()
    bigram(
        model,
        processor.tokenizer,
        {
            "?": {"This": 5.0},
            "This": {"is": 5.0},
            "is": {"a": 5.0},
            "a": {"fake": 1.5, "real": 0.5},
            "fake": {"image": 5.0},
            "image": {".": 5.0},
            ".": {"</s>": 5.0},
        },
    )
    folder = tmp_path / "tiny-llava"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_load_from_folder_in_bfloat16_with_a_device_map(saved_llava):
    det = HFLMMDetector(
        path=str(saved_llava), dtype="bfloat16", device_map="cpu", num_workers=0, template="raw", prompt="<image>Is it real ?"
    )
    det.setup(RunContext(task=Listed()))
    assert det.model.dtype == torch.bfloat16 and det.name == "tiny-llava"
    (pred,) = det.predict(samples(1))
    assert pred.label == 1 and 0.5 < pred.p_fake < 1.0  # bf16 logits: the crafted value up to rounding
    described = det.describe()
    assert described["torch_dtype"] == "bfloat16" and described["device_map"] == "cpu" and described["template"] == "raw"
    identity = det.identity(Listed())
    assert set(identity["model"]) == {"folder_sha256"} and identity["model"] == identity["processor"]


def test_missing_weights_are_a_clear_error(tmp_path):
    det = HFLMMDetector(path=str(tmp_path / "nowhere"))
    with pytest.raises(FdrbenchError, match="cannot load model"):
        det.setup(RunContext(task=Listed()))


def test_fakevlm_protocol(saved_llava):
    det = FakeVLMDetector(path=str(saved_llava), processor=str(saved_llava), processor_revision=None, num_workers=0)
    det.setup(RunContext(task=Listed()))
    assert det.prompt_text(samples(1)[0]) == "<image>Does the image looks real/fake?"
    (pred,) = det.predict(samples(1))
    assert pred.raw_output == "This is a fake image ." and pred.label == 1 and pred.parse_ok
    assert pred.p_fake == pytest.approx(math.exp(1.5) / (math.exp(0.5) + math.exp(1.5)), abs=1e-5)
    described = det.describe()
    assert described["template"] == "raw" and described["prompt"] == "<image>Does the image looks real/fake?"
    assert described["model_class"] == "LlavaForConditionalGeneration" and described["generation"]["max_new_tokens"] == 256
    defaults = FakeVLMDetector()
    assert defaults.spec.path == "lingcco/fakeVLM"
    assert defaults.spec.processor_source == ("llava-hf/llava-1.5-7b-hf", "a272c74")


def test_fakevlm_unparsed_answer_gets_a_keyed_coin(saved_llava):
    det = FakeVLMDetector(path=str(saved_llava), processor=str(saved_llava), processor_revision=None, num_workers=0)
    det.setup(RunContext(task=Listed()))
    bigram(det.model, det.tokenizer, {"?": {"I": 5.0}, "I": {"think": 5.0}, "think": {".": 5.0}, ".": {"</s>": 5.0}})
    preds = det.predict(samples(4))
    assert [p.label for p in preds] == [coin(f"s{i}") for i in range(4)]
    assert all(not p.parse_ok and p.failed and "coin" in p.extra["verdict_rule"] for p in preds)
