"""``openai_lmm``: any model behind an OpenAI-compatible chat endpoint as a detector.

``--model openai_lmm --model-arg base_url=http://host:8000/v1 --model-arg model=<served name>``
(the key, if the server needs one, is read from ``$OPENAI_API_KEY`` or the variable named by
``api_key_env``). Each sample's image goes as a data URL with the task's question; up to
``concurrency`` requests are in flight; answers are cached on disk; ``p_fake`` comes from the
returned logprobs of the verdict-word token when the server gives them.
"""

from __future__ import annotations

import re
from typing import Any

from fdrbench.api.detector import Detector, RunContext
from fdrbench.backends.answers import build_prediction, default_words, task_verdict_reader
from fdrbench.backends.hf_inputs import strip_image_mark
from fdrbench.backends.images import sample_data_url
from fdrbench.backends.logprob_verdict import read_verdict_logprobs
from fdrbench.backends.openai_client import ChatClient, ChatResult, ClientSettings
from fdrbench.errors import FdrbenchError
from fdrbench.types import Prediction, Sample


class OpenAILMMDetector(Detector):
    """A chat model served over HTTP; every setting is a ``--model-arg``."""

    name = "openai_lmm"
    uses_device = False

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        system_prompt: str | None = None,
        prompt: str | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        top_p: float | None = None,
        seed: int | None = None,
        logprobs: bool = True,
        top_logprobs: int = 5,
        image_detail: str | None = None,
        image_max_side: int | None = None,
        concurrency: int = 8,
        timeout_s: float = 120.0,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        cache: bool = True,
        verdict_temperature: float = 1.0,
        verdict_words: list[str] | None = None,
        extra_body: dict | None = None,
    ):
        if not 0 <= int(top_logprobs) <= 20:
            raise FdrbenchError(f"top_logprobs must be between 0 and 20, got {top_logprobs}")
        self.model = str(model)
        self.client_settings = ClientSettings(
            base_url=base_url,
            api_key_env=api_key_env,
            timeout_s=float(timeout_s),
            max_retries=int(max_retries),
            backoff_s=float(backoff_s),
            concurrency=int(concurrency),
            cache=bool(cache),
        )
        self.system_prompt = system_prompt
        self.prompt = prompt
        self.max_tokens = int(max_tokens)
        self.temperature = float(temperature)
        self.top_p = top_p
        self.seed = seed
        self.logprobs = bool(logprobs)
        self.top_logprobs = int(top_logprobs)
        self.image_detail = image_detail
        self.image_max_side = image_max_side
        self.verdict_temperature = float(verdict_temperature)
        self.verdict_words = tuple(verdict_words) if verdict_words else None
        self.extra_body = dict(extra_body or {})
        self.name = re.sub(r"[^A-Za-z0-9._-]+", "-", self.model).strip("-.") or "openai_lmm"
        self.client: ChatClient | None = None

    def setup(self, ctx: RunContext) -> None:
        super().setup(ctx)
        self.client = ChatClient(self.client_settings)

    def request(self, sample: Sample) -> dict[str, Any]:
        """The chat-completions body for one sample (what the cache key is made of)."""
        question = self.prompt if self.prompt is not None else self.ctx.task.prompt_for(sample)
        image: dict[str, Any] = {"url": sample_data_url(sample, self.image_max_side)}
        if self.image_detail:
            image["detail"] = self.image_detail
        messages: list[dict[str, Any]] = []
        if self.system_prompt:
            messages.append({"role": "system", "content": self.system_prompt})
        messages.append(
            {"role": "user", "content": [{"type": "image_url", "image_url": image}, {"type": "text", "text": strip_image_mark(question)}]}
        )
        body: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": self.max_tokens, "temperature": self.temperature}
        if self.top_p is not None:
            body["top_p"] = self.top_p
        if self.seed is not None:
            body["seed"] = int(self.seed)
        if self.logprobs:
            body["logprobs"] = True
            if self.top_logprobs:
                body["top_logprobs"] = self.top_logprobs
        if self.extra_body:
            body["extra_body"] = self.extra_body
        return body

    def use_cache(self) -> bool:
        """Sampled answers are cached only when a seed makes them repeatable."""
        return self.temperature == 0.0 or self.seed is not None

    def predict(self, batch: list[Sample]) -> list[Prediction]:
        if self.client is None:
            raise FdrbenchError("openai_lmm: setup() was not called")
        results = self.client.complete_many([self.request(sample) for sample in batch], use_cache=self.use_cache())
        return [self._prediction(sample, result) for sample, result in zip(batch, results, strict=True)]

    def _prediction(self, sample: Sample, result: ChatResult | Exception) -> Prediction:
        if isinstance(result, Exception):
            return Prediction.from_error(sample.id, result)
        parse = task_verdict_reader(self.ctx.task, sample)
        words = self.verdict_words or default_words(self.ctx.task.label_space)
        p_fake, class_probs, info = read_verdict_logprobs(
            result.text, result.logprobs if self.logprobs else None, parse, words, self.verdict_temperature, self.ctx.task.label_space
        )
        extra = {
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "finish_reason": result.finish_reason,
            "served_model": result.model,
            "cached": result.cached,
            "attempts": result.attempts,
            **info,
        }
        n_tokens = result.prompt_tokens + result.completion_tokens
        return build_prediction(sample, result.text, parse(result.text), p_fake, class_probs, n_tokens, extra)

    def describe(self) -> dict:
        out: dict[str, Any] = {
            "name": self.name,
            "model": self.model,
            "client": self.client_settings.describe(),
            "system_prompt": self.system_prompt,
            "generation": {"max_tokens": self.max_tokens, "temperature": self.temperature, "top_p": self.top_p, "seed": self.seed},
            "logprobs": {"enabled": self.logprobs, "top_logprobs": self.top_logprobs},
            "image": {"detail": self.image_detail, "max_side": self.image_max_side},
            "verdict_probability": {
                "temperature": self.verdict_temperature,
                "words": list(self.verdict_words) if self.verdict_words else "task default",
            },
            "extra_body": self.extra_body,
        }
        if self.prompt is not None:
            out["prompt"] = self.prompt
        return out

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
