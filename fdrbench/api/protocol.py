"""The scoring-protocol interface a benchmark implements: ``Protocol``, ``Aggregate`` and the re-parse hook.

The types themselves live in :mod:`fdrbench.protocols` (below the task API, so scoring never
imports a task); this module declares the one hook a protocol carries.
"""

from __future__ import annotations

from typing import Protocol as _Interface

from fdrbench.protocols import Aggregate, Protocol
from fdrbench.record import Truth
from fdrbench.types import Prediction


class Reparse(_Interface):
    """``Protocol.reparse``: re-derive a verdict from a stored prediction with a paper's own rule.

    Called as ``reparse(prediction, truth)`` for every stored line when a run is scored under
    the protocol; ``truth`` is the sample's stored :class:`~fdrbench.record.Truth` (for rules
    that depend on the question asked). Return the prediction to score (``dataclasses.replace``
    of the one given); never read files, the run has only what it stored.
    """

    def __call__(self, prediction: Prediction, truth: Truth) -> Prediction: ...


__all__ = ["Aggregate", "Protocol", "Reparse"]
