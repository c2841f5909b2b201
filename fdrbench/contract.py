"""The pieces every results file's type is built from: reading and checking a contract file, a
metric's value with its interval, the bootstrap settings.

:mod:`fdrbench.results` (the run files) and :mod:`fdrbench.robustness_schema` (``robustness.json``)
build on them; :mod:`fdrbench.results` is where readers import every type from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from fdrbench.errors import ResultsError
from fdrbench.record import _raw, validation_message


class Contract(msgspec.Struct, omit_defaults=True, kw_only=True):
    """Reading, checking and writing one results file (its name and what it is: ``FILE``, ``WHAT``)."""

    @classmethod
    def from_json(cls, data: bytes | str | dict, strict: bool = True, where: str = ""):
        where = where or cls.FILE
        try:
            obj = msgspec.convert(data, cls) if isinstance(data, dict) else msgspec.json.decode(data, type=cls)
        except msgspec.ValidationError as exc:
            raw = data if isinstance(data, dict) else _raw(data)
            raise ResultsError(f"{where}: {validation_message(exc, raw, cls)}") from exc
        except msgspec.DecodeError as exc:
            raise ResultsError(f"{where}: not readable JSON ({exc})") from exc
        if strict:
            found = obj.problems()
            if found:
                raise ResultsError(f"{where}: {found[0]}" + (f" (and {len(found) - 1} more problems)" if len(found) > 1 else ""))
        return obj

    @classmethod
    def read(cls, path: Path, strict: bool = True):
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError as exc:
            raise ResultsError(f"{path}: {cls.WHAT} not found") from exc
        except OSError as exc:
            raise ResultsError(f"{path}: {cls.WHAT} cannot be read ({exc})") from exc
        return cls.from_json(data, strict=strict, where=str(path))

    def to_json(self) -> dict[str, Any]:
        return msgspec.to_builtins(self)

    def problems(self) -> list[str]:
        return []


class Entry(msgspec.Struct):
    value: float | None
    ci: list[float] | None


class ScoreInfo(msgspec.Struct):
    n_boot: int
    ci_level: float
    seed: int
    ci_method: str = ""


def entry_problems(entry: Entry, where: str, bounded: bool) -> list[str]:
    out = []
    value, ci = entry.value, entry.ci
    top = "[0, 1]" if bounded else "[0, inf)"
    if value is not None and (value != value or value < 0 or (bounded and value > 1)):
        out.append(f"{where}.value {value} is outside {top} (values are fractions, never percentages)")
    if ci is not None and (len(ci) != 2 or ci[0] > ci[1] or ci[0] < 0 or (bounded and ci[1] > 1)):
        out.append(f"{where}.ci {ci} is not an interval inside {top}")
    return out
