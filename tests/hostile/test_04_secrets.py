"""Class 4: an API key never lands on disk or in a log, even when a server or an adapter echoes it.

The key below looks like no provider's token and sits in a variable whose name says nothing of
secrets, so only the registration of the key in use (not a pattern) can blank it.
"""

from __future__ import annotations

import json

import pytest

from ..helpers.judge_fixtures import scores_json
from ..helpers.openai_server import Fault, ScriptedServer, completion
from .kit import HOSTILE_HELPERS, invoke, read_lines, run_demo, run_folder

KEY = "k3y-" + "q7" * 16
KEY_ENV = "FDRBENCH_HOSTILE_CREDS"


def everything_written(*roots) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for root in roots for p in root.rglob("*") if p.is_file())


@pytest.fixture
def server():
    def answer(body):
        if body.get("response_format"):  # the judge
            graded = json.loads(scores_json(("coverage", "accuracy", "specificity"), 3))
            graded["coverage"]["reason"] = f"your key {KEY} is fine"
            return completion(json.dumps(graded))
        return completion(f"This image is fake. (Authorization: Bearer {KEY}; key={KEY})")

    with ScriptedServer(answer) as scripted:
        scripted.faults = [Fault("status", status=401, message=f"Incorrect API key provided: {KEY}. Authorization: Bearer {KEY}")]
        yield scripted


def test_the_key_is_blanked_from_predictions_manifest_caches_judgements_and_output(server, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setenv("FDRBENCH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "results"
    args = ["-M", f"base_url={server.base_url}", "-M", "model=scripted", "-M", f"api_key_env={KEY_ENV}", "-M", "max_retries=0"]
    ran = run_demo(out, *args, model="openai_lmm", limit=6, batch=1, n_boot=0)
    assert ran.exit_code == 0, ran.output
    assert server.authorizations[0] == f"Bearer {KEY}", "the key is sent to the server"
    run_dir = run_folder(out)
    records = read_lines(run_dir / "predictions.jsonl")
    failed = [r for r in records if r["error"]]
    assert len(failed) == 1 and "401" in failed[0]["error"] and "***" in failed[0]["error"], "the failed sample keeps its reason"
    assert all("***" in r["explanation"] for r in records if not r["error"]), "the answers are kept, blanked"

    judged = invoke(
        "judge",
        run_dir,
        "--judge-model",
        "judge",
        "--base-url",
        server.base_url,
        "--api-key-env",
        KEY_ENV,
        "--rubric",
        "reference",
        "--no-images",
        "--no-progress",
        "--max-retries",
        0,
    )
    assert judged.exit_code == 0, judged.output
    assert (run_dir / "judgements.jsonl").is_file()

    written = everything_written(out, tmp_path / "cache")
    assert KEY not in written, "the key reached a file"
    assert KEY not in ran.output + judged.output, "the key reached the terminal"


def test_an_adapter_that_echoes_the_key_in_its_errors_and_answers(tmp_path, monkeypatch):
    monkeypatch.setenv("FDRBENCH_HOSTILE_API_KEY", "sk-" + "Z" * 32)
    out = tmp_path / "results"
    ran = run_demo(out, model=f"{HOSTILE_HELPERS}:SecretEchoDetector", batch=1, n_boot=0)
    assert ran.exit_code == 0, ran.output
    written = everything_written(out)
    assert "Z" * 32 not in written and "Z" * 32 not in ran.output
    records = read_lines(run_folder(out) / "predictions.jsonl")
    assert any(r["error"] and "upstream refused the request: Authorization: Bearer *** (key ***)" in r["error"] for r in records)
    assert len(records) == 12, "every sample is kept, failed or not"
