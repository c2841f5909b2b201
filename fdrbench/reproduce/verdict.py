"""The verdict rule: does a measured value with its 95% interval give back a printed number?

- ``reproduced``: the printed value lies inside the measured 95% confidence interval widened on
  each side by half the printed precision (a paper that prints 98.6 has said "somewhere in
  [98.55, 98.65]", so an interval that reaches 98.55 agrees with it);
- ``deviates``: it lies outside; the verdict says by how much (measured minus printed) and how
  many CI half-widths that difference is;
- ``not comparable``: the run does not measure what the paper measured (task version, split,
  subset, options, protocol, model or settings differ), or gives no value or interval to judge.

Exit codes order them: 0 reproduced, 1 deviates, 2 not comparable; the worst entry of a target
decides its code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

REPRODUCED = "reproduced"
DEVIATES = "deviates"
NOT_COMPARABLE = "not comparable"
EXIT_CODES = {REPRODUCED: 0, DEVIATES: 1, NOT_COMPARABLE: 2}
#: room for the rounding of a value stored as a binary float (0.986 is not exactly 0.986)
_EPS = 1e-12


@dataclass(frozen=True)
class Judgement:
    verdict: str
    #: measured minus printed, on the value's scale (None unless the verdict is ``deviates``)
    difference: float | None = None
    #: |difference| in half-widths of the measured interval (inf for a zero-width interval)
    half_widths: float | None = None


def judge(printed: float, half_width: float, measured: float, ci: tuple[float, float] | list[float]) -> Judgement:
    """The rule, on numbers of one scale: ``printed`` and its ``half_width`` against ``measured`` and its ``ci``."""
    low, high = float(ci[0]), float(ci[1])
    if low - half_width - _EPS <= printed <= high + half_width + _EPS:
        return Judgement(REPRODUCED)
    difference = measured - printed
    spread = (high - low) / 2
    away = abs(difference) / spread if spread > 0 else math.inf
    return Judgement(DEVIATES, difference, away)


def worst(verdicts: list[str]) -> str:
    """The verdict that decides a target: not comparable over deviates over reproduced."""
    return max(verdicts, key=EXIT_CODES.__getitem__) if verdicts else NOT_COMPARABLE
