"""SIDA's modules and decision logic on a tiny configuration: shapes, positions, class, mask prompts, masks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from fdrbench.adapters.sida import prompts
from fdrbench.adapters.sida.config import IMAGE_TOKEN_INDEX, tiny_config
from fdrbench.adapters.sida.decision import mask_prompts, predictor_positions, read_classes
from fdrbench.adapters.sida.masks import binarize, encode_logits, upscale_logits
from fdrbench.adapters.sida.modeling import SidaModel
from fdrbench.adapters.sida.processing import SAM_MEAN, SAM_STD, longest_side_shape, sam_input
from fdrbench.types import decode_mask

from .helpers.sida_tiny import build_tokenizer, write_llama_tokenizer

IMG = IMAGE_TOKEN_INDEX


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return SidaModel(tiny_config()).eval()


def test_forward_splices_image_features_and_runs_every_part(model):
    config = model.config
    assert config.n_patches == 16  # (28 / 7)^2
    pixels = torch.randn(2, 3, 28, 28)
    with torch.no_grad():
        features = model.image_features(pixels)
        assert features.shape == (2, 16, 32)
        ids = torch.tensor([[1, 5, IMG, 6, 7], [1, IMG, 8, 9, 10]])
        embeds, attention = model.embed(ids, features)
        assert embeds.shape == (2, 5 + 15, 32) and attention.shape == (2, 20) and bool(attention.all())
        table = model.language_model.get_input_embeddings().weight
        assert torch.equal(embeds[0, :2], table[[1, 5]]) and torch.equal(embeds[0, 2:18], features[0])
        assert torch.equal(embeds[0, 18:], table[[6, 7]]) and torch.equal(embeds[1, 1:17], features[1])
        hidden = model.last_hidden(embeds, attention)
        assert hidden.shape == (2, 20, 32) and torch.isfinite(hidden).all()
        # the states are the normalised ones lm_head reads
        logits = model.language_model(inputs_embeds=embeds, attention_mask=attention).logits
        assert torch.allclose(model.language_model.lm_head(hidden), logits, atol=1e-5)
        sam = model.sam_embeddings(torch.randn(1, 3, 64, 64))
        assert sam.shape == (1, 16, 4, 4)
        low = model.decode_masks(sam, torch.randn(3, 16))
        assert low.shape == (3, 16, 16)
    with pytest.raises(ValueError, match=r"exactly one <image> placeholder, found \[0\]"):
        model.embed(torch.tensor([[1, 5, 6]]), features[:1])
    with pytest.raises(ValueError, match=r"found \[2\]"):
        model.embed(torch.tensor([[1, IMG, IMG]]), features[:1])


def test_each_mask_prompt_is_decoded_on_its_own(model):
    with torch.no_grad():
        sam = model.sam_embeddings(torch.randn(1, 3, 64, 64))
        prompts_ = torch.randn(2, 16)
        both = model.decode_masks(sam, prompts_)
        assert torch.allclose(both[1], model.decode_masks(sam, prompts_[1:])[0], atol=1e-6)


def test_heads_read_the_state_before_their_token():
    # ids: BOS a <image> b [CLS] c [SEG]; 4 patches, so positions after the image move by 3
    ids = torch.tensor([1, 5, IMG, 6, 40, 7, 41])
    assert predictor_positions(ids, 40, n_patches=4).tolist() == [6]  # before [CLS]: b at 3 -> 6
    assert predictor_positions(ids, 41, n_patches=4).tolist() == [8]  # before [SEG]: c at 5 -> 8
    assert predictor_positions(torch.tensor([40, 5, IMG, 40]), 40, n_patches=4).tolist() == [2 + 3]  # BOS slot never counts
    assert predictor_positions(torch.tensor([1, 40, 5, IMG, 6]), 40, n_patches=4).tolist() == [0]  # before the image: no shift
    assert predictor_positions(ids, 99, n_patches=4).tolist() == []


def crafted_model(hidden_size=32):
    """Heads whose arithmetic can be done by hand: cls logits = relu(h[0:3])."""
    torch.manual_seed(0)
    model = SidaModel(tiny_config()).eval()
    with torch.no_grad():
        first, last = model.cls_head[0], model.cls_head[3]
        first.weight.zero_()
        first.bias.zero_()
        last.weight.zero_()
        last.bias.zero_()
        for i in range(3):
            first.weight[i, i] = 1.0
            last.weight[i, i] = 1.0
    return model


def test_class_comes_from_the_last_cls_and_the_query_from_the_first():
    model = crafted_model()
    cls_id, seg_id = 40, 41
    # BOS [CLS] <image> x [CLS] y [SEG] z [SEG] with 16 patches (offset 15)
    ids = torch.tensor([1, cls_id, IMG, 5, cls_id, 6, seg_id, 7, seg_id])
    hidden = torch.zeros(9 + 15, 32)
    hidden[0, :3] = torch.tensor([5.0, 0.0, 0.0])  # before the first [CLS]: BOS
    hidden[3 + 15, :3] = torch.tensor([0.0, 1.0, 7.0])  # before the second [CLS]: x
    hidden[5 + 15] = torch.randn(32)  # before the first [SEG]: y
    hidden[7 + 15] = torch.randn(32)  # before the second [SEG]: z
    with torch.no_grad():
        readout = read_classes(model, hidden, ids, cls_id, seg_id)
        assert readout.cls_logits.tolist() == [[5.0, 0.0, 0.0], [0.0, 1.0, 7.0]]
        assert readout.class_index == 2 and readout.class_name == "tampered"
        norm = 1 + math.e + math.e**7
        assert readout.probs == pytest.approx([1 / norm, math.e / norm, math.e**7 / norm])
        assert readout.class_probs() == pytest.approx({"real": 1 / norm, "full_synthetic": math.e / norm, "tampered": math.e**7 / norm})
        assert readout.seg_positions.tolist() == [20, 22]

        prompts_ = mask_prompts(model, hidden, readout)
        # by hand: seg = projection of both [SEG] states; one query from the FIRST [CLS]'s logits
        seg = model.seg_projection(hidden[[20, 22]])
        query = model.cls_projection(torch.tensor([5.0, 0.0, 0.0]))
        attention = model.cls_seg_attention
        w_q, w_k, w_v = attention.in_proj_weight.chunk(3)
        b_q, b_k, b_v = attention.in_proj_bias.chunk(3)
        q, k, v = query @ w_q.T + b_q, seg @ w_k.T + b_k, seg @ w_v.T + b_v
        heads, width = attention.num_heads, 16 // attention.num_heads
        mixed = []
        for h in range(heads):
            part = slice(h * width, (h + 1) * width)
            weights = torch.softmax(k[:, part] @ q[part] / math.sqrt(width), dim=0)
            mixed.append(weights @ v[:, part])
        expected = seg + (torch.cat(mixed) @ attention.out_proj.weight.T + attention.out_proj.bias)
        assert torch.allclose(prompts_, expected, atol=1e-5)


def test_no_cls_means_no_class():
    model = crafted_model()
    readout = read_classes(model, torch.zeros(5 + 15, 32), torch.tensor([1, IMG, 5, 6, 7]), 40, 41)
    assert not readout.has_class and readout.cls_logits is None


def test_mask_logits_are_cropped_and_resized_then_thresholded_at_zero():
    # columns +1 +1 -1 -1 on a 4x4 grid; upsampled to 8x8, column 3 is 0.75 - 0.25 = +0.5, column 4 is -0.5
    low = torch.tensor([[1.0, 1.0, -1.0, -1.0]]).repeat(4, 1)[None]
    full = upscale_logits(low, resized=(8, 8), original=(8, 8), square=8)[0]
    assert full[0, 3].item() == pytest.approx(0.5) and full[0, 4].item() == pytest.approx(-0.5)
    assert binarize(full).tolist() == [[True] * 4 + [False] * 4] * 8
    left = upscale_logits(low, resized=(8, 4), original=(3, 5), square=8)[0]  # padding cropped away first
    assert left.shape == (3, 5) and binarize(left).all()
    rle = encode_logits(full)
    assert rle["size"] == [8, 8] and rle["counts"][:3] == [0, 4, 4]
    assert np.array_equal(decode_mask(rle), binarize(full))


def test_mask_encoding_round_trip_at_odd_sizes():
    rng = np.random.default_rng(3)
    for height, width in ((1, 1), (7, 13), (30, 40), (52, 33)):
        logits = torch.from_numpy(rng.normal(size=(height, width)).astype(np.float32))
        rle = encode_logits(logits)
        assert rle["size"] == [height, width] and sum(rle["counts"]) == height * width
        assert np.array_equal(decode_mask(rle), logits.numpy() > 0)


def test_sam_input_resizes_the_longest_side_normalises_and_pads():
    assert longest_side_shape(30, 40, 64) == (48, 64)
    assert longest_side_shape(33, 52, 64) == (41, 64)  # 33 * 64 / 52 = 40.6 -> 41
    assert longest_side_shape(1000, 1000, 1024) == (1024, 1024)
    image = Image.new("RGB", (40, 30), (200, 100, 50))
    item = sam_input(image, 64)
    assert item.pixels.shape == (3, 64, 64) and item.resized == (48, 64) and item.original == (30, 40)
    expected = (np.array([200, 100, 50], dtype=np.float32) - SAM_MEAN) / SAM_STD
    assert np.allclose(item.pixels[:, :48, :].reshape(3, -1).T, expected, atol=1e-5)
    assert not item.pixels[:, 48:, :].any()  # zero padding below the image


def test_prompts_follow_llava_v1_and_the_released_questions():
    text = prompts.conversation(prompts.question("sida", "train"), prompts.ANSWERS["tampered"])
    assert text.startswith("A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful,")
    assert "human's questions. USER: <im_start><image><im_end>\nCan you identify if this image is real, full synthetic, or tampered" in text
    assert text.endswith("if it is tampered. ASSISTANT: [CLS] The image is tampered [SEG]</s>")
    assert prompts.question("description", "train").endswith("Please mask the tampered regions if it is tampered and answer why.")
    assert "if the image is  tampered, ouput mask" in prompts.question("sida", "chat")
    assert prompts.question("sida", "Is it fake?") == "Is it fake?"


def test_tokenization_strips_spaces_around_added_tokens_as_the_released_tokenizer(tmp_path):
    from fdrbench.adapters.sida.loader import load_tokenizer

    tokenizer = load_tokenizer(write_llama_tokenizer(tmp_path))
    text = prompts.conversation(prompts.question("sida", "train"), prompts.ANSWERS["tampered"])
    ids = prompts.tokenize(tokenizer, text)
    pieces = [tokenizer.convert_ids_to_tokens(i) if i >= 0 else "<image>" for i in ids]
    assert pieces[0] == "<s>" and pieces.count("<image>") == 1 and "<s>" not in pieces[1:]
    assert pieces[-8:] == [":", "[CLS]", "▁The", "▁image", "▁is", "▁tampered", "[SEG]", "</s>"]
    at = pieces.index("<image>")
    assert pieces[at - 2 : at + 2] == [":", "<im_start>", "<image>", "<im_end>"]  # "USER: " loses its space
    assert "<0x0A>" not in pieces  # the newline after <im_end> is stripped too
    assert prompts.token_id(tokenizer, "[CLS]") == tokenizer.convert_tokens_to_ids("[CLS]")


def test_word_level_test_tokenizer_knows_every_prompt_word():
    tokenizer = build_tokenizer()
    for variant in prompts.QUESTIONS.values():
        for question in variant.values():
            ids = prompts.tokenize(tokenizer, prompts.conversation(question, prompts.ANSWERS["tampered"]))
            assert tokenizer.unk_token_id not in ids[1:]
    with pytest.raises(Exception, match=r"no single \[OBJ\] token"):
        prompts.token_id(tokenizer, "[OBJ]")
