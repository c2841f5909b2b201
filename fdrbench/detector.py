"""Public import path of the detector interface; it is declared in :mod:`fdrbench.api.detector`."""

from fdrbench.api.detector import Detector, PlainDetector, RunContext, Trainable, TrainContext, as_detector

__all__ = ["Detector", "PlainDetector", "RunContext", "TrainContext", "Trainable", "as_detector"]
