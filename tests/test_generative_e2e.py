"""End to end through the command line: ``fdrbench run --model hf_lmm`` with a tiny model saved to a
folder, ``--model openai_lmm`` and ``fdrbench judge`` against a server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import math
import sys

import pytest
from typer.testing import CliRunner

from fdrbench.cli import app
from fdrbench.store import iter_records
from fdrbench.tasks.mmfr.task import PROMPT

from .helpers.openai_server import ScriptedServer, completion
from .helpers.tiny_vlm import bigram, tiny_llava

runner = CliRunner()
COMMON = ["--task", "demo", "--limit", "12", "--batch-size", "6", "--n-boot", "50", "--no-progress"]


def only_run(root):
    (run_dir,) = [p for p in root.glob("*/*/*") if p.is_dir()]
    return run_dir


def records(run_dir):
    return [r for _, r in iter_records(run_dir / "predictions.jsonl")]


@pytest.fixture
def tiny_folder(tmp_path):
    model, processor = tiny_llava()
    table = {":": {"This": 5.0}, "This": {"image": 5.0}, "image": {"is": 5.0}, "is": {"fake": 1.2, "real": 0.7}}
    table.update({"fake": {".": 5.0}, ".": {"</s>": 5.0}})
    bigram(model, processor.tokenizer, table)
    folder = tmp_path / "tiny-llava"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_hf_lmm_runs_and_resumes_on_the_demo(demo_root, tiny_folder, tmp_path):
    out = tmp_path / "out"
    args = ["run", "--model", "hf_lmm", "--model-arg", f"path={tiny_folder}", "--model-arg", "num_workers=2", "--out", str(out), *COMMON]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    run_dir = only_run(out)
    assert run_dir.parent.name == "tiny-llava"
    rows = records(run_dir)
    assert len(rows) == 12
    # the demo is three-way: 'synthetic', 'generated', 'tampered' and 'full' (synthetic) also state fake, at the floor
    floor = 4 * math.exp(-8)
    expected = (math.exp(1.2) + floor) / (math.exp(1.2) + math.exp(0.7) + floor)
    for row in rows:
        assert row["raw_output"] == "This image is fake ." and row["label"] == 1 and row["error"] is None
        assert row["p_fake"] == pytest.approx(expected, abs=1e-6)
        assert row["extra"]["verdict_site"]["token"] == "fake"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["prompt"] == PROMPT
    assert manifest["adapter"]["describe"]["path"] == str(tiny_folder) and manifest["adapter"]["describe"]["torch_dtype"] == "float32"
    assert manifest["usage"]["n_tokens"] == sum(r["n_tokens"] for r in rows) > 0
    scores = json.loads((run_dir / "scores.json").read_text())
    overall = scores["protocols"]["strict"]["overall"]
    assert overall["fake_accuracy"]["value"] == 1.0 and overall["real_accuracy"]["value"] == 0.0
    assert overall["roc_auc"]["value"] == pytest.approx(0.5)  # one p_fake for every image
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert len(records(run_dir)) == 12  # resumed: nothing predicted twice


def vlm(body: dict) -> dict:
    """A served VLM whose verdict and confidence follow a hash of the image it is sent."""
    url = body["messages"][-1]["content"][0]["image_url"]["url"]
    digest = hashlib.sha256(url.encode()).digest()
    verdict, other = ("fake", "real") if digest[0] % 2 else ("real", "fake")
    chosen = -0.05 - digest[1] / 255
    tokens = [("This", -0.01, []), (" image", -0.01, []), (" is", -0.01, [])]
    tokens += [(f" {verdict}", chosen, [(f" {verdict}", chosen), (f" {other}", -2.5), (" a", -4.0)]), (".", -0.01, [])]
    return completion(f"This image is {verdict}.", tokens, model="vlm-served")


def expected_p(url: str) -> float:
    digest = hashlib.sha256(url.encode()).digest()
    chosen = math.exp(-0.05 - digest[1] / 255)
    p_verdict = chosen / (chosen + math.exp(-2.5))
    return p_verdict if digest[0] % 2 else 1 - p_verdict


def grader(body: dict) -> dict:
    return completion(json.dumps({"coverage": 3, "accuracy": {"score": 3}, "specificity": {"score": 3, "reason": "ok"}}))


def test_openai_lmm_and_judge_on_the_demo(demo_root, tmp_path, monkeypatch):
    # the session's cache holds the demo data; cached answers are keyed by this server's own port
    monkeypatch.setenv("FDRBENCH_TEST_KEY", "sk-never-written")
    out = tmp_path / "out"
    with ScriptedServer(vlm) as server:
        base = ["run", "--model", "openai_lmm", "--model-arg", f"base_url={server.base_url}", "--model-arg", "model=vlm-served"]
        base += ["--model-arg", "api_key_env=FDRBENCH_TEST_KEY", "--model-arg", "concurrency=4", "--out", str(out), *COMMON]
        result = runner.invoke(app, base)
        assert result.exit_code == 0, result.output
        first_requests = list(server.requests)
        cached = runner.invoke(app, [*base, "--run-id", "again"])
        assert cached.exit_code == 0, cached.output
    assert len(first_requests) == 12 and len(server.requests) == 12  # the second run came from the cache
    assert server.authorizations[0] == "Bearer sk-never-written"
    body = first_requests[0]
    assert body["model"] == "vlm-served" and body["temperature"] == 0.0 and body["logprobs"] is True and body["top_logprobs"] == 5
    image_part, text_part = body["messages"][-1]["content"]
    assert image_part["image_url"]["url"].startswith("data:image/png;base64,") and text_part["text"] == PROMPT
    expected = {expected_p(b["messages"][-1]["content"][0]["image_url"]["url"]) for b in first_requests}
    run_dir = out / "demo" / "vlm-served"
    (first_dir,) = [p for p in run_dir.iterdir() if p.name != "again"]
    for row in records(first_dir):
        assert min(abs(row["p_fake"] - e) for e in expected) < 1e-9
        assert row["label"] == int(row["p_fake"] > 0.5) and row["n_tokens"] == 100 + 4
        assert row["extra"]["cached"] is False and row["extra"]["served_model"] == "vlm-served"
    assert all(r["extra"]["cached"] for r in records(run_dir / "again"))
    manifest_text = (first_dir / "manifest.json").read_text()
    assert "sk-never-written" not in manifest_text and "sk-never-written" not in (first_dir / "predictions.jsonl").read_text()
    assert json.loads(manifest_text)["usage"]["n_tokens"] == 12 * 104

    with ScriptedServer(grader) as judge_server:
        judged = runner.invoke(
            app,
            [
                "judge",
                str(first_dir),
                "--judge-model",
                "judge-x",
                "--base-url",
                judge_server.base_url,
                "--api-key-env",
                "FDRBENCH_TEST_KEY",
                "--no-progress",
            ],
        )
    assert judged.exit_code == 0, judged.output
    assert "judged with reference@1" in judged.output and "judge_score" in judged.output
    scores = json.loads((first_dir / "scores.json").read_text())
    assert scores["protocols"]["strict"]["overall"]["judge_score"]["value"] == pytest.approx(9 / 15)
    assert len(judge_server.requests) == 12
    text = "\n".join(p["text"] for p in judge_server.requests[0]["messages"][1]["content"] if p["type"] == "text")
    assert "Ground truth: the image is" in text and "Reference explanation:" in text


def test_cli_knows_the_new_adapters_and_stays_light():
    listed = runner.invoke(app, ["list", "models"])
    assert all(name in listed.output for name in ("hf_lmm", "fakevlm", "openai_lmm"))
    assert runner.invoke(app, ["judge", "--help"]).exit_code == 0
    import subprocess

    code = "import sys, fdrbench.cli, fdrbench.pipeline; print(sorted(m for m in ('torch', 'openai', 'transformers') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    code = "import sys, fdrbench.adapters.openai_lmm; print('torch' in sys.modules, 'openai' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False False"
