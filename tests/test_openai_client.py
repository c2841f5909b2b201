"""The OpenAI-compatible client against a real HTTP server on 127.0.0.1 with injected faults."""

from __future__ import annotations

import time

import pytest

from fdrbench.backends.openai_client import APICallError, ChatClient, ClientSettings
from fdrbench.backends.response_cache import request_key

from .helpers.openai_server import Fault, ScriptedServer, completion

REQUEST = {"model": "m", "messages": [{"role": "user", "content": "Is this image real?"}], "max_tokens": 8, "temperature": 0.0}


def make_client(server: ScriptedServer, tmp_path, **overrides) -> tuple[ChatClient, list[float]]:
    waits: list[float] = []
    settings = ClientSettings(
        base_url=server.base_url,
        api_key_env="FDRBENCH_TEST_KEY",
        timeout_s=overrides.pop("timeout_s", 5.0),
        max_retries=overrides.pop("max_retries", 3),
        backoff_s=0.5,
        cache_dir=tmp_path / "cache",
        **overrides,
    )
    return ChatClient(settings, sleep=waits.append), waits


def test_answer_usage_and_ledger(tmp_path):
    with ScriptedServer() as server:
        client, waits = make_client(server, tmp_path)
        result = client.complete(REQUEST)
    assert result.text == "This image is fake."
    assert (result.prompt_tokens, result.completion_tokens, result.attempts, result.cached) == (100, 4, 1, False)
    assert waits == []
    assert client.ledger.to_dict() == {"calls": 1, "cached": 0, "retries": 0, "failures": 0, "prompt_tokens": 100, "completion_tokens": 4}
    assert server.requests[0]["messages"] == REQUEST["messages"]


def test_rate_limit_then_success_honours_retry_after(tmp_path):
    with ScriptedServer() as server:
        server.faults = [Fault("status", 429, headers={"Retry-After": "2"})]
        client, waits = make_client(server, tmp_path)
        result = client.complete(REQUEST)
    assert result.text == "This image is fake." and result.attempts == 2
    assert waits == [2.0]  # the server's Retry-After, not the exponential schedule
    assert len(server.requests) == 2 and client.ledger.retries == 1


def test_server_errors_back_off_exponentially_then_fail(tmp_path):
    with ScriptedServer() as server:
        server.faults = [Fault("status", 500) for _ in range(3)]
        client, waits = make_client(server, tmp_path, max_retries=2)
        with pytest.raises(APICallError, match="after 3 attempts: InternalServerError 500"):
            client.complete(REQUEST)
    assert len(server.requests) == 3
    # backoff 0.5 * 2**attempt, jittered to between half and all of it
    assert len(waits) == 2 and 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0
    assert client.ledger.failures == 1


def test_timeout_is_retried(tmp_path):
    with ScriptedServer() as server:
        server.faults = [Fault("delay", seconds=1.5)]
        client, waits = make_client(server, tmp_path, timeout_s=0.3)
        start = time.perf_counter()
        result = client.complete(REQUEST)
    assert result.text == "This image is fake." and result.attempts == 2
    assert time.perf_counter() - start < 1.4
    assert len(waits) == 1


def test_malformed_body_and_dropped_connection_are_retried(tmp_path):
    with ScriptedServer() as server:
        server.faults = [Fault("malformed"), Fault("drop")]
        client, _ = make_client(server, tmp_path)
        result = client.complete(REQUEST)
    assert result.text == "This image is fake." and result.attempts == 3
    assert len(server.requests) == 3


def test_client_errors_are_not_retried(tmp_path):
    with ScriptedServer() as server:
        server.faults = [Fault("status", 400)]
        client, waits = make_client(server, tmp_path)
        with pytest.raises(APICallError, match="BadRequestError 400"):
            client.complete(REQUEST)
    assert len(server.requests) == 1 and waits == []


def test_cache_replays_and_keys_on_every_setting(tmp_path):
    with ScriptedServer() as server:
        client, _ = make_client(server, tmp_path)
        first = client.complete(REQUEST)
        again = client.complete(dict(REQUEST))
        other = client.complete({**REQUEST, "temperature": 0.5})
        fresh = client.complete(REQUEST, use_cache=False)
    assert len(server.requests) == 3  # the repeat came from disk
    assert (first.cached, again.cached, other.cached, fresh.cached) == (False, True, False, False)
    assert again.text == first.text and again.prompt_tokens == 100
    assert client.ledger.cached == 1 and client.ledger.calls == 3
    endpoint = client.endpoint
    assert request_key(endpoint, REQUEST) != request_key(endpoint, {**REQUEST, "max_tokens": 9})
    assert request_key(endpoint, REQUEST) != request_key("http://elsewhere/v1", REQUEST)
    assert client.cache.path(request_key(endpoint, REQUEST)).is_file()


def test_empty_answers_are_not_cached(tmp_path):
    with ScriptedServer(lambda body: completion("")) as server:
        client, _ = make_client(server, tmp_path)
        client.complete(REQUEST)
        client.complete(REQUEST)
    assert len(server.requests) == 2


def test_many_requests_in_flight(tmp_path):
    with ScriptedServer() as server:
        server.delay = 0.3
        client, _ = make_client(server, tmp_path, concurrency=6, cache=False)
        start = time.perf_counter()
        results = client.complete_many([{**REQUEST, "seed": i} for i in range(6)])
        elapsed = time.perf_counter() - start
    assert all(r.text == "This image is fake." for r in results)
    assert server.max_in_flight >= 3
    assert elapsed < 6 * 0.3


def test_complete_many_returns_errors_in_place(tmp_path):
    with ScriptedServer() as server:
        server.faults = [Fault("status", 401)]
        client, _ = make_client(server, tmp_path, concurrency=1)
        results = client.complete_many([REQUEST, {**REQUEST, "seed": 1}])
    assert isinstance(results[0], APICallError) and "401" in str(results[0])
    assert results[1].text == "This image is fake."


def test_key_comes_from_the_environment_and_is_never_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("FDRBENCH_TEST_KEY", "sk-test-secret")
    with ScriptedServer() as server:
        client, _ = make_client(server, tmp_path)
        client.complete(REQUEST)
    assert server.authorizations == ["Bearer sk-test-secret"]
    cached = list((tmp_path / "cache").rglob("*.json"))
    assert cached and all("sk-test-secret" not in p.read_text() for p in cached)
