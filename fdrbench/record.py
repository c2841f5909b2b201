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

import json
import math
import types
import typing
from collections.abc import Iterable
from typing import Any

import msgspec

from fdrbench.errors import ResultsError
from fdrbench.types import (
    MAX_ERROR_CHARS,
    MAX_EXTRA_CHARS,
    MAX_EXTRA_DEPTH,
    MAX_TEXT_CHARS,
    Prediction,
    Truth,
    label_of_class,
    mask_problems,
)

__all__ = ["PREDICTION_FIELDS", "PredictionFields", "Record", "Truth", "fingerprint_items", "validation_message"]
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


class PredictionFields(msgspec.Struct, kw_only=True):
    """The prediction half of a stored line: what a detector said about one sample, without its truth.

    A :class:`Record` adds the truth; a blind submission's line (:mod:`fdrbench.blind`) is this
    alone. The checks of these fields live here, once, for both.
    """

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

    def to_json(self) -> dict[str, Any]:
        return msgspec.to_builtins(self)

    def prediction(self, where: str = "") -> Prediction:
        """The stored prediction as the detector API's type (its own checks applied)."""
        try:
            return Prediction(**{name: getattr(self, name) for name in PREDICTION_FIELDS})
        except (TypeError, ValueError) as exc:
            raise ResultsError(f"{where or f'sample {self.sample_id!r}'}: {exc}") from exc

    def field_problems(self) -> list[str]:
        """Problems of the prediction fields the types cannot express: ranges, caps, plain ``extra``."""
        out = []
        if not self.sample_id:
            out.append("'sample_id' must be a non-empty string")
        if self.label not in (None, 0, 1):
            out.append(f"'label' must be 0, 1 or null, got {self.label!r}")
        if self.p_fake is not None and not (math.isfinite(self.p_fake) and 0.0 <= self.p_fake <= 1.0):
            out.append(f"p_fake must be in [0, 1], got {self.p_fake!r}")
        if self.cls is not None:
            if self.cls not in Truth.CLASSES:
                out.append(f"'cls' {self.cls!r} is not one of {', '.join(sorted(Truth.CLASSES))}")
            elif self.label in (0, 1) and label_of_class(self.cls) != self.label:
                out.append(f"'cls' {self.cls!r} disagrees with 'label' {self.label}")
        for name, value in (self.class_probs or {}).items():
            if name not in Truth.CLASSES or not (math.isfinite(value) and 0.0 <= value <= 1.0):
                out.append(f"class_probs must map class names ({', '.join(sorted(Truth.CLASSES))}) to probabilities in [0, 1]")
                break
        for name, cap in (("explanation", MAX_TEXT_CHARS), ("raw_output", MAX_TEXT_CHARS), ("error", MAX_ERROR_CHARS)):
            text = getattr(self, name)
            if text is not None and len(text) > cap:
                out.append(f"'{name}' is {len(text)} characters long, more than the {cap} kept")
        for name in ("latency_s", "n_tokens"):
            value = getattr(self, name)
            if value is not None and (value < 0 or not math.isfinite(value)):
                out.append(f"'{name}' must not be negative, got {value}")
        out.extend(mask_problems(self.mask, "mask"))
        out.extend(extra_problems(self.extra))
        return out


class Record(PredictionFields, kw_only=True):
    """A stored prediction with its sample's truth; ``judgement`` is attached in memory when scored."""

    truth: Truth
    judgement: dict[str, Any] | None = None

    @classmethod
    def of(cls, prediction: Prediction, truth: Truth) -> Record:
        fields = {name: getattr(prediction, name) for name in PREDICTION_FIELDS}
        return cls(truth=truth, **fields)

    def to_json(self) -> dict[str, Any]:
        """The line as written: prediction fields then ``truth`` (never the in-memory judgement)."""
        out = msgspec.to_builtins(self)
        out.pop("judgement", None)
        return out

    def problems(self) -> list[str]:
        """Semantic problems the types cannot express (empty for a sound record), its truth's too."""
        return [*self.field_problems(), *self.truth.problems()]

    @classmethod
    def decode(cls, line: bytes | str, where: str) -> Record:
        """One line, type-checked; a ResultsError names ``where`` and the offending field."""
        try:
            return _DECODER.decode(line)
        except msgspec.ValidationError as exc:
            raise ResultsError(f"{where}: {validation_message(exc, _raw(line), cls)}") from exc
        except msgspec.DecodeError as exc:
            raise ResultsError(f"{where}: not valid JSON ({exc})") from exc

    @classmethod
    def from_json(cls, data: bytes | str | dict, strict: bool = True, where: str = "prediction") -> Record:
        """A record from a line or an already parsed object; ``strict`` adds the semantic checks."""
        if isinstance(data, dict):
            try:
                record = msgspec.convert(data, cls)
            except msgspec.ValidationError as exc:
                raise ResultsError(f"{where}: {validation_message(exc, data, cls)}") from exc
        else:
            record = cls.decode(data, where)
        if strict:
            found = record.problems()
            if found:
                raise ResultsError(f"{where} (sample {record.sample_id!r}): {'; '.join(found)}")
        return record


