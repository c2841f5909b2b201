"""FakeReasoning's prompt ids, CPM ids and pixels (transformers 5) against transformers 4.37.2, the authors' version.

The tokenizer folders are LLaVA-1.5-13B's (SentencePiece ``tokenizer.model`` with the real LLaMA
vocabulary), with ``legacy`` true and false; the reference is the slow tokenizer LLaVA's builder
loads (``use_fast=False``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fdrbench.adapters.fakereasoning.config import (
    IMAGE_TOKEN_INDEX,
    RELEASED_FAKE_ID,
    RELEASED_PATTERN_IDS,
    RELEASED_REAL_ID,
    FakeReasoningConfig,
)
from fdrbench.adapters.fakereasoning.conversation import tokenize_with_image
from fdrbench.adapters.fakereasoning.cpm import cpm_ids, find_positions
from fdrbench.adapters.fakereasoning.pretrained import load_tokenizer
from fdrbench.adapters.fakereasoning.processing import ImageProcessor
from fdrbench.types import open_image

#: the released model's settings (LLaVA-1.5-13B width, CLIP ViT-L/14-336 preprocessing)
RELEASED = FakeReasoningConfig(llm={"hidden_size": 5120, "vocab_size": 32000})


@pytest.fixture(scope="module")
def tokenizers(fixtures, manifest):
    return {variant: load_tokenizer(fixtures / "fakereasoning" / variant) for variant in manifest["tokenizer_folders"]}


def test_prompt_ids_are_those_of_4_37_2(tokenizers, manifest, ref_fakereasoning):
    prompt = manifest["prompts"]["fakereasoning"]["prompt"]
    for variant, tokenizer in tokenizers.items():
        ids = tokenize_with_image(prompt, tokenizer)
        assert ids == ref_fakereasoning[f"{variant}/prompt_ids"].tolist(), variant
        assert ids.count(IMAGE_TOKEN_INDEX) == 1


def test_cpm_ids_are_the_authors_eight_and_found_after_a_space_or_a_newline(tokenizers, manifest, ref_fakereasoning):
    texts = manifest["prompts"]["fakereasoning"]
    for variant, tokenizer in tokenizers.items():
        ids = cpm_ids(tokenizer, RELEASED)
        assert ids.pattern == RELEASED_PATTERN_IDS and (ids.real_id, ids.fake_id) == (RELEASED_REAL_ID, RELEASED_FAKE_ID)
        assert ids.matches_released()
        assert [ids.real_id, ids.fake_id] == ref_fakereasoning[f"{variant}/word_ids"].tolist()
        # 4.37.2 spells the text with the leading "▁<" the pattern leaves out
        assert ref_fakereasoning[f"{variant}/cpm_text_ids"].tolist()[1:] == list(RELEASED_PATTERN_IDS)
        for number, answer in enumerate(texts["answers"]):
            generated = ref_fakereasoning[f"{variant}/answer{number}_ids"]
            assert tokenizer(answer, add_special_tokens=False).input_ids == generated.tolist()
            position = find_positions(torch.tensor([generated.tolist()]), ids.pattern)[0].item()
            assert generated[position] == (RELEASED_FAKE_ID if "fake" in answer else RELEASED_REAL_ID), answer


def test_pixel_values_are_those_of_4_37_2(fixtures, manifest, ref_fakereasoning):
    processor = ImageProcessor(RELEASED)
    for name, file in manifest["images"].items():
        ours = processor([open_image(fixtures / "images" / file)])[0].numpy()
        np.testing.assert_array_equal(ours, ref_fakereasoning[f"pixels/{name}"], err_msg=name)


def test_attention_masks_cover_every_text_and_image_token(tokenizers, manifest):
    """LLaVA's evaluation generates one image at a time without padding: every position attends."""
    from fdrbench.adapters.fakereasoning.modeling import FakeReasoningModel
    from fdrbench.adapters.fakereasoning.tiny import tiny_config

    model = FakeReasoningModel(tiny_config(vocab_size=32000)).eval()
    prompt = manifest["prompts"]["fakereasoning"]["prompt"]
    for tokenizer in tokenizers.values():
        ids = torch.tensor(tokenize_with_image(prompt, tokenizer))
        features = torch.zeros(2, RELEASED.num_patches, model.config.hidden_size)
        with torch.no_grad():
            batch = model.splice([ids, ids], features, padding_side="left")
        assert batch.attention_mask.tolist() == [[1] * (len(ids) - 1 + RELEASED.num_patches)] * 2
