"""FakeVLM through fdrbench's adapter (transformers 5) against transformers 4.45.2, the authors' version.

The tiny random LLaVA was built and saved by 4.45.2 (its checkpoint layout, as ``lingcco/fakeVLM``).
4.45.2 read the pinned processor revision (no image-token settings) by writing one ``<image>`` and
expanding it inside the model; fdrbench's processor writes the 576 image tokens itself, so its ids
are compared with that run of 576 collapsed to one.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fdrbench.adapters.fakevlm import FakeVLMDetector
from fdrbench.detector import RunContext
from fdrbench.types import Sample

from ..helpers.llava_era import Plain

PATCHES = 576  # (336 / 14)^2: CLIP's CLS token is dropped by the "default" strategy
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def detectors(fixtures, manifest):
    out = {}
    for variant in manifest["fakevlm_processors"]:
        det = FakeVLMDetector(
            path=str(fixtures / "fakevlm" / "model"),
            processor=str(fixtures / "fakevlm" / variant),
            processor_revision=None,
            num_workers=0,
            max_new_tokens=6,
        )
        det.setup(RunContext(task=Plain(), device="cpu"))
        out[variant] = det
    return out


@pytest.fixture(scope="module")
def samples(fixtures, manifest):
    return {name: Sample(id=name, label=1, image=fixtures / "images" / file) for name, file in manifest["images"].items()}


def encode(det, sample):
    return det.processor(text=[det.prompt_text(sample)], images=[sample.load_image()], return_tensors="pt")


def collapse(row: torch.Tensor, image_id: int) -> list[int]:
    """The ids with their run of image tokens written as one, as 4.45.2's processor left it."""
    ids = row.tolist()
    start = ids.index(image_id)
    assert ids[start : start + PATCHES] == [image_id] * PATCHES and image_id not in ids[start + PATCHES :]
    return ids[: start + 1] + ids[start + PATCHES :]


def test_every_processor_variant_is_read_as_4_45_2_read_it(detectors):
    for det in detectors.values():
        record = det.describe()["processor_as_transformers_4_45"]
        assert record["filled_from_model_config"] == {
            "patch_size": 14,
            "vision_feature_select_strategy": "default",
            "num_additional_image_tokens": 1,
        }
        assert record["image_processor"] == "CLIPImageProcessorPil"


def test_input_ids_and_attention_masks_are_those_of_4_45_2(detectors, samples, ref_fakevlm):
    for variant, det in detectors.items():
        image_id = det.model.config.image_token_index
        for name, sample in samples.items():
            inputs = encode(det, sample)
            assert collapse(inputs["input_ids"][0], image_id) == ref_fakevlm[f"{variant}/{name}/input_ids"].tolist(), (variant, name)
            mask = inputs["attention_mask"][0]
            assert mask.tolist() == [1] * len(mask) and ref_fakevlm[f"{variant}/{name}/attention_mask"].tolist() == [1] * (
                len(mask) - PATCHES + 1
            )


def test_pixel_values_are_those_of_4_45_2(detectors, samples, ref_fakevlm):
    for det in detectors.values():
        for name, sample in samples.items():
            ours = encode(det, sample)["pixel_values"][0].numpy()
            np.testing.assert_array_equal(ours, ref_fakevlm[f"pixels/{name}"], err_msg=name)


def test_logits_at_the_verdict_word_are_those_of_4_45_2(detectors, samples, ref_fakevlm, manifest):
    answer_text = manifest["prompts"]["fakevlm"]["answer"]
    for variant, det in detectors.items():
        answer = det.tokenizer(answer_text, add_special_tokens=False).input_ids
        assert answer == ref_fakevlm[f"{variant}/answer_ids"].tolist()
        verdict = answer.index(det.tokenizer.convert_tokens_to_ids("▁fake"))
        for name, sample in samples.items():
            inputs = encode(det, sample)
            ids = torch.cat([inputs["input_ids"], torch.tensor([answer])], dim=1)
            with torch.no_grad():
                logits = det.model(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=inputs["pixel_values"]).logits[0]
            rows = logits[-len(answer) - 1 : -1].numpy()
            np.testing.assert_allclose(rows[verdict], ref_fakevlm[f"{variant}/{name}/verdict_logits"], atol=TOLERANCE, rtol=0)
            np.testing.assert_allclose(rows[0], ref_fakevlm[f"{variant}/{name}/first_answer_logits"], atol=TOLERANCE, rtol=0)


def test_greedy_answers_are_those_of_4_45_2(detectors, samples, ref_fakevlm):
    for variant, det in detectors.items():
        for name, sample in samples.items():
            inputs = encode(det, sample)
            with torch.no_grad():
                out = det.model.generate(**inputs, max_new_tokens=6, do_sample=False, output_logits=True, return_dict_in_generate=True)
            new = out.sequences[0, inputs["input_ids"].shape[1] :].tolist()
            assert new == ref_fakevlm[f"{variant}/{name}/greedy_ids"].tolist(), (variant, name)
            if f"{variant}/{name}/greedy_logits" in ref_fakevlm:
                steps = torch.stack(out.logits, dim=1)[0].numpy()
                np.testing.assert_allclose(steps, ref_fakevlm[f"{variant}/{name}/greedy_logits"], atol=TOLERANCE, rtol=0)
            # and the adapter's own batched generation writes the same answer
            (pred,) = det.predict([sample])
            assert pred.raw_output == det.tokenizer.decode(new, skip_special_tokens=True, clean_up_tokenization_spaces=False)
