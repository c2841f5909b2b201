"""The LLM judge against a real HTTP server on 127.0.0.1: rubrics, retries, missing-never-zero,
resume, ledger, manifest and the judge_score metric."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fdrbench.backends.openai_client import ClientSettings
from fdrbench.errors import FdrbenchError
from fdrbench.judge.rubric import JudgeOutputError, load_rubric, shipped
from fdrbench.judge.run import JudgeSettings, judge_run
from fdrbench.judge.store import load_judgements
from fdrbench.pipeline import RunConfig, run
from fdrbench.stages.score import score_run_dir
from fdrbench.store import PredictionWriter, iter_records

from .conftest import HELPERS
from .helpers.judge_fixtures import explanation_in, images_in, make_images, scores_json
from .helpers.openai_server import Fault, ScriptedServer, completion
from .helpers.plugins import install_entry_points

LOKI_KEYS = ("overall", "completeness", "correctness", "plausibility")
FIXTURES = HELPERS / "judge_fixtures.py"


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """A response cache per test, so each test sees its own server's answers."""
    monkeypatch.setenv("FDRBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def run_dir(tmp_path, monkeypatch) -> Path:
    # registered under a plain name, as an installed task would be, so the run can be re-scored
    install_entry_points(tmp_path / "plugin", monkeypatch, {"fdrbench.tasks": {"annotated": "tests.helpers.judge_fixtures:AnnotatedTask"}})
    # the task's default data folder: the judge reads images there (or from --data-dir), never from a folder the run records
    monkeypatch.setenv("FDRBENCH_DATA", str(tmp_path / "data-root"))
    data = tmp_path / "data-root" / "annotated"
    make_images(data)
    result = run(
        RunConfig(
            model=f"{FIXTURES}:ExplainingDetector",
            task="annotated",
            data_dir=data,
            out=tmp_path / "results",
            batch_size=5,
            n_boot=20,
            max_failures=None,
            show_progress=False,
        )
    )
    return result.run_dir


def grader(body: dict) -> dict:
    """A judge: 4 per criterion for the six-finger explanation, 2 otherwise."""
    value = 4 if "fingers" in explanation_in(body) else 2
    return completion(scores_json(LOKI_KEYS, value))


def settings(server: ScriptedServer, timeout_s: float = 2.0, max_retries: int = 2, **overrides) -> JudgeSettings:
    client = ClientSettings(
        base_url=server.base_url,
        api_key_env="FDRBENCH_TEST_KEY",
        concurrency=1,
        backoff_s=0.001,
        timeout_s=timeout_s,
        max_retries=max_retries,
    )
    return JudgeSettings(**{"judge_model": "judge-1", "client": client, "show_progress": False, **overrides})


def judge_score(run_dir: Path) -> float | None:
    scores = json.loads((run_dir / "scores.json").read_text())
    return scores["protocols"]["strict"]["overall"]["judge_score"]["value"]


def test_judging_a_run_end_to_end(run_dir):
    with ScriptedServer(grader) as server:
        summary = judge_run(run_dir, settings(server, price_in=2.5, price_out=10.0))
    assert summary.rubric == "loki_explanation@1"
    judgements = load_judgements(run_dir)
    assert {sid: j["status"] for sid, j in judgements.items()} == {
        "a0": "ok",
        "a1": "ok",
        "a2": "no_explanation",
        "a3": "no_explanation",
        "r0": "not_applicable",
    }
    assert judgements["a0"]["score"] == pytest.approx(16 / 20) and judgements["a1"]["score"] == pytest.approx(8 / 20)
    assert judgements["a0"]["criteria"] == dict.fromkeys(LOKI_KEYS, 4) and judgements["a0"]["reasons"]["overall"] == "graded 4"
    assert judgements["a2"]["score"] == 0.0 and judgements["a2"]["usage"]["calls"] == 0
    # a0, a1 graded; a2/a3 at the minimum; r0 left out
    assert judge_score(run_dir) == pytest.approx((0.8 + 0.4 + 0.0 + 0.0) / 4)
    assert len(server.requests) == 2
    first = server.requests[0]
    assert first["model"] == "judge-1" and first["temperature"] == 0.0 and first["response_format"] == {"type": "json_object"}
    assert images_in(first) == 3  # the image and the crops of the two regions inside it
    text = "\n".join(p["text"] for p in first["messages"][1]["content"] if p["type"] == "text")
    assert "Global note:\nLighting is inconsistent across the scene." in text
    assert "Regional note 1 (box [4.0, 4.0, 20.0, 16.0]): The hand has six fingers." in text
    assert "Plausibility" in text and first["messages"][0]["role"] == "system"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    judge = manifest["judge"]
    assert judge["judge_model"] == "judge-1" and judge["temperature"] == 0.0
    assert judge["rubric"]["sha256"] == load_rubric("loki_explanation").sha256
    ledger = judge["ledger"]
    assert ledger["counts"] == {"ok": 2, "no_explanation": 2, "not_applicable": 1}
    answer_tokens = len(scores_json(LOKI_KEYS, 4).split())  # what the scripted server reports per answer
    assert (ledger["calls"], ledger["prompt_tokens"], ledger["completion_tokens"]) == (2, 200, 2 * answer_tokens)
    assert ledger["cost_usd"] == pytest.approx((200 * 2.5 + 2 * answer_tokens * 10.0) / 1e6)
    # re-scoring from the folder keeps the judgements; re-judging asks nothing new
    scores, _ = score_run_dir(run_dir)
    assert scores.to_json()["protocols"]["strict"]["overall"]["judge_score"]["value"] == pytest.approx(0.3)
    with ScriptedServer(grader) as again:
        judge_run(run_dir, settings(again))
    assert again.requests == []


def test_malformed_and_out_of_range_answers_are_sent_back(run_dir):
    calls = {"a0": 0, "a1": 0}

    def flaky(body):
        key = "a0" if "fingers" in explanation_in(body) else "a1"
        calls[key] += 1
        if calls[key] == 1:
            return completion("Overall I would say 4 out of 5." if key == "a0" else scores_json(LOKI_KEYS, 7))
        return grader(body)

    with ScriptedServer(flaky) as server:
        judge_run(run_dir, settings(server))
    judgements = load_judgements(run_dir)
    assert judgements["a0"]["status"] == "ok" and judgements["a0"]["attempts"] == 2
    assert judgements["a1"]["status"] == "ok" and judgements["a1"]["attempts"] == 2
    retry = server.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": "Overall I would say 4 out of 5."}
    assert "not valid JSON" in retry[-1]["content"]
    assert "outside 0-5" in server.requests[3]["messages"][-1]["content"]


def test_an_answer_that_never_validates_is_missing_not_zero(run_dir):
    def stubborn(body):
        if "fingers" in explanation_in(body):
            return completion(json.dumps({"overall": 3}))  # three criteria missing, every time
        return grader(body)

    with ScriptedServer(stubborn) as server:
        judge_run(run_dir, settings(server, max_attempts=2))
    judgements = load_judgements(run_dir)
    assert judgements["a0"]["status"] == "missing" and judgements["a0"]["score"] is None
    assert "criterion 'completeness' needs an integer score" in judgements["a0"]["error"]
    assert len(server.requests) == 3
    assert judge_score(run_dir) == pytest.approx((0.4 + 0.0 + 0.0) / 3)


def test_transport_faults_are_retried(run_dir):
    with ScriptedServer(grader) as server:
        server.faults = [Fault("status", 429, headers={"Retry-After": "0"}), Fault("drop"), Fault("delay", seconds=3.0), Fault("malformed")]
        judge_run(run_dir, settings(server, timeout_s=0.5, max_retries=4))
    judgements = load_judgements(run_dir)
    assert judgements["a0"]["status"] == "ok" and judgements["a1"]["status"] == "ok"
    assert len(server.requests) == 6  # a0: 429, dropped, timed out, malformed body, answer; a1: answer


def test_server_failure_is_missing_and_a_rerun_asks_again(run_dir):
    with ScriptedServer(grader) as server:
        server.faults = [Fault("status", 500), Fault("status", 500), Fault("status", 500)]
        judge_run(run_dir, settings(server))
    first = load_judgements(run_dir)
    assert first["a0"]["status"] == "missing" and "500" in first["a0"]["error"]
    assert first["a1"]["status"] == "ok"
    assert judge_score(run_dir) == pytest.approx((0.4 + 0.0 + 0.0) / 3)
    with ScriptedServer(grader) as server:
        judge_run(run_dir, settings(server))
    assert len(server.requests) == 1  # only the missing one
    assert load_judgements(run_dir)["a0"]["status"] == "ok"
    assert judge_score(run_dir) == pytest.approx(0.3)


def test_a_prediction_made_again_is_judged_again(run_dir):
    with ScriptedServer(grader) as server:
        judge_run(run_dir, settings(server))
        # a3 failed at first; predicting it again (as --retry-failed does) appends a new line
        (old,) = [r for _, r in iter_records(run_dir / "predictions.jsonl") if r["sample_id"] == "a3"]
        retried = {**old, "error": None, "label": 1, "parse_ok": True, "explanation": "The six fingers give it away.", "raw_output": "x"}
        with PredictionWriter(run_dir / "predictions.jsonl") as writer:
            writer.write([retried])
        scores, _ = score_run_dir(run_dir)
        assert scores.to_json()["protocols"]["strict"]["overall"]["judge_score"]["value"] == pytest.approx((0.8 + 0.4 + 0.0) / 3)
        judge_run(run_dir, settings(server))
    assert len(server.requests) == 3  # a0, a1, then a3 alone
    assert load_judgements(run_dir)["a3"]["status"] == "ok"
    assert judge_score(run_dir) == pytest.approx((0.8 + 0.4 + 0.0 + 0.8) / 4)


def test_other_judge_settings_need_restart(run_dir):
    with ScriptedServer(grader) as server:
        judge_run(run_dir, settings(server))
        with pytest.raises(FdrbenchError, match="--restart"):
            judge_run(run_dir, settings(server, judge_model="judge-2"))
        judge_run(run_dir, settings(server, judge_model="judge-2", restart=True))
    assert len(list(run_dir.glob("judgements.*.jsonl"))) == 1
    assert all(j["judge_model"] == "judge-2" for j in load_judgements(run_dir).values())


def test_text_only_judging_and_the_reference_rubric_choice(run_dir):
    with ScriptedServer(grader) as server:
        judge_run(run_dir, settings(server, images=False))
    assert all(images_in(body) == 0 for body in server.requests)
    text = "\n".join(p["text"] for p in server.requests[0]["messages"][1]["content"] if p["type"] == "text")
    assert "The image is not available" in text
    from fdrbench.judge.run import choose_rubric
    from fdrbench.record import Record
    from fdrbench.task import Task

    class Plain(Task):
        def samples(self, data_dir, split):
            return []

    def line(reference):
        return {"x": Record.from_json({"sample_id": "x", "truth": {"label": 1, "reference": reference}})}

    with pytest.raises(FdrbenchError, match="no reference explanation or annotation"):
        choose_rubric("auto", Plain(), line({}))
    assert choose_rubric("auto", Plain(), line({"text": "The sky is smeared."})).name == "reference"
    # the task's own hook decides first (a benchmark with regional notes names the annotation rubric)
    from .helpers.judge_fixtures import AnnotatedTask

    assert choose_rubric("auto", AnnotatedTask(), line({"parts": {"regional": [{"region": [0, 0, 1, 1], "desc": "x"}]}})).name == (
        "loki_explanation"
    )


def test_rubrics_load_hash_and_validate(tmp_path):
    assert ("loki_explanation", 1) in shipped() and ("reference", 1) in shipped()
    loki = load_rubric("loki_explanation")
    assert loki.ref == "loki_explanation@1" and loki.max_total == 20 and [c.key for c in loki.criteria] == list(LOKI_KEYS)
    assert load_rubric("reference@1").max_total == 15
    with pytest.raises(FdrbenchError, match="unknown rubric"):
        load_rubric("nope")
    with pytest.raises(FdrbenchError, match="no version"):
        load_rubric("reference@9")
    custom = tmp_path / "mine.json"
    data = json.loads((Path(__file__).parent.parent / "fdrbench/judge/rubrics/reference.v1.json").read_text())
    custom.write_text(json.dumps({**data, "max": 10}))
    mine = load_rubric(str(custom))
    assert mine.maximum == 10 and mine.sha256 != load_rubric("reference").sha256
    custom.write_text(json.dumps({**data, "criteria": []}))
    with pytest.raises(FdrbenchError, match="at least one criterion"):
        load_rubric(str(custom))
    ref = load_rubric("reference")
    assert ref.parse('```json\n{"coverage": 5, "accuracy": {"score": 4.0}, "specificity": {"score": 0, "reason": "generic"}}\n```') == (
        {"coverage": 5, "accuracy": 4, "specificity": 0},
        {"specificity": "generic"},
    )
    assert ref.parse('{"criteria": {"coverage": 1, "accuracy": 1, "specificity": 1}}')[0]["coverage"] == 1
    assert ref.normalise({"coverage": 5, "accuracy": 4, "specificity": 0}) == pytest.approx(9 / 15)
    for bad, problem in [
        ('{"coverage": true, "accuracy": 1, "specificity": 1}', "integer"),
        ('{"coverage": 3.5, "accuracy": 1, "specificity": 1}', "integer"),
        ('{"coverage": NaN, "accuracy": 1, "specificity": 1}', "integer"),
        ('{"coverage": "3", "accuracy": 1, "specificity": 1}', "integer"),
        ('{"coverage": 6, "accuracy": 1, "specificity": 1}', "outside 0-5"),
        ('{"coverage": -1, "accuracy": 1, "specificity": 1}', "outside 0-5"),
        ("[1, 2, 3]", "JSON object"),
        ("scores: 3, 3, 3", "not valid JSON"),
    ]:
        with pytest.raises(JudgeOutputError, match=problem):
            ref.parse(bad)
