"""Adapters used by the tests, loaded the way users load their own: ``path/to/file.py:Class``.

Their verdicts are a deterministic function of the sample id, so two runs agree exactly.
"""

from __future__ import annotations

import hashlib
import time

from fdrbench.detector import Detector
from fdrbench.types import Prediction


def id_score(sample_id: str) -> float:
    return int(hashlib.sha256(sample_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


class HashDetector(Detector):
    """p_fake from a hash of the id; optionally slow, optionally failing on chosen ids."""

    name = "hashdet"
    uses_device = False

    def __init__(self, delay: float = 0.0, fail_every: int = 0, log: str | None = None):
        self.delay = float(delay)
        self.fail_every = int(fail_every)
        self.log = log

    def predict(self, batch):
        out = []
        for sample in batch:
            if self.log:
                with open(self.log, "a", encoding="utf-8") as handle:
                    handle.write(sample.id + "\n")
            if self.fail_every and int(hashlib.sha256(sample.id.encode()).hexdigest(), 16) % self.fail_every == 0:
                raise RuntimeError(f"synthetic failure on {sample.id}")
            sample.load_image()
            p = id_score(sample.id)
            out.append(Prediction(sample_id=sample.id, label=int(p >= 0.5), p_fake=p, explanation=f"score {p:.3f}", n_tokens=3))
            if self.delay:
                time.sleep(self.delay)
        return out

    def describe(self):
        return {"name": self.name, "delay": self.delay, "fail_every": self.fail_every}


class TextOnlyDetector(Detector):
    """Gives verdicts without probabilities, and leaves every fifth output unparsed."""

    name = "textonly"
    uses_device = False

    def predict(self, batch):
        out = []
        for sample in batch:
            p = id_score(sample.id)
            if p < 0.2:
                out.append(Prediction(sample_id=sample.id, label=None, parse_ok=False, raw_output="I cannot tell."))
            else:
                out.append(Prediction(sample_id=sample.id, label=int(p >= 0.5), raw_output="This image is fake."))
        return out


class SizeDetector(Detector):
    """Says what it saw: the verdict of :class:`HashDetector`, and the size of the image it was given."""

    name = "sizedet"
    uses_device = False

    def predict(self, batch):
        out = []
        for sample in batch:
            width, height = sample.load_image().size
            p = id_score(sample.id)
            text = f"an image of {width}x{height} pixels"
            out.append(Prediction(sample_id=sample.id, label=int(p >= 0.5), p_fake=p, explanation=text, extra={"size": [width, height]}))
        return out
