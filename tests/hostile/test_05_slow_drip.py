"""Class 5: ``timeout_s`` bounds the whole request, so a server that drips its answer a byte at a
time (never silent long enough for a read timeout) fails that sample and the run goes on."""

from __future__ import annotations

import time

import pytest

from fdrbench.backends.openai_client import APICallError, ChatClient, ClientSettings

from ..helpers.openai_server import Fault, ScriptedServer, completion
from .kit import read_lines, run_demo, run_folder


@pytest.fixture
def dripping():
    with ScriptedServer(lambda body: completion("This image is real.")) as server:
        server.faults = [Fault("drip", seconds=0.2)]
        yield server


def test_one_request_is_bounded_as_a_whole(dripping, tmp_path):
    client = ChatClient(ClientSettings(base_url=dripping.base_url, api_key_env=None, timeout_s=1.0, max_retries=0, cache=False))
    started = time.monotonic()
    try:
        with pytest.raises(APICallError, match="no complete answer within 1 s"):
            client.complete({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    finally:
        client.close()
    assert time.monotonic() - started < 5.0, "the slow answer was waited for"


def test_the_sample_fails_and_the_run_goes_on(dripping, tmp_path, monkeypatch):
    monkeypatch.setenv("FDRBENCH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "results"
    args = ["-M", f"base_url={dripping.base_url}", "-M", "model=m", "-M", "timeout_s=1", "-M", "max_retries=0", "-M", "concurrency=1"]
    started = time.monotonic()
    ran = run_demo(out, *args, model="openai_lmm", limit=4, batch=2, n_boot=0)
    assert ran.exit_code == 0, ran.output
    assert time.monotonic() - started < 60.0
    records = read_lines(run_folder(out) / "predictions.jsonl")
    assert len(records) == 4, "every sample is recorded"
    failed = [r for r in records if r["error"]]
    assert len(failed) == 1 and "no complete answer within 1 s" in failed[0]["error"]
    assert all(r["label"] == 0 for r in records if not r["error"]), "the other samples got their answers"
