"""Detectors that misbehave on purpose, loaded by path (``detectors.py:Class``) as a user's own are."""

from __future__ import annotations

import os

import numpy as np

from fdrbench.detector import Detector
from fdrbench.types import Prediction

HUGE = 30 * (1 << 20)  # a 30 MB answer


def _bad(sample_id: str, kind: str) -> Prediction:
    good = {"sample_id": sample_id, "label": 1, "p_fake": 0.7, "explanation": "fake", "raw_output": "fake"}
    if kind == "bytes_extra":
        return Prediction(**good, extra={"blob": b"\x00\x01"})
    if kind == "set_extra":
        return Prediction(**good, extra={"ids": {1, 2}})
    if kind == "array_extra":
        return Prediction(**good, extra={"scores": np.arange(3)})
    if kind == "nan_extra":
        return Prediction(**good, extra={"score": float("nan")})
    if kind == "int_explanation":
        return Prediction(**{**good, "explanation": 42})
    if kind == "list_explanation":
        return Prediction(**{**good, "explanation": ["fake"]})
    if kind == "unknown_class":
        return Prediction(**good, cls="alien")
    if kind == "string_tokens":
        return Prediction(**good, n_tokens="12")
    if kind == "bool_label":
        return Prediction(**{**good, "label": True})
    if kind == "bad_class_probs":
        return Prediction(**good, class_probs={"real": 0.2, "alien": 0.8})
    if kind == "huge_answer":
        text = "fake " * (HUGE // 5)
        return Prediction(**{**good, "explanation": text, "raw_output": text})
    if kind == "numpy_scalars":
        return Prediction(sample_id=sample_id, label=np.int64(1), p_fake=np.float32(0.75), n_tokens=np.int64(5), explanation="fake")
    return Prediction(**good)


class BadOutputDetector(Detector):
    """Returns the misbehaviour ``plan`` names for a sample id (a good prediction otherwise)."""

    name = "badout"
    uses_device = False

    def __init__(self, plan: dict | None = None):
        self.plan = dict(plan or {})

    def predict(self, batch):
        return [_bad(sample.id, self.plan.get(sample.id, "good")) for sample in batch]


class SecretEchoDetector(Detector):
    """A detector whose upstream echoes the API key: in an exception on some samples, in the answer on the rest."""

    name = "echo"
    uses_device = False

    def predict(self, batch):
        key = os.environ["FDRBENCH_HOSTILE_API_KEY"]
        if any("real" in sample.id for sample in batch):
            raise RuntimeError(f"upstream refused the request: Authorization: Bearer {key} (key {key})")
        return [Prediction(sample_id=s.id, label=1, p_fake=0.6, explanation=f"fake; called with {key}") for s in batch]


class Plain:
    """Not a Detector subclass: only predict()."""

    def predict(self, batch):
        return [Prediction(sample_id=s.id, label=int(s.id.endswith("png")), p_fake=0.8, explanation="plain") for s in batch]


class PlainWithHooks:
    """Not a Detector subclass: predict() plus its own describe/setup/close, which the engine must call."""

    name = "hooked"

    def __init__(self, log: str):
        self.log = log

    def _note(self, what: str) -> None:
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write(what + "\n")

    def setup(self, ctx):
        self._note(f"setup {ctx.task.name}")

    def describe(self):
        return {"name": self.name, "weights": "none"}

    def predict(self, batch):
        return [Prediction(sample_id=s.id, label=1, p_fake=0.9) for s in batch]

    def close(self):
        self._note("close")


class NoPredict:
    """Has no predict(): not a detector."""

    def describe(self):
        return {}
