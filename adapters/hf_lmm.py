"""``hf_lmm``: any transformers image-text-to-text model as a detector.

``--model hf_lmm --model-arg path=<hub id or folder>`` runs LLaVA-1.5/NeXT, Qwen2-VL/2.5-VL,
InternVL (``trust_remote_code=true`` where its authors require it) and anything else
``AutoModelForImageTextToText`` loads. It asks the task's question for each sample, reads the
verdict with the task's parse rule, and reads ``p_fake`` from the logits of the verdict-word
tokens where the answer states its verdict.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fdrbench.api.detector import Detector, RunContext
from fdrbench.api.task import Task
from fdrbench.backends.answers import build_prediction, default_words, task_verdict_reader
from fdrbench.backends.hf_generate import GenerationSettings, batch_seed, generate, read_verdict
from fdrbench.backends.hf_inputs import TEMPLATES, chat_prompt, encoded_batches, image_placeholder, raw_prompt
from fdrbench.backends.hf_loading import ModelSpec, load_model, resolved_revision, source_identity
from fdrbench.backends.hf_tokens import TokenCandidates
from fdrbench.backends.verdict_site import Verdict
from fdrbench.errors import FdrbenchError
from fdrbench.hashing import sha256_text
from fdrbench.types import Prediction, Sample


class HFLMMDetector(Detector):
    """A generative VLM loaded with transformers; every setting is a ``--model-arg``."""

    name = "hf_lmm"
    loads_images = True

    def __init__(
        self,
        path: str,
        revision: str | None = None,
        processor: str | None = None,
        processor_revision: str | None = None,
        dtype: str = "auto",
        device_map: str | dict | None = None,
        attn_implementation: str | None = None,
        trust_remote_code: bool = False,
        model_class: str | None = None,
        template: str = "chat",
        system_prompt: str | None = None,
        prompt: str | None = None,
        raw_format: str = "{image}\n{prompt}",
        image_placeholder: str | None = None,
        max_new_tokens: int = 512,
        do_sample: bool = False,
        temperature: float = 1.0,
        top_p: float | None = None,
        top_k: int | None = None,
        repetition_penalty: float | None = None,
        gen_batch_size: int | None = None,
        num_workers: int = 2,
        verdict_temperature: float = 1.0,
        verdict_words: list[str] | None = None,
    ):
        if template not in TEMPLATES:
            raise FdrbenchError(f"template must be one of {', '.join(TEMPLATES)}, got {template!r}")
        if verdict_temperature <= 0:
            raise FdrbenchError(f"verdict_temperature must be positive, got {verdict_temperature}")
        self.spec = ModelSpec(
            str(path), revision, processor, processor_revision, dtype, device_map, attn_implementation, trust_remote_code, model_class
        )
        self.template = template
        self.system_prompt = system_prompt
        self.prompt = prompt
        self.raw_format = raw_format
        self.placeholder = image_placeholder
        self.generation = GenerationSettings(int(max_new_tokens), bool(do_sample), float(temperature), top_p, top_k, repetition_penalty)
        self.gen_batch_size = gen_batch_size
        self.num_workers = int(num_workers)
        self.verdict_temperature = float(verdict_temperature)
        self.verdict_words = tuple(verdict_words) if verdict_words else None
        if type(self).name == "hf_lmm":
            self.name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(str(path).rstrip("/")).name) or "hf_lmm"
        self.model = self.processor = None

    # ---------------------------------------------------------------- hooks for subclasses

    def prompt_for(self, sample: Sample) -> str:
        """The question this sample is asked: the adapter's own prompt if set, else the task's."""
        return self.prompt if self.prompt is not None else self.ctx.task.prompt_for(sample)

    def verdict_reader(self, sample: Sample) -> Callable[[str], Verdict]:
        """Reads (label, class) from an answer; the task's rule by default."""
        return task_verdict_reader(self.ctx.task, sample)

    def words(self) -> tuple[str, ...]:
        return self.verdict_words or default_words(self.ctx.task.label_space)

    def finish(self, prediction: Prediction, sample: Sample) -> Prediction:
        """Last touch on a prediction (subclasses apply their own conventions)."""
        return prediction

    def load(self, device: str) -> tuple[Any, Any]:
        """(model, processor) from the spec; a subclass may build them another way."""
        return load_model(self.spec, device)

    # ---------------------------------------------------------------- engine interface

    def setup(self, ctx: RunContext) -> None:
        super().setup(ctx)
        self.model, self.processor = self.load(ctx.device)
        if self.template == "chat" and not getattr(self.processor, "chat_template", None):
            raise FdrbenchError(f"{self.spec.path}: the processor has no chat template; use --model-arg template=raw (and raw_format)")
        self.tokenizer = self.processor.tokenizer
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.candidates = TokenCandidates(self.tokenizer)
        keep = self.candidates.all_ids(self.words())
        if not keep:
            raise FdrbenchError(f"none of the verdict words {self.words()} can be encoded by this tokenizer")
        self.keep_ids = keep
        self.columns = {token: column for column, token in enumerate(keep)}
        if self.num_workers > 0:
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    def prompt_text(self, sample: Sample) -> str:
        question = self.prompt_for(sample)
        if self.template == "chat":
            return chat_prompt(self.processor, question, self.system_prompt)
        return raw_prompt(question, self.placeholder or image_placeholder(self.processor), self.raw_format)

    def predict(self, batch: list[Sample]) -> list[Prediction]:
        items = [(index, sample, self.prompt_text(sample)) for index, sample in enumerate(batch)]
        out: list[Prediction | None] = [None] * len(batch)
        size = self.gen_batch_size or len(batch)
        for encoded in encoded_batches(items, self.processor, size, min(self.num_workers, max(0, -(-len(batch) // size)))):
            for index, error in encoded.errors.items():
                out[index] = Prediction.from_error(batch[index].id, error)
            if encoded.inputs is None:
                continue
            seed = batch_seed(self.ctx.seed, [batch[i].id for i in encoded.indices])
            completions = generate(self.model, self.tokenizer, encoded.inputs, self.generation, self.keep_ids, seed)
            for index, completion in zip(encoded.indices, completions, strict=True):
                out[index] = self._prediction(batch[index], completion)
        return [p if p is not None else Prediction.from_error(s.id, "no output for this sample") for p, s in zip(out, batch, strict=True)]

    def _prediction(self, sample: Sample, completion) -> Prediction:
        parse = self.verdict_reader(sample)
        verdict = parse(completion.text)
        p_fake, class_probs, info = read_verdict(
            completion,
            self.tokenizer,
            self.candidates,
            self.columns,
            parse,
            self.words(),
            self.verdict_temperature,
            self.ctx.task.label_space,
        )
        extra: dict[str, Any] = {
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": len(completion.ids),
            "finish_reason": completion.finish_reason,
            **info,
        }
        n_tokens = completion.prompt_tokens + len(completion.ids)
        return self.finish(build_prediction(sample, completion.text, verdict, p_fake, class_probs, n_tokens, extra), sample)

    def describe(self) -> dict:
        spec = self.spec
        out: dict[str, Any] = {
            "name": self.name,
            "path": spec.path,
            "revision": spec.revision,
            "processor": spec.processor_source[0],
            "processor_revision": spec.processor_source[1],
            "model_class": spec.model_class or "AutoModelForImageTextToText",
            "dtype": spec.dtype,
            "device_map": spec.device_map,
            "attn_implementation": spec.attn_implementation,
            "trust_remote_code": spec.trust_remote_code,
            "template": self.template,
            "system_prompt": self.system_prompt,
            "generation": self.generation.describe(),
            "verdict_probability": {
                "temperature": self.verdict_temperature,
                "words": list(self.verdict_words) if self.verdict_words else "task default",
            },
            "gen_batch_size": self.gen_batch_size,
        }
        if self.template == "raw":
            out["raw_format"] = self.raw_format
        if self.prompt is not None:
            out["prompt"] = self.prompt
        if self.model is not None:
            out["resolved_revision"] = resolved_revision(self.model)
            out["torch_dtype"] = str(self.model.dtype).replace("torch.", "")
            template = getattr(self.processor, "chat_template", None)
            out["chat_template_sha256"] = sha256_text(template) if isinstance(template, str) and self.template == "chat" else None
        return out

    def identity(self, task: Task) -> dict[str, Any]:
        spec = self.spec
        processor, revision = spec.processor_source
        return {"model": source_identity(spec.path, spec.revision), "processor": source_identity(processor, revision)}

    def close(self) -> None:
        self.model = None
