"""One line of ``predictions.jsonl`` as a type: the sample's :class:`Truth` and a :class:`Record`.

These are the per-sample half of the results contract (:mod:`fdrbench.results` has the run
files), kept at the bottom of the layers because the metric families read them. They are
``msgspec`` structs: decoding a line straight into the typed record is faster than
``json.loads`` into a dict, every type error names the field (``truth.label``), and nothing
in a line can make fdrbench construct anything but these types.

``Record.decode(line, where)`` checks types; ``record.problems()`` adds the semantic checks
(label and class agree, ``p_fake`` in [0, 1], masks decode). ``from_json(..., strict=True)``
does both and raises :class:`~fdrbench.errors.ResultsError` naming file, line and field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import msgspec

from fdrbench.errors import ResultsError
from fdrbench.types import TERNARY_CLASSES, Prediction, Truth, mask_problems

__all__ = ["PREDICTION_FIELDS", "Record", "Truth", "fingerprint_items", "validation_message"]
#: fields of a stored line that come from the Prediction (in the contract's order)
PREDICTION_FIELDS = (
    "sample_id",
    "label",
    "p_fake",
    "cls",
    "class_probs",
    "explanation",
    "raw_output",
    "mask",
    "parse_ok",
    "error",
    "latency_s",
    "n_tokens",
    "extra",
)


class Record(msgspec.Struct, kw_only=True):
    """A stored prediction with its sample's truth; ``judgement`` is attached in memory when scored."""

    sample_id: str
    label: int | None = None
    p_fake: float | None = None
    cls: str | None = None
    class_probs: dict[str, float] | None = None
    explanation: str | None = None
    raw_output: str | None = None
    mask: dict[str, Any] | None = None
    parse_ok: bool = True
    error: str | None = None
    latency_s: float | None = None
    n_tokens: int | None = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict)
    truth: Truth
    judgement: dict[str, Any] | None = None

    @classmethod
    def of(cls, prediction: Prediction, truth: Truth) -> Record:
        fields = {name: getattr(prediction, name) for name in PREDICTION_FIELDS}
        return cls(truth=truth, **fields)

    def prediction(self, where: str = "") -> Prediction:
        """The stored prediction as the detector API's type (its own checks applied)."""
        try:
            return Prediction(**{name: getattr(self, name) for name in PREDICTION_FIELDS})
        except (TypeError, ValueError) as exc:
            raise ResultsError(f"{where or f'sample {self.sample_id!r}'}: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        """The line as written: prediction fields then ``truth`` (never the in-memory judgement)."""
        out = msgspec.to_builtins(self)
        out.pop("judgement", None)
        return out

    def problems(self) -> list[str]:
        """Semantic problems the types cannot express (empty for a sound record)."""
        out = []
        if not self.sample_id:
            out.append("'sample_id' must be a non-empty string")
        if self.label not in (None, 0, 1):
            out.append(f"'label' must be 0, 1 or null, got {self.label!r}")
        if self.p_fake is not None and not (math.isfinite(self.p_fake) and 0.0 <= self.p_fake <= 1.0):
            out.append(f"p_fake must be in [0, 1], got {self.p_fake!r}")
        if self.cls is not None and self.cls not in Truth.CLASSES:
            out.append(f"'cls' {self.cls!r} is not one of {', '.join(TERNARY_CLASSES)}")
        for name, value in (self.class_probs or {}).items():
            if name not in TERNARY_CLASSES or not (math.isfinite(value) and 0.0 <= value <= 1.0):
                out.append(f"class_probs.{name} must be a class name with a probability in [0, 1], got {value!r}")
        if self.n_tokens is not None and self.n_tokens < 0:
            out.append(f"n_tokens must not be negative, got {self.n_tokens}")
        out.extend(mask_problems(self.mask, "mask"))
        out.extend(self.truth.problems())
        return out

    @classmethod
    def decode(cls, line: bytes | str, where: str) -> Record:
        """One line, type-checked; a ResultsError names ``where`` and the offending field."""
        try:
            return _DECODER.decode(line)
        except msgspec.ValidationError as exc:
            raise ResultsError(f"{where}: {validation_message(exc)}") from exc
        except msgspec.DecodeError as exc:
            raise ResultsError(f"{where}: not valid JSON ({exc})") from exc

    @classmethod
    def from_json(cls, data: bytes | str | dict, strict: bool = True, where: str = "prediction") -> Record:
        """A record from a line or an already parsed object; ``strict`` adds the semantic checks."""
        if isinstance(data, dict):
            try:
                record = msgspec.convert(data, cls)
            except msgspec.ValidationError as exc:
                raise ResultsError(f"{where}: {validation_message(exc)}") from exc
        else:
            record = cls.decode(data, where)
        if strict:
            found = record.problems()
            if found:
                raise ResultsError(f"{where} (sample {record.sample_id!r}): {'; '.join(found)}")
        return record


_DECODER = msgspec.json.Decoder(Record)


def validation_message(exc: msgspec.ValidationError) -> str:
    """msgspec's "Expected `int`, got `str` - at `$.truth.label`" as "field 'truth.label': expected int, got str"."""
    text = str(exc)
    message, sep, at = text.rpartition(" - at `")
    if not sep:
        message, at = text, "$"
    path = at.rstrip("`").removeprefix("$").lstrip(".")
    missing = message.removeprefix("Object missing required field `")
    if missing != message:
        field = missing.rstrip("`")
        return f"missing field '{f'{path}.{field}' if path else field}'"
    message = message.replace("`", "")
    return f"field '{path or '<root>'}': {message[:1].lower()}{message[1:]}"


def fingerprint_items(pairs: Iterable[tuple[str, Truth]]) -> list[list]:
    """The fingerprint items of (sample id, truth) pairs, in sample id order."""
    return sorted((truth.fingerprint_item(sid) for sid, truth in pairs), key=lambda item: item[0])
