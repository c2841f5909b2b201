"""The openai_lmm adapter on its own: requests it sends, faults per sample, and p_fake from logprobs."""

from __future__ import annotations

import base64
import io
import math

import pytest
from PIL import Image

from fdrbench.adapters.openai_lmm import OpenAILMMDetector
from fdrbench.detector import RunContext
from fdrbench.errors import FdrbenchError
from fdrbench.task import Task
from fdrbench.types import Sample

from .helpers.openai_server import Fault, ScriptedServer, completion


class Listed(Task):
    name = "listed"
    prompt = "<image>\nIs this image real or fake?"

    def samples(self, data_dir, split):
        return []


def answer(body: dict) -> dict:
    top = [(" fake", -0.3), (" real", -1.5)]
    tokens = [("The", -0.1, []), (" image", -0.1, []), (" is", -0.1, []), (" fake", -0.3, top), (".", -0.1, [])]
    return completion("The image is fake.", tokens)


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FDRBENCH_CACHE", str(tmp_path / "cache"))


def jpeg_samples(tmp_path, n: int) -> list[Sample]:
    out = []
    for i in range(n):
        path = tmp_path / f"img{i}.jpg"
        Image.new("RGB", (80, 40), (20 * i, 100, 50)).save(path, format="JPEG")
        out.append(Sample(id=f"s{i}", label=1, image=path))
    return out


def detector(server: ScriptedServer, **settings) -> OpenAILMMDetector:
    det = OpenAILMMDetector(
        model="vlm/test:1", base_url=server.base_url, **{"backoff_s": 0.001, "max_retries": 2, "concurrency": 3, **settings}
    )
    det.setup(RunContext(task=Listed()))
    return det


def test_requests_carry_the_image_the_question_and_settings(tmp_path):
    batch = jpeg_samples(tmp_path, 2)
    with ScriptedServer(answer) as server:
        det = detector(server, system_prompt="You are a forensic analyst.", image_detail="high", seed=7, top_logprobs=3)
        preds = det.predict(batch)
    assert det.name == "vlm-test-1"
    body = sorted(server.requests, key=lambda b: b["messages"][1]["content"][0]["image_url"]["url"])[0]
    assert body["messages"][0] == {"role": "system", "content": "You are a forensic analyst."}
    image, text = body["messages"][1]["content"]
    assert text == {"type": "text", "text": "Is this image real or fake?"}  # the dataset's <image> mark is dropped
    assert image["image_url"]["detail"] == "high" and image["image_url"]["url"].startswith("data:image/jpeg;base64,")
    sent = base64.b64decode(image["image_url"]["url"].split(",", 1)[1])
    assert sent in {(tmp_path / f"img{i}.jpg").read_bytes() for i in range(2)}  # the file's own bytes
    assert (body["seed"], body["top_logprobs"], body["logprobs"], body["max_tokens"]) == (7, 3, True, 512)
    expected = math.exp(-0.3) / (math.exp(-0.3) + math.exp(-1.5))
    assert all(p.label == 1 and p.p_fake == pytest.approx(expected) and p.n_tokens == 104 for p in preds)
    assert preds[0].extra["verdict_site"]["token"] == " fake" and preds[0].extra["finish_reason"] == "stop"


def test_downscaled_images_are_sent_as_png(tmp_path):
    with ScriptedServer(answer) as server:
        detector(server, image_max_side=20).predict(jpeg_samples(tmp_path, 1))
    url = server.requests[0]["messages"][-1]["content"][0]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size == (20, 10)


def test_one_failing_request_fails_only_its_sample(tmp_path):
    batch = jpeg_samples(tmp_path, 3)
    with ScriptedServer(answer) as server:
        server.faults = [Fault("status", 429), None, Fault("status", 400)]  # None: answer normally
        det = detector(server, concurrency=1)
        preds = det.predict(batch)
    assert preds[0].error is None and preds[0].extra["attempts"] == 2  # 429, then an answer
    assert preds[1].error is not None and "BadRequestError 400" in preds[1].error and preds[1].failed
    assert preds[2].error is None and preds[2].label == 1


def test_without_logprobs_the_verdict_stays_and_p_fake_says_why(tmp_path):
    with ScriptedServer(lambda body: completion("This image is real.")) as server:
        (pred,) = detector(server, logprobs=False).predict(jpeg_samples(tmp_path, 1))
    assert "logprobs" not in server.requests[0]
    assert pred.label == 0 and pred.p_fake is None and pred.extra["p_fake_missing"] == "the server returned no logprobs"


def test_sampled_answers_without_a_seed_are_not_cached(tmp_path):
    batch = jpeg_samples(tmp_path, 1)
    with ScriptedServer(answer) as server:
        det = detector(server, temperature=0.7)
        det.predict(batch)
        det.predict(batch)
        seeded = detector(server, temperature=0.7, seed=1)
        seeded.predict(batch)
        seeded.predict(batch)
    assert len(server.requests) == 3


def test_settings_are_checked_and_described():
    with pytest.raises(FdrbenchError, match="top_logprobs"):
        OpenAILMMDetector(model="m", top_logprobs=50)
    described = OpenAILMMDetector(model="m", base_url="http://127.0.0.1:1/v1", prompt="Real?").describe()
    assert described["client"]["base_url"] == "http://127.0.0.1:1/v1" and described["prompt"] == "Real?"
    assert described["client"]["api_key_env"] == "OPENAI_API_KEY" and "api_key" not in described
