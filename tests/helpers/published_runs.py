"""FakeClue test-split runs of the ``fakevlm`` adapter, written by the real pipeline, for the reproduce tests.

The data is a FakeClue test split in its released layout (``data_json/test.json``, images under
``test/<source>/<real|fake>/``, FakeClue's own labels: 1 real, 0 fake) with the published class
sizes (1,808 real, 3,192 fake). The model's answers are scripted to the confusion counts a
third-party run of the released checkpoint reported (real positive: TP 1760, FN 48, FP 20,
TN 3168, and 4 fake images answered without a verdict); everything else is the ``fakevlm``
adapter's own code (its verdict rule, its coin for an answer without a verdict, its
``describe()``) and the normal pipeline (``fdrbench.pipeline.run``: manifest, prediction store,
score stage), so the run folders are exactly what ``fdrbench run --model fakevlm --task
fakeclue`` writes, minus the GPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fdrbench.api.detector import Detector, as_detector
from fdrbench.types import Sample

#: (truth, what the answer says) -> count; None says nothing usable
PLAN = {("real", "real"): 1760, ("real", "fake"): 48, ("fake", "real"): 20, ("fake", "fake"): 3168, ("fake", None): 4}
#: how many correct answers each flipped run turns wrong, per class
FLIPPED = {"real": 25, "fake": 25}
CATEGORIES = (("animal", "genimage"), ("doc", "doc"), ("satellite", "satellite"))
N_BOOT = 1000
#: 1x1 PNG: the pipeline never decodes it (the scripted model reads no image)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


def answer(said: str | None, k: int) -> str:
    if said is None:
        return "The lighting and the edges need a closer look before anything can be said."
    evidence = "natural lighting; consistent shadows" if said == "real" else "waxy texture; warped edges"
    text = f"This is a {said} image. {evidence}."
    # every third answer echoes the question first, as the HF script's decoded output does
    return f"Does the image looks real/fake? {text}" if k % 3 == 0 else text


def build_release(root: Path) -> dict[str, str]:
    """Write the split under ``root``; returns {sample id: scripted answer}."""
    records, answers = [], {}
    n = 0
    for (truth, said), count in PLAN.items():
        for k in range(count):
            category, source = CATEGORIES[n % len(CATEGORIES)]
            image = f"{source}/{truth}/{truth}_{n:05d}.png"
            path = root / "test" / image
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(PNG)
            reference = f"This is a {truth} image. " + (
                "natural lighting; consistent shadows." if truth == "real" else "waxy texture; warped edges."
            )
            records.append(
                {
                    "image": image,
                    "label": 1 if truth == "real" else 0,
                    "cate": category,
                    "conversations": [
                        {"from": "human", "value": "<image>Does the image looks real/fake?"},
                        {"from": "gpt", "value": reference},
                    ],
                }
            )
            answers[image] = answer(said, k)
            n += 1
    (root / "data_json").mkdir(parents=True, exist_ok=True)
    (root / "data_json" / "test.json").write_text(json.dumps(records), encoding="utf-8")
    return answers


def flipped(answers: dict[str, str]) -> dict[str, str]:
    """The same answers with 50 correct verdicts turned wrong (25 of each class)."""
    out, left = dict(answers), dict(FLIPPED)
    for sample_id, text in answers.items():
        truth = "real" if "/real/" in sample_id else "fake"
        if left[truth] and f"a {truth} image" in text:
            other = "fake" if truth == "real" else "real"
            out[sample_id] = text.replace(f"a {truth} image", f"a {other} image")
            left[truth] -= 1
    assert not any(left.values())
    return out


class ScriptedFakeVLM(Detector):
    """The ``fakevlm`` adapter with its generation replaced by scripted answers: each prediction is
    built by the adapter's own code (verdict rule, coin, prediction fields), its account of itself
    (``describe()``, ``identity()``) is the adapter's."""

    loads_images = True
    uses_device = False

    def __init__(self, adapter, answers: dict[str, str]):
        self.adapter = adapter
        self.answers = answers
        self.name = adapter.name

    def setup(self, ctx) -> None:
        self.ctx = ctx
        self.adapter.ctx = ctx

    def predict(self, batch: list[Sample]):
        from fdrbench.backends.answers import build_prediction

        out = []
        for sample in batch:
            text = self.answers[sample.id]
            verdict = self.adapter.verdict_reader(sample)(text)
            out.append(self.adapter.finish(build_prediction(sample, text, verdict, None, None, len(text.split()), {}), sample))
        return out

    def describe(self) -> dict:
        return self.adapter.describe()

    def identity(self, task) -> dict:
        return self.adapter.identity(task)


def run_fakevlm(data_dir: Path, out: Path, answers: dict[str, str], name: str | None = None, limit: int | None = None) -> Path:
    """``fdrbench run --model fakevlm --task fakeclue`` with the scripted answers; returns the run folder."""
    from fdrbench import resolve
    from fdrbench.pipeline import RunConfig, run

    real = resolve.make_detector
    config = RunConfig(
        model="fakevlm",
        task="fakeclue",
        data_dir=data_dir,
        out=out,
        name=name,
        limit=limit,
        n_boot=N_BOOT,
        device="cpu",
        batch_size=250,
        # as `--protocol paper`: the strict protocol's BLEU over 5,000 answers would only cost time here
        protocols=["paper"],
        show_progress=False,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(resolve, "make_detector", lambda model, args: as_detector(ScriptedFakeVLM(real(model, args), answers)))
        return run(config).run_dir


@pytest.fixture(scope="session")
def fakeclue_runs(tmp_path_factory: pytest.TempPathFactory, isolated_cache: Path) -> dict[str, Path]:
    """{"data", "results", "reproduced", "flipped", "limit"}: one results root with the three runs."""
    base = tmp_path_factory.mktemp("fakeclue-reproduce")
    data, results = base / "FakeClue", base / "results"
    answers = build_release(data)
    return {
        "data": data,
        "results": results,
        "reproduced": run_fakevlm(data, results, answers),
        "flipped": run_fakevlm(data, results, flipped(answers), name="fakevlm-flipped"),
        "limit": run_fakevlm(data, results, answers, limit=500),
    }
