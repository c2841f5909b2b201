"""The interfaces the engine calls, each hook declared with its default and why it exists.

- :mod:`fdrbench.api.task`: :class:`Task`, what a benchmark implements.
- :mod:`fdrbench.api.detector`: :class:`Detector` (any object with ``predict(batch)``),
  :class:`RunContext`, :class:`TrainContext` and the :class:`Trainable` protocol.
- :mod:`fdrbench.api.protocol`: :class:`Protocol`, :class:`Aggregate` and the ``reparse`` hook.

The data they exchange are :mod:`fdrbench.types` (``Sample``, ``Prediction``) and
:mod:`fdrbench.record` (``Truth``, ``Record``).
"""

from fdrbench.api.detector import Detector, RunContext, Trainable, TrainContext, as_detector
from fdrbench.api.protocol import Aggregate, Protocol, Reparse
from fdrbench.api.task import Task, subsample
from fdrbench.types import Prediction, Reference, Sample

__all__ = [
    "Aggregate",
    "Detector",
    "Prediction",
    "Protocol",
    "Reference",
    "Reparse",
    "RunContext",
    "Sample",
    "Task",
    "TrainContext",
    "Trainable",
    "as_detector",
    "subsample",
]
