"""Prompt templates, tokenisation with the image placeholder, label masking, preprocessing, training
records, and the FACL reconstruction."""

from __future__ import annotations

import json
import math

import pytest
import torch
from PIL import Image

from fdrbench.adapters.fakereasoning.config import IGNORE_INDEX, IMAGE_TOKEN_INDEX
from fdrbench.adapters.fakereasoning.conversation import (
    PAPER_PROMPT,
    inference_prompt,
    template,
    tokenize_with_image,
    training_example,
    verdict_of_answer,
)
from fdrbench.adapters.fakereasoning.data import CoTDataset, collate, find_annotations, read_records
from fdrbench.adapters.fakereasoning.facl import cross_modal, facl_loss, pooled_reasoning, supervised_contrastive
from fdrbench.adapters.fakereasoning.objective import lm_loss, shift_spans
from fdrbench.adapters.fakereasoning.processing import ImageProcessor, expand_to_square, mean_colour
from fdrbench.adapters.fakereasoning.tiny import tiny_config
from fdrbench.errors import DataError, FdrbenchError

from .conftest import first_record_conversation

LLAVA_V1_PROMPT = (
    "A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, detailed, "
    "and polite answers to the human's questions. USER: <image>\nIs this image real or fake? Please describe the image, "
    "reasoning step-by-step and conclude with 'this image is real' or 'this image is fake'. ASSISTANT:"
)


def test_inference_prompt_is_the_released_one():
    assert inference_prompt(PAPER_PROMPT, template("llava_v1")) == LLAVA_V1_PROMPT
    vicuna = template("vicuna_v1").render([("USER", "hi"), ("ASSISTANT", "yo"), ("USER", "again"), ("ASSISTANT", None)])
    assert vicuna == (
        "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, "
        "and polite answers to the user's questions. USER: hi ASSISTANT: yo</s>USER: again ASSISTANT:"
    )
    with pytest.raises(FdrbenchError, match="unknown conversation template"):
        template("chatml")


def test_image_placeholder_replaces_the_tag_with_one_bos(tokenizer):
    ids = tokenize_with_image("USER: <image>\nhello ASSISTANT:", tokenizer)
    assert ids.count(IMAGE_TOKEN_INDEX) == 1 and ids.count(tokenizer.bos_token_id) == 1 and ids[0] == tokenizer.bos_token_id
    head = tokenizer("USER: ").input_ids
    tail = tokenizer("\nhello ASSISTANT:").input_ids[1:]
    assert ids == head + [IMAGE_TOKEN_INDEX] + tail


def test_only_the_answer_and_its_eos_are_supervised(tokenizer):
    conv = first_record_conversation()
    example = training_example(conv, tokenizer, template("vicuna_v1"))
    assert not example.mismatch
    supervised = [t for t, lab in zip(example.input_ids, example.labels, strict=True) if lab != IGNORE_INDEX]
    assert supervised == example.input_ids[-len(supervised) :]
    assert supervised[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(supervised, skip_special_tokens=True).strip() == conv[1]["value"]
    start, stop = example.reasoning_span
    reasoning = tokenizer.decode(example.input_ids[start:stop]).strip()
    assert reasoning == "From low-level perspective: smooth. From high-level perspective: odd."


def test_conversation_errors_name_the_record(tokenizer):
    with pytest.raises(DataError, match="record r7: turn 1: turns must alternate"):
        training_example([{"from": "human", "value": "a"}, {"from": "human", "value": "b"}], tokenizer, template("vicuna_v1"), "r7")
    with pytest.raises(DataError, match="needs a human turn and a gpt answer"):
        training_example([{"from": "human", "value": "a"}], tokenizer, template("vicuna_v1"), "r8")


def test_label_is_read_from_the_conclusion_as_released():
    assert verdict_of_answer("<CONCLUSION> This image is fake. </CONCLUSION>") == 1
    assert verdict_of_answer("<CONCLUSION> This image is real. </CONCLUSION>") == 0
    assert verdict_of_answer("<CONCLUSION> unsure </CONCLUSION>") == 0
    assert verdict_of_answer("This image is fake.") is None


def test_padding_uses_the_clip_mean_colour_and_centres_the_image():
    config = tiny_config(64)
    assert mean_colour(config) == (122, 116, 104)
    wide = Image.new("RGB", (40, 20), (255, 0, 0))
    square = expand_to_square(wide, mean_colour(config))
    assert square.size == (40, 40)
    assert square.getpixel((0, 0)) == (122, 116, 104) and square.getpixel((20, 20)) == (255, 0, 0)
    assert square.getpixel((20, 9)) == (122, 116, 104) and square.getpixel((20, 10)) == (255, 0, 0)
    pixels = ImageProcessor(config)([wide, Image.new("L", (28, 28), 255)])
    assert pixels.shape == (2, 3, 28, 28)
    white = (1.0 - torch.tensor(config.image_mean)) / torch.tensor(config.image_std)
    assert torch.allclose(pixels[1, :, 5, 5], white, atol=1e-4)
    padded_corner = (torch.tensor([122, 116, 104]) / 255 - torch.tensor(config.image_mean)) / torch.tensor(config.image_std)
    assert torch.allclose(pixels[0, :, 0, 0], padded_corner, atol=2e-2)


def write_annotations(root, records):
    (root / "img").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8)).save(root / "img" / "a.png")
    path = root / "forgery_reasoning_cot.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def test_training_records_are_checked_before_training(tmp_path):
    conv = first_record_conversation()
    path = write_annotations(tmp_path, [{"id": "ok", "image": "img/a.png", "conversations": conv}])
    (record,) = read_records(path)
    assert record.label == 1 and record.image == (tmp_path / "img" / "a.png").resolve()
    bad_cases = [
        ({"id": "x", "image": "../outside.png", "conversations": conv}, "outside the data folder"),
        ({"id": "x", "image": "img/missing.png", "conversations": conv}, "not found"),
        ({"id": "x", "image": "img/a.png", "conversations": [conv[0], {"from": "gpt", "value": "no tag"}]}, "no <CONCLUSION>"),
        ({"id": "x", "image": "img/a.png"}, "'conversations' list"),
    ]
    for item, message in bad_cases:
        path = write_annotations(tmp_path, [item])
        with pytest.raises(DataError, match=message) as err:
            read_records(path)
        assert "record x" in str(err.value) and "forgery_reasoning_cot.json" in str(err.value)