_DECODER = msgspec.json.Decoder(Record)


def _raw(data: bytes | str) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return None


def plain_problems(value: Any, where: str, depth: int = 0) -> list[str]:
    """Why ``value`` is not plain JSON data (str, finite number, bool, null, lists, objects with string keys)."""
    if value is None or isinstance(value, (str, bool)) or (isinstance(value, int) and not isinstance(value, bool)):
        return []
    if isinstance(value, float):
        return [] if math.isfinite(value) else [f"{where} is {value}, not a finite number"]
    if depth >= MAX_EXTRA_DEPTH:
        return [f"{where} nests deeper than {MAX_EXTRA_DEPTH} levels"]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in plain_problems(v, f"{where}[{i}]", depth + 1)][:1]
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return [f"{where} has a {type(key).__name__} key {key!r}; keys must be strings"]
            found = plain_problems(item, f"{where}.{key}", depth + 1)
            if found:
                return found
        return []
    return [f"{where} is a {type(value).__name__}, not plain JSON data (str, number, bool, null, list, object)"]


def extra_problems(extra: Any) -> list[str]:
    """``extra`` must be a small object of plain JSON data (a detector's free-form additions)."""
    if not isinstance(extra, dict):
        return [f"'extra' must be an object, got {type(extra).__name__}"]
    found = plain_problems(extra, "'extra'")
    if found:
        return found[:1]
    size = len(json.dumps(extra, ensure_ascii=False, separators=(",", ":")))
    if size > MAX_EXTRA_CHARS:
        return [f"'extra' is {size} characters as JSON, more than the {MAX_EXTRA_CHARS} kept"]
    return []


def _pinpoint(data: Any, kind: Any, path: str = "") -> str | None:
    """The path of the first value of ``data`` that does not convert to ``kind``, with real keys
    where msgspec writes ``[...]`` (it names no mapping key); None when it cannot tell."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):  # an optional container: look inside the non-null member
        members = [a for a in typing.get_args(kind) if a is not type(None)]
        return _pinpoint(data, members[0], path) if len(members) == 1 else None
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct) and isinstance(data, dict):
        hints = typing.get_type_hints(kind)
        children = [(name, data[name], hints[name]) for name in kind.__struct_fields__ if name in data]
    elif origin is dict and isinstance(data, dict):
        children = [(str(k), v, typing.get_args(kind)[1]) for k, v in data.items()]
    elif origin is list and isinstance(data, list):
        children = [(f"[{i}]", v, typing.get_args(kind)[0]) for i, v in enumerate(data)]
    else:
        return None
    for name, value, sub in children:
        try:
            msgspec.convert(value, sub)
        except msgspec.ValidationError:
            child = f"{path}{name}" if name.startswith("[") or not path else f"{path}.{name}"
            return _pinpoint(value, sub, child) or child
    return None


def validation_message(exc: msgspec.ValidationError, data: Any = None, kind: Any = None) -> str:
    """msgspec's "Expected `int`, got `str` - at `$.truth.label`" as "field 'truth.label': expected int, got str";
    given the decoded ``data`` and its ``kind``, a ``[...]`` in the path is replaced by the real keys."""
    text = str(exc)
    message, sep, at = text.rpartition(" - at `")
    if not sep:
        message, at = text, "$"
    path = at.rstrip("`").removeprefix("$").lstrip(".")
    if "[...]" in path and data is not None and kind is not None:
        found = _pinpoint(data, kind)
        if found:
            path = found
    missing = message.removeprefix("Object missing required field `")
    if missing != message:
        field = missing.rstrip("`")
        return f"missing field '{f'{path}.{field}' if path else field}'"
    message = message.replace("`", "")
    return f"field '{path or '<root>'}': {message[:1].lower()}{message[1:]}"


def fingerprint_items(pairs: Iterable[tuple[str, Truth]]) -> list[list]:
    """The fingerprint items of (sample id, truth) pairs, in sample id order."""
    return sorted((truth.fingerprint_item(sid) for sid, truth in pairs), key=lambda item: item[0])
