"""A client for any OpenAI-compatible chat endpoint (OpenAI, vLLM, SGLang, TGI, LM Studio, ...).

Many requests are in flight at once (``concurrency``). Rate limits (429), server errors (5xx),
timeouts, dropped connections and unreadable response bodies are retried with exponential
backoff and jitter, honouring ``Retry-After``; other client errors (bad request, authentication)
fail at once. Answers are cached on disk (:mod:`fdrbench.backends.response_cache`).

``timeout_s`` bounds each attempt as a whole: the HTTP library's own timeout applies to each read,
so a server that sends one byte a second would never trip it. Each attempt therefore runs in a
worker thread that the caller stops waiting for at the deadline (the attempt is then abandoned,
counted as a timeout and retried or failed like one).

The API key is read from an environment variable and registered with :mod:`fdrbench.redact`, so
it is blanked from every error text and response (a server may echo it) before anything is
stored or printed; it is never written anywhere.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdrbench.backends.response_cache import ResponseCache, request_key
from fdrbench.errors import FdrbenchError
from fdrbench.paths import cache_root
from fdrbench.redact import redact, redact_text
from fdrbench.redact import register as register_secret

RETRY_STATUS = frozenset({408, 409, 429})


class APICallError(FdrbenchError):
    """A request failed for good: a non-retryable error, or retries exhausted."""


class MalformedResponse(ValueError):
    """A response body that is not a chat completion (retried like a server error)."""


class RequestDeadline(TimeoutError):
    """An attempt that did not complete within ``timeout_s`` as a whole (retried like a timeout)."""


@dataclass(frozen=True)
class ClientSettings:
    base_url: str | None = None
    api_key_env: str | None = "OPENAI_API_KEY"
    timeout_s: float = 120.0
    max_retries: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    concurrency: int = 8
    cache: bool = True
    cache_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise FdrbenchError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.max_retries < 0:
            raise FdrbenchError(f"max_retries must not be negative, got {self.max_retries}")

    def describe(self) -> dict:
        return {
            "base_url": self.base_url,
            "api_key_env": self.api_key_env,
            "timeout_s": self.timeout_s,
            "max_retries": self.max_retries,
            "concurrency": self.concurrency,
            "cache": self.cache,
        }


@dataclass(frozen=True)
class TokenLogprob:
    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass
class ChatResult:
    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    logprobs: list[TokenLogprob] | None
    model: str | None
    cached: bool
    attempts: int

    @classmethod
    def from_response(cls, data: dict, cached: bool, attempts: int) -> ChatResult:
        """Read a chat-completions response body (live or cached)."""
        choices = data.get("choices") or []
        if not choices or not isinstance(choices[0], dict):
            raise MalformedResponse(f"the response has no choices: {json.dumps(data)[:200]}")
        choice = choices[0]
        message = choice.get("message") or {}
        usage = data.get("usage") or {}
        tokens = None
        content = (choice.get("logprobs") or {}).get("content")
        if content:
            tokens = [
                TokenLogprob(
                    str(t.get("token", "")),
                    float(t.get("logprob", 0.0)),
                    tuple((str(e.get("token", "")), float(e.get("logprob", 0.0))) for e in t.get("top_logprobs") or []),
                )
                for t in content
            ]
        return cls(
            text=message.get("content") or "",
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            logprobs=tokens,
            model=data.get("model"),
            cached=cached,
            attempts=attempts,
        )


@dataclass
class Ledger:
    """Calls and tokens, live and from the cache (thread-safe counters)."""

    calls: int = 0
    cached: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def record(self, result: ChatResult) -> None:
        """Count one answer: a cached one costs nothing, a live one its tokens."""
        if result.cached:
            self.add(cached=1)
        else:
            self.add(calls=1, prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens)

    def to_dict(self) -> dict:
        names = ("calls", "cached", "retries", "failures", "prompt_tokens", "completion_tokens")
        return {name: getattr(self, name) for name in names}


def _retryable(exc: BaseException) -> bool:
    import openai

    retry_types = (
        openai.APITimeoutError,
        openai.APIConnectionError,
        openai.APIResponseValidationError,
        json.JSONDecodeError,
        MalformedResponse,
        RequestDeadline,
    )
    if isinstance(exc, retry_types):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRY_STATUS or exc.status_code >= 500
    return False


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _describe_error(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    return redact_text(f"{type(exc).__name__}{f' {status}' if status else ''}: {str(exc)[:300]}")


class ChatClient:
    """Chat completions with retries, an on-disk cache and a ledger of calls and tokens."""

    def __init__(self, settings: ClientSettings, sleep: Callable[[float], None] = time.sleep):
        import openai

        self.settings = settings
        key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
        register_secret(key)
        # Servers without authentication (a local vLLM) accept any key; the variable stays optional.
        self._client = openai.OpenAI(base_url=settings.base_url, api_key=key or "EMPTY", timeout=settings.timeout_s, max_retries=0)
        self.endpoint = str(self._client.base_url)
        self.cache = ResponseCache(settings.cache_dir or cache_root() / "responses") if settings.cache else None
        self.ledger = Ledger()
        self._sleep = sleep
        self._random = random.Random()

    def _delay(self, exc: BaseException, attempt: int) -> float:
        hinted = _retry_after(exc)
        if hinted is not None:
            return min(self.settings.max_backoff_s, hinted)
        base = min(self.settings.max_backoff_s, self.settings.backoff_s * (2**attempt))
        return base * (0.5 + 0.5 * self._random.random())

    def complete(self, request: dict[str, Any], use_cache: bool = True) -> ChatResult:
        """One chat completion; raises :class:`APICallError` when it cannot be had."""
        key = request_key(self.endpoint, request)
        if self.cache is not None and use_cache:
            hit = self.cache.get(key)
            try:
                result = ChatResult.from_response(hit, cached=True, attempts=0) if hit is not None else None
            except MalformedResponse:
                result = None
            if result is not None:
                self.ledger.record(result)
                return result
        attempt = 0
        while True:
            try:
                data = redact(self._attempt(request))
                result = ChatResult.from_response(data, cached=False, attempts=attempt + 1)
            except Exception as exc:
                if not _retryable(exc):
                    self.ledger.add(failures=1)
                    raise APICallError(f"request to {self.endpoint} failed: {_describe_error(exc)}") from exc
                if attempt >= self.settings.max_retries:
                    self.ledger.add(failures=1)
                    raise APICallError(f"request to {self.endpoint} failed after {attempt + 1} attempts: {_describe_error(exc)}") from exc
                self.ledger.add(retries=1)
                self._sleep(self._delay(exc, attempt))
                attempt += 1
                continue
            self.ledger.record(result)
            if self.cache is not None and result.text:
                self.cache.put(key, data, about={"model": request.get("model"), "endpoint": self.endpoint})
            return result

    def _attempt(self, request: dict[str, Any]) -> dict:
        """One request, its response body as a dict; :class:`RequestDeadline` once ``timeout_s`` has passed."""
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def call() -> None:
            try:
                outcome["data"] = self._client.chat.completions.create(**request).model_dump(mode="json")
            except BaseException as exc:  # handed to the caller, which decides what is retried
                outcome["error"] = exc
            finally:
                done.set()

        # a daemon thread: an abandoned attempt never keeps the process alive
        threading.Thread(target=call, name="fdrbench-api-attempt", daemon=True).start()
        if not done.wait(self.settings.timeout_s):
            raise RequestDeadline(f"no complete answer within {self.settings.timeout_s:g} s (timeout_s bounds the whole request)")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["data"]

    def complete_many(self, requests: Sequence[dict[str, Any]], use_cache: bool = True) -> list[ChatResult | APICallError]:
        """All requests, ``concurrency`` at a time; each slot holds a result or its error."""

        def one(request: dict[str, Any]) -> ChatResult | APICallError:
            try:
                return self.complete(request, use_cache=use_cache)
            except APICallError as exc:
                return exc

        if len(requests) <= 1 or self.settings.concurrency == 1:
            return [one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.settings.concurrency, len(requests)), thread_name_prefix="fdrbench-api") as pool:
            return list(pool.map(one, requests))

    def close(self) -> None:
        self._client.close()