def test_annotations_are_found_in_split_root_or_dataset_folders(tmp_path):
    write_annotations(tmp_path / "a" / "dataset", [])
    assert find_annotations(tmp_path / "a", "train") == tmp_path / "a" / "dataset" / "forgery_reasoning_cot.json"
    write_annotations(tmp_path / "b", [])
    assert find_annotations(tmp_path / "b", "train") == tmp_path / "b" / "forgery_reasoning_cot.json"
    write_annotations(tmp_path / "c", [])
    write_annotations(tmp_path / "c" / "train", [])
    assert find_annotations(tmp_path / "c", "train") == tmp_path / "c" / "train" / "forgery_reasoning_cot.json"
    explicit = find_annotations(tmp_path / "empty", None, str(tmp_path / "b" / "forgery_reasoning_cot.json"))
    assert explicit == tmp_path / "b" / "forgery_reasoning_cot.json"
    with pytest.raises(DataError, match="no forgery_reasoning_cot.json"):
        find_annotations(tmp_path / "empty", "train")


def test_demo_training_split_reads_as_mmfr_training_data(demo_root, tokenizer):
    path = find_annotations(demo_root, "train")
    records = read_records(path)
    assert len(records) == 360 and {r.label for r in records} == {0, 1}
    dataset = CoTDataset(records[:2], tokenizer, ImageProcessor(tiny_config(len(tokenizer))), template("vicuna_v1"))
    batch = collate([dataset[0], dataset[1]])
    assert batch["pixel_values"].shape == (2, 3, 28, 28) and batch["n_mismatch"] == 0
    assert batch["forgery_labels"].tolist() == [r.label for r in records[:2]]
    assert all(span is not None for span in batch["reasoning_spans"])


def test_lm_loss_is_the_mean_over_supervised_next_tokens():
    logits = torch.zeros(1, 3, 4)
    logits[0, 0, 2] = math.log(3.0)  # p(next = 2) = 3 / 6
    labels = torch.tensor([[IGNORE_INDEX, 2, IGNORE_INDEX]])
    assert math.isclose(float(lm_loss(logits, labels)), math.log(2.0), rel_tol=1e-6)
    assert float(lm_loss(logits, torch.full((1, 3), IGNORE_INDEX))) == 0.0


def test_reasoning_spans_shift_past_the_image_tokens():
    assert shift_spans([(10, 12), None, (1, 2)], [(3, 7), (0, 4), (5, 9)]) == [(13, 15), None, (1, 2)]


def test_supervised_contrastive_matches_a_hand_computation():
    feats = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([1, 1, 0])
    t = 0.5
    # anchors 0 and 1 each have one positive (similarity 1) among {positive 1, negative 0}; anchor 2 none
    expected = -math.log(math.exp(1 / t) / (math.exp(1 / t) + math.exp(0.0)))
    assert math.isclose(float(supervised_contrastive(feats, labels, t)), expected, rel_tol=1e-6)
    assert float(supervised_contrastive(feats, torch.tensor([0, 1, 2]), t)) == 0.0


def test_cross_modal_term_prefers_matching_pairs():
    images = torch.eye(3)
    assert float(cross_modal(images, images, 0.1)) < float(cross_modal(images, images.roll(1, 0), 0.1))
    expected = -math.log(math.exp(10) / (math.exp(10) + 2))
    assert math.isclose(float(cross_modal(images, images, 0.1)), expected, abs_tol=1e-7)


def test_facl_pools_the_reasoning_tokens():
    hidden = torch.arange(2 * 5 * 2, dtype=torch.float32).reshape(2, 5, 2)
    pooled, valid = pooled_reasoning(hidden, [(1, 3), None])
    assert valid.tolist() == [True, False] and pooled[0].tolist() == [3.0, 4.0]  # mean of rows 1 and 2: [2, 3] and [4, 5]
    images = torch.randn(2, 4, 2, requires_grad=True)
    loss = facl_loss(images, hidden, [(1, 3), (0, 2)], torch.tensor([1, 1]))
    loss.backward()
    assert math.isfinite(loss.item()) and images.grad.abs().sum() > 0
