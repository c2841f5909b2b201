"""``fakevlm``: the released FakeVLM checkpoint, evaluated the way its authors' script does.

- Weights ``lingcco/fakeVLM`` (LLaVA-1.5-7B fine-tuned on FakeClue) through
  ``LlavaForConditionalGeneration``; the processor of ``llava-hf/llava-1.5-7b-hf`` at the revision
  the authors' evaluation pins (``a272c74``).
- The raw, untemplated prompt ``<image>Does the image looks real/fake?`` (no chat template, as
  their HF and vLLM evaluations feed it), greedy decoding, 256 new tokens.
- Their verdict rule: text after the last ``?`` (drops an echoed question), then the first
  sentence, lower-cased, ``real`` checked before ``fake``, then the second sentence. Their script
  draws a random label when neither sentence names one; here that label is a fair coin keyed on
  the sample id (the same on every run) and the prediction stays marked unparsed, so the strict
  protocol counts it wrong.
- ``p_fake`` from the logits of ``real``/``fake`` at the token where the first sentence states
  the verdict ("This is a *fake* image.").
- The processor read as the authors' transformers 4.45.2 read that revision
  (:mod:`fdrbench.adapters.llava_legacy`): image-token settings the folder lacks filled from the
  model config, the saved ``tokenizer.json`` pipeline whatever its ``legacy`` flag says, and CLIP's
  PIL image processor whether or not torchvision is installed. ``describe()`` records each.
- ``prompt=task`` asks each sample's own question (``<image>`` + the question), as the authors'
  evaluation feeds every record its own first turn; DD-VQA's per-question samples need it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fdrbench.adapters.hf_lmm import HFLMMDetector
from fdrbench.backends.verdict_site import Verdict
from fdrbench.tasks.fakeclue.paper import coin, fakevlm, strip_echoed_prompt
from fdrbench.types import Prediction, Sample

CHECKPOINT = "lingcco/fakeVLM"
PROCESSOR = "llava-hf/llava-1.5-7b-hf"
PROCESSOR_REVISION = "a272c74"
PROMPT = "<image>Does the image looks real/fake?"
#: ``prompt=task``: the sample's own question after the image, untemplated
TASK_PROMPT = "task"


def read_fakevlm(text: str) -> Verdict:
    """FakeVLM's rule on an answer, as (label, class)."""
    return fakevlm(strip_echoed_prompt(text)), None


class FakeVLMDetector(HFLMMDetector):
    """FakeVLM (lingcco/fakeVLM), with the raw prompt and verdict rule of its released evaluation."""

    name = "fakevlm"

    def __init__(
        self,
        path: str = CHECKPOINT,
        revision: str | None = None,
        processor: str | None = PROCESSOR,
        processor_revision: str | None = PROCESSOR_REVISION,
        dtype: str = "auto",
        device_map: str | dict | None = None,
        attn_implementation: str | None = None,
        prompt: str = PROMPT,
        max_new_tokens: int = 256,
        gen_batch_size: int | None = None,
        num_workers: int = 2,
        verdict_temperature: float = 1.0,
        coin_seed: int = 0,
    ):
        super().__init__(
            path=path,
            revision=revision,
            processor=processor,
            processor_revision=processor_revision,
            dtype=dtype,
            device_map=device_map,
            attn_implementation=attn_implementation,
            model_class="LlavaForConditionalGeneration",
            template="raw",
            prompt=prompt,
            max_new_tokens=max_new_tokens,
            gen_batch_size=gen_batch_size,
            num_workers=num_workers,
            verdict_temperature=verdict_temperature,
            verdict_words=["real", "fake"],
        )
        self.coin_seed = int(coin_seed)
        self.processor_record: dict[str, Any] | None = None

    def load(self, device: str) -> tuple[Any, Any]:
        """The model and processor, the processor as transformers 4.45.2 read its folder."""
        from fdrbench.adapters.llava_legacy import as_in_transformers_4_45
        from fdrbench.backends.hf_loading import load_model

        model, processor = load_model(self.spec, device)
        source, revision = self.spec.processor_source
        self.processor_record = as_in_transformers_4_45(processor, model.config, source, revision)
        return model, processor

    def prompt_for(self, sample: Sample) -> str:
        if self.prompt == TASK_PROMPT:
            return "<image>" + self.ctx.task.prompt_for(sample)
        return super().prompt_for(sample)

    def verdict_reader(self, sample: Sample) -> Callable[[str], Verdict]:
        return read_fakevlm

    def finish(self, prediction: Prediction, sample: Sample) -> Prediction:
        if prediction.label is None:
            prediction.label = coin(sample.id, self.coin_seed)
            prediction.extra["verdict_rule"] = "no verdict in the first two sentences: fair coin keyed on the sample id"
        return prediction

    def describe(self) -> dict:
        out = super().describe()
        out["verdict_rule"] = "FakeVLM first/second sentence, 'real' before 'fake'; unparsed -> keyed coin, marked unparsed"
        out["coin_seed"] = self.coin_seed
        if self.prompt == TASK_PROMPT:
            out["prompt"] = "<image> + each sample's own question"
        if self.processor_record is not None:
            out["processor_as_transformers_4_45"] = self.processor_record
        return out
