"""``key=value`` settings from the command line, and constructing a class from them with clear errors."""

from __future__ import annotations

import inspect
import json
import math
from typing import Any

from fdrbench.errors import FdrbenchError


def parse_kv_args(items: list[str] | None, flag: str = "--model-arg") -> dict[str, Any]:
    """``["a=1", "b=true", "c=x"]`` -> ``{"a": 1, "b": True, "c": "x"}`` (JSON values where they parse)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise FdrbenchError(f"{flag} expects key=value, got {item!r}")
        out[key.replace("-", "_")] = _parse_value(raw.strip(), f"{flag} {item}")
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


def _parse_value(raw: str, where: str = "value") -> Any:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        number = float(raw)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            raise FdrbenchError(f"{where}: {raw!r} is not a finite number (NaN and infinity cannot be recorded)")
        return number
    if raw[:1] in "[{":
        try:
            return json.loads(raw, parse_constant=_no_constant)
        except ValueError as exc:
            raise FdrbenchError(f"{where}: value {raw!r} looks like JSON but does not parse: {exc}") from exc
    return raw


def construct(cls: type, args: dict[str, Any], what: str, flag: str = "--model-arg") -> Any:
    """``cls(**args)``, turning a wrong keyword into an error that lists the accepted ones."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        sig = None
    if sig is not None and not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        accepted = [n for n, p in sig.parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        unknown = sorted(set(args) - set(accepted))
        if unknown:
            raise FdrbenchError(f"{what} does not accept {', '.join(unknown)}; it accepts: {', '.join(accepted) or 'nothing'}")
        missing = [
            n
            for n, p in sig.parameters.items()
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in args
        ]
        if missing:
            raise FdrbenchError(f"{what} needs {', '.join(f'{flag} {m}=...' for m in missing)}")
    return cls(**args)
