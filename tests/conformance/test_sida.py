"""SIDA's prompt ids and image inputs (transformers 5) against transformers 4.31.0 and OpenCV, the authors' stack.

The tokenizer folders are SIDA-7B's (LISA's SentencePiece tokenizer with the real LLaMA vocabulary,
``[SEG]``, ``<im_start>``, ``<im_end>`` and ``[CLS]`` added, the checkpoint's ``llava`` config.json
beside it), with ``legacy`` true and false; the reference is ``test.py``'s slow tokenizer. Images are
decoded by OpenCV there (``cv2.imread``: EXIF orientation applied, BGR to RGB).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fdrbench.adapters.sida import prompts
from fdrbench.adapters.sida.config import IMAGE_TOKEN_INDEX
from fdrbench.adapters.sida.loader import load_tokenizer
from fdrbench.adapters.sida.processing import clip_pixels, clip_processor, sam_input, upright
from fdrbench.types import open_image


@pytest.fixture(scope="module")
def tokenizers(fixtures, manifest):
    return {variant: load_tokenizer(fixtures / "sida" / variant) for variant in manifest["tokenizer_folders"]}


@pytest.fixture(scope="module")
def decoded(fixtures, manifest):
    """Each image as the SIDA adapter hands it to the processors (EXIF applied, as OpenCV does)."""
    return {name: upright(open_image(fixtures / "images" / file)) for name, file in manifest["images"].items()}


def test_prompt_ids_are_those_of_4_31_0(tokenizers, manifest, ref_sida):
    for variant, tokenizer in tokenizers.items():
        for name, text in manifest["prompts"]["sida"].items():
            assert prompts.tokenize(tokenizer, text) == ref_sida[f"{variant}/{name}"].tolist(), (variant, name)
        cls_seg = [prompts.token_id(tokenizer, prompts.CLS), prompts.token_id(tokenizer, prompts.SEG)]
        assert cls_seg == ref_sida[f"{variant}/cls_seg_ids"].tolist()


def test_images_decode_as_opencv_decodes_them(decoded, ref_sida):
    for name, image in decoded.items():
        np.testing.assert_array_equal(np.asarray(image), ref_sida[f"decoded/{name}"], err_msg=name)


def test_clip_and_sam_pixel_values_are_those_of_4_31_0(fixtures, decoded, ref_sida):
    processor = clip_processor(fixtures / "sida" / "clip")
    for name, image in decoded.items():
        np.testing.assert_array_equal(clip_pixels(processor, [image])[0], ref_sida[f"clip/{name}"], err_msg=name)
        np.testing.assert_array_equal(sam_input(image, 1024).pixels, ref_sida[f"sam/{name}"], err_msg=name)


def test_attention_masks_cover_every_text_and_image_token(tokenizers, manifest):
    """test.py masks only padding (``input_ids != pad``); one image, no padding: every position attends."""
    from fdrbench.adapters.sida.config import tiny_config
    from fdrbench.adapters.sida.modeling import SidaModel

    model = SidaModel(tiny_config(vocab_size=32004)).eval()
    text = manifest["prompts"]["sida"]["sida/train/forced"]
    for tokenizer in tokenizers.values():
        ids = torch.tensor([prompts.tokenize(tokenizer, text)] * 2)
        assert (ids == IMAGE_TOKEN_INDEX).sum(dim=1).tolist() == [1, 1]
        features = torch.zeros(2, 9, model.config.llm.hidden_size)
        with torch.no_grad():
            _, attention = model.embed(ids, features)
        assert attention.tolist() == [[1] * (ids.shape[1] - 1 + 9)] * 2
