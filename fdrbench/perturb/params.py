"""Parameter values of a perturbation step: typed, range-checked, and written one canonical way.

A value in a spec is a constant (``q=70``), a range drawn per sample (``q=50..100``: integers
uniform and inclusive, floats uniform), or a choice drawn per sample (``interp=bilinear|bicubic``).
Interval parameters (``scale=0.5..1`` of a random resized crop) take a range as a pair the
perturbation uses itself, not as a draw. The canonical text of every value is a fixed point of
parsing, so equal specs always hash equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fdrbench.errors import FdrbenchError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

RANGE = ".."
CHOICE = "|"


def format_number(value: float | int) -> str:
    """Shortest text that reads back as the same number: ``1.0`` -> ``1``, ``0.50`` -> ``0.5``."""
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class Fixed:
    value: Any

    def text(self) -> str:
        return format_number(self.value) if isinstance(self.value, (int, float)) else str(self.value)

    def draw(self, rng: np.random.Generator) -> Any:
        return self.value


@dataclass(frozen=True)
class Range:
    low: float | int
    high: float | int

    def text(self) -> str:
        return f"{format_number(self.low)}{RANGE}{format_number(self.high)}"

    def draw(self, rng: np.random.Generator) -> Any:
        if isinstance(self.low, int):
            return int(rng.integers(self.low, self.high + 1))
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class OneOf:
    values: tuple

    def text(self) -> str:
        return CHOICE.join(Fixed(v).text() for v in self.values)

    def draw(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(0, len(self.values)))]


@dataclass(frozen=True)
class Interval:
    """A (low, high) pair the perturbation reads as a whole (e.g. the area fraction of a crop)."""

    low: float
    high: float

    def text(self) -> str:
        return format_number(self.low) if self.low == self.high else f"{format_number(self.low)}{RANGE}{format_number(self.high)}"

    def draw(self, rng: np.random.Generator) -> Any:
        return (self.low, self.high)


Value = Fixed | Range | OneOf | Interval


@dataclass(frozen=True)
class Param:
    """What one parameter accepts. ``kind`` is ``int``, ``float``, ``word`` or ``interval``."""

    name: str
    kind: str
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    words: tuple[str, ...] = ()
    default: Any = None
    required: bool = False
    odd: bool = False

    def accepts(self) -> str:
        """One phrase for error messages: what values are accepted and the default."""
        if self.kind == "word":
            what = "|".join(self.words)
        else:
            noun = {"int": "an integer", "float": "a number", "interval": "a number or low..high"}[self.kind]
            bracket = "(" if self.low_open else "["
            what = f"{noun} in {bracket}{format_number(self.low)}, {format_number(self.high)}]" + (", odd" if self.odd else "")
        tail = "required" if self.required else ("optional" if self.default is None else f"default {Fixed(self.default).text()}")
        return f"{self.name} ({self.help}: {what}; {tail})"

    def _scalar(self, text: str, where: str) -> Any:
        if self.kind == "word":
            if text not in self.words:
                raise FdrbenchError(f"{where}: {self.name}={text!r} is not accepted; expected one of {'|'.join(self.words)}")
            return text
        try:
            number = int(text) if self.kind == "int" else float(text)
        except ValueError:
            noun = "an integer" if self.kind == "int" else "a number"
            raise FdrbenchError(f"{where}: {self.name}={text!r} is not {noun}; accepted: {self.accepts()}") from None
        if isinstance(number, float) and not math.isfinite(number):
            raise FdrbenchError(f"{where}: {self.name}={text!r} must be finite; accepted: {self.accepts()}")
        too_low = number <= self.low if self.low_open else number < self.low
        if too_low or number > self.high or (self.odd and number % 2 == 0):
            raise FdrbenchError(f"{where}: {self.name}={text} is out of range; accepted: {self.accepts()}")
        return number

    def parse(self, text: str, where: str) -> Value:
        """The value written ``text`` (constant, ``a..b`` or ``a|b``), checked against this parameter."""
        if not text:
            raise FdrbenchError(f"{where}: {self.name} has no value; accepted: {self.accepts()}")
        if RANGE in text:
            if self.kind == "word":
                raise FdrbenchError(f"{where}: {self.name} takes a word or a choice a|b, not a range; accepted: {self.accepts()}")
            low_text, _, high_text = text.partition(RANGE)
            low, high = self._scalar(low_text, where), self._scalar(high_text, where)
            if low > high:
                raise FdrbenchError(f"{where}: {self.name}={text} is an empty range (low above high)")
            if self.kind == "interval":
                return Interval(float(low), float(high))
            return Fixed(low) if low == high else Range(low, high)
        if CHOICE in text:
            if self.kind == "interval":
                raise FdrbenchError(f"{where}: {self.name} takes a number or low..high, not a choice; accepted: {self.accepts()}")
            values = tuple(self._scalar(part, where) for part in text.split(CHOICE))
            if len(set(values)) != len(values):
                raise FdrbenchError(f"{where}: {self.name}={text} repeats a choice")
            return OneOf(values)
        value = self._scalar(text, where)
        return Interval(float(value), float(value)) if self.kind == "interval" else Fixed(value)

    def is_default(self, value: Value) -> bool:
        if self.default is None:
            return False
        if self.kind == "interval":
            return isinstance(value, Interval) and (value.low, value.high) == tuple(self.default)
        return isinstance(value, Fixed) and value.value == self.default
