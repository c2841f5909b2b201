"""Typed options of a metric family: a frozen dataclass whose fields are the accepted settings.

A protocol's options are one flat mapping (``{"bleu_tokenizer": "whitespace", "mask_size":
1024}``); each family reads its own fields from it through :meth:`FamilyOptions.of`, and
:func:`fdrbench.metrics.registry.check_options` refuses any key no family of the protocol's
metrics declares, naming the key and the accepted ones, so a misspelt option cannot silently
fall back to a default.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any

from fdrbench.errors import FdrbenchError


def _allowed(hint: Any) -> tuple[tuple[type, ...], tuple[Any, ...] | None]:
    """(accepted types, accepted literal values or None) of one field's type hint."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return (), typing.get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        types_: list[type] = []
        literals: list[Any] = []
        for arg in typing.get_args(hint):
            sub_types, sub_literals = _allowed(arg)
            types_.extend(sub_types)
            literals.extend(sub_literals or ())
        return tuple(types_), tuple(literals) or None
    if hint is type(None):
        return (type(None),), None
    if hint is float:
        return (float, int), None
    return (hint,), None


@dataclasses.dataclass(frozen=True)
class FamilyOptions:
    """Base of every family's options; subclasses are frozen dataclasses with defaults."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def check(cls, key: str, value: Any, where: str) -> None:
        """Raise when ``value`` is not of the type the field ``key`` declares."""
        hint = typing.get_type_hints(cls)[key]
        types_, literals = _allowed(hint)
        if literals is not None and value in literals:
            return
        if isinstance(value, bool) and bool not in types_:
            ok = False
        else:
            ok = isinstance(value, types_) if types_ else False
        if not ok:
            expected = " or ".join([*(t.__name__ for t in types_), *(repr(v) for v in literals or ())])
            raise FdrbenchError(f"{where}: option {key!r} must be {expected}, got {value!r}")

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> FamilyOptions:
        """This family's fields from a protocol's options (None means the field's default)."""
        given = {k: v for k, v in options.items() if k in cls.names() and v is not None}
        return cls(**given)
