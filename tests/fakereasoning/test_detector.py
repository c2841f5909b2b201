"""The adapter in-process: set-up, decoding settings as released, predictions and provenance."""

from __future__ import annotations

import json
import shutil

import pytest

from fdrbench.adapters.fakereasoning.conversation import PAPER_PROMPT
from fdrbench.adapters.fakereasoning.detector import FakeReasoningDetector
from fdrbench.detector import RunContext
from fdrbench.errors import FdrbenchError
from fdrbench.registry import ADAPTERS
from fdrbench.tasks.mmfr import MMFREval


def make(tiny_ckpt, weights=None, **settings) -> FakeReasoningDetector:
    return FakeReasoningDetector(
        weights=str(weights or tiny_ckpt.weights), clip=str(tiny_ckpt.clip), dino=str(tiny_ckpt.dino), max_new_tokens=6, **settings
    )


def test_registered_under_its_name():
    assert ADAPTERS.load("fakereasoning") is FakeReasoningDetector


def test_released_decoding_overrides_the_checkpoint_generation_config(tiny_ckpt, tmp_path):
    weights = tmp_path / "weights"
    shutil.copytree(tiny_ckpt.weights, weights)
    (weights / "generation_config.json").write_text(json.dumps({"top_p": 0.6, "temperature": 0.9, "repetition_penalty": 1.3}))
    detector = make(tiny_ckpt, weights)
    detector.setup(RunContext(task=MMFREval(), device="cpu"))
    settings = detector.generation_settings()
    assert settings["do_sample"] is True and settings["temperature"] == 0.2 and settings["top_p"] is None
    assert settings["num_beams"] == 1 and settings["max_new_tokens"] == 6
    assert detector.base_generation.repetition_penalty == 1.3
    described = detector.describe()
    assert described["checkpoint_generation_config"]["repetition_penalty"] == 1.3
    assert described["prompt"] == PAPER_PROMPT and described["resolved_dtype"] == "float32"
    assert described["dtype"] == "auto" and described["dtype_auto"].startswith("float16 on GPU")
    greedy = make(tiny_ckpt, temperature=0.0)
    greedy.setup(RunContext(task=MMFREval(), device="cpu"))
    assert greedy.generation_settings()["do_sample"] is False and greedy.describe()["decoding"]["temperature"] is None


def test_predictions_carry_text_verdict_and_provenance(tiny_ckpt, demo_root):
    task = MMFREval()
    samples = task.load(demo_root / "test", limit=3)
    detector = make(tiny_ckpt)
    before = detector.describe()
    assert "cpm" not in before and before["decoding"]["temperature"] == 0.2
    detector.setup(RunContext(task=task, device="cpu", seed=0))
    predictions = detector.predict(samples)
    assert [p.sample_id for p in predictions] == [s.id for s in samples]
    for prediction in predictions:
        assert isinstance(prediction.raw_output, str) and 1 <= prediction.n_tokens <= 6
        assert prediction.parse_ok == (prediction.label is not None and prediction.explanation is not None)
        assert (prediction.p_fake is None) == (prediction.extra["cpm_step"] is None)
    assert [p.raw_output for p in detector.predict(samples)] == [p.raw_output for p in predictions]
    identity = detector.identity(task)
    assert identity["weights"] == str(tiny_ckpt.weights) and len(identity["weights_fingerprint"]) == 64


def test_task_prompt_and_bad_settings(tiny_ckpt, demo_root):
    detector = make(tiny_ckpt, prompt="task")
    detector.setup(RunContext(task=MMFREval(), device="cpu"))
    (sample,) = MMFREval().load(demo_root / "test", limit=1)
    assert detector.question_for(sample) == MMFREval().prompt_for(sample)
    with pytest.raises(FdrbenchError, match="dtype must be one of"):
        FakeReasoningDetector(dtype="int4")
    with pytest.raises(FdrbenchError, match="setup"):
        FakeReasoningDetector().predict([sample])
