"""FakeVLM's pinned processor revision read as transformers 4.45.2 read it, under transformers 5.

The processor folders carry exactly the keys of that era (no ``processor_config.json``); the
model sits in its own folder, as when the processor is passed separately.
"""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from fdrbench.adapters.fakevlm import PROMPT, FakeVLMDetector
from fdrbench.detector import RunContext
from fdrbench.types import Sample

from .helpers.llava_era import STYLES, Plain, saved_pipeline_ids, write_checkpoint, write_processor

#: a later processor_config.json with every image-token setting, so only the part under test differs
COMPLETE = {"patch_size": 14, "vision_feature_select_strategy": "default", "num_additional_image_tokens": 1}


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    return write_checkpoint(tmp_path_factory.mktemp("fakevlm") / "model")


def ready(model_folder, processor_folder, **settings) -> FakeVLMDetector:
    det = FakeVLMDetector(path=str(model_folder), processor=str(processor_folder), processor_revision=None, num_workers=0, **settings)
    det.setup(RunContext(task=Plain()))
    return det


def encoded(det: FakeVLMDetector):
    image = Image.new("RGB", (40, 30), (200, 120, 30))
    text = det.prompt_text(Sample(id="a", label=1, image=lambda: image))
    return det.processor(text=[text], images=[image], return_tensors="pt")


def test_missing_image_token_settings_are_filled_from_the_model_config(model_folder, tmp_path):
    det = ready(model_folder, write_processor(tmp_path / "processor"))
    filled = det.describe()["processor_as_transformers_4_45"]["filled_from_model_config"]
    assert filled == {"patch_size": 14, "vision_feature_select_strategy": "default", "num_additional_image_tokens": 1}
    inputs = encoded(det)
    image_id = det.model.config.image_token_index
    # (28 / 14)^2 patches + CLS - CLS (the "default" strategy drops it): one token per feature
    assert int((inputs["input_ids"] == image_id).sum()) == 4
    (pred,) = det.predict([Sample(id="a", label=1, image=lambda: Image.new("RGB", (40, 30), (9, 9, 9)))])
    assert pred.error is None and pred.extra["prompt_tokens"] == inputs["input_ids"].shape[1]


def test_a_later_config_without_the_cls_count_gets_it_and_keeps_what_it_sets(model_folder, tmp_path):
    folder = write_processor(tmp_path / "processor", processor_config={"patch_size": 14, "vision_feature_select_strategy": "default"})
    det = ready(model_folder, folder)
    assert det.describe()["processor_as_transformers_4_45"]["filled_from_model_config"] == {"num_additional_image_tokens": 1}
    (pred,) = det.predict([Sample(id="a", label=0, image=lambda: Image.new("RGB", (28, 28), (9, 90, 9)))])
    assert pred.error is None
    complete = write_processor(tmp_path / "complete", processor_config=COMPLETE)
    assert ready(model_folder, complete).describe()["processor_as_transformers_4_45"]["filled_from_model_config"] == {}


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("legacy", [True, False])
def test_prompt_ids_are_the_saved_tokenizer_json_pipeline_whatever_the_legacy_flag(model_folder, tmp_path, style, legacy):
    folder = write_processor(tmp_path / "processor", style=style, legacy=legacy, processor_config=COMPLETE)
    det = ready(model_folder, folder)
    ids = encoded(det)["input_ids"][0].tolist()
    image_id = det.model.config.image_token_index
    collapsed = [t for i, t in enumerate(ids) if t != image_id or i == ids.index(image_id)]
    assert collapsed == saved_pipeline_ids(folder, PROMPT)
    word_after_image = det.tokenizer.convert_ids_to_tokens([collapsed[collapsed.index(image_id) + 1]])[0]
    assert word_after_image == ("▁Does" if style == "prepend" else "Does")
    assert "tokenizer.json" in det.describe()["processor_as_transformers_4_45"]["tokenizer"]


def test_the_image_processor_is_the_pil_one_whatever_loads_by_default(model_folder, tmp_path, monkeypatch):
    """With torchvision installed transformers 5 picks a torchvision resize; stand one in for it."""
    from transformers import AutoProcessor, CLIPImageProcessorPil

    class TorchvisionStandIn(CLIPImageProcessorPil):
        def __call__(self, *args, **kwargs):
            out = super().__call__(*args, **kwargs)
            out["pixel_values"] = out["pixel_values"] + 1e-3  # resampling that differs slightly
            return out

    loaded = AutoProcessor.from_pretrained

    def with_stand_in(*args, **kwargs):
        processor = loaded(*args, **kwargs)
        processor.image_processor = TorchvisionStandIn.from_pretrained(str(tmp_path / "processor"))
        return processor

    folder = write_processor(tmp_path / "processor", processor_config=COMPLETE)
    monkeypatch.setattr(AutoProcessor, "from_pretrained", with_stand_in)
    det = ready(model_folder, folder)
    assert type(det.processor.image_processor) is CLIPImageProcessorPil
    assert det.describe()["processor_as_transformers_4_45"]["image_processor"] == "CLIPImageProcessorPil"
    image = Image.new("RGB", (40, 30), (200, 120, 30))
    expected = CLIPImageProcessorPil.from_pretrained(str(folder))(images=[image], return_tensors="pt")["pixel_values"]
    assert torch.equal(encoded(det)["pixel_values"], expected)


def test_prompt_task_asks_each_samples_own_question(model_folder, tmp_path):
    det = ready(model_folder, write_processor(tmp_path / "processor", processor_config=COMPLETE), prompt="task")
    sample = Sample(id="a", label=1, image=lambda: Image.new("RGB", (28, 28)), question="Does the person's skin look real/fake?")
    assert det.prompt_text(sample) == "<image>Does the person's skin look real/fake?"
    assert det.prompt_text(Sample(id="b", label=1, image=lambda: Image.new("RGB", (28, 28)))) == "<image>Does the image looks real/fake?"
    assert det.describe()["prompt"] == "<image> + each sample's own question"
