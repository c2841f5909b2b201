"""Make a run folder fit to publish: no local absolute paths, no secrets.

A run made on someone's machine records where its weights and data lived
(``/home/alice/...``) and, through an adapter's settings or an error message, could carry an
API key. ``fdrbench submit`` rewrites those before a run is filed into ``results/``, and
``fdrbench validate --portable`` (the CI check of ``results/``) refuses a folder that still has
any. Paths under the fdrbench cache, the data root and the home folder keep their tail
(``$FDRBENCH_CACHE/weights/x.json``, ``~/models/y``); any other absolute path keeps only its
file name (``<abs>/y.bin``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from fdrbench.redact import REDACTED, SECRET_RE, redact_text
from fdrbench.redact import findings as secret_findings

__all__ = ["REDACTED", "SECRET_RE", "clean", "clean_text", "findings", "value_findings"]

# An absolute POSIX path of two or more parts, not preceded by a character that would make it
# part of a URL (``https://host/a/b``) or of a relative path (``a/b/c``).
_POSIX_PATH = re.compile(r"(?<![\w.~:/\\-])/(?:[^\s/\"'<>|:;,()\[\]{}=]+/)+[^\s/\"'<>|:;,()\[\]{}=]*")
_WINDOWS_PATH = re.compile(r"(?<![\w])[A-Za-z]:\\(?:[^\s\\\"'<>|:;,()\[\]{}=]+\\)*[^\s\\\"'<>|:;,()\[\]{}=]*")


def _roots() -> list[tuple[str, str]]:
    """(absolute prefix, placeholder) pairs, longest prefix first."""
    from fdrbench.paths import cache_root, data_root

    pairs = []
    for path, name in ((data_root(), "$FDRBENCH_DATA"), (cache_root(), "$FDRBENCH_CACHE"), (os.path.expanduser("~"), "~")):
        text = str(path).rstrip("/")
        if text and text != os.sep and os.path.isabs(text):
            pairs.append((text, name))
    return sorted(pairs, key=lambda p: len(p[0]), reverse=True)


def _shorten(path: str, roots: list[tuple[str, str]]) -> str:
    for prefix, name in roots:
        if path == prefix or path.startswith(prefix + "/"):
            return name + path[len(prefix) :]
    tail = path.rstrip("/").rsplit("/", 1)[-1]
    return f"<abs>/{tail}"


def clean_text(text: str) -> str:
    """``text`` with secrets redacted and absolute paths shortened."""
    text = redact_text(text)
    roots = _roots()
    text = _POSIX_PATH.sub(lambda m: _shorten(m.group(0), roots), text)
    return _WINDOWS_PATH.sub(lambda m: "<abs>\\" + m.group(0).rstrip("\\").rsplit("\\", 1)[-1], text)


def clean(obj: Any) -> Any:
    """A copy of a JSON value with :func:`clean_text` applied to every string (keys too)."""
    if isinstance(obj, str):
        return clean_text(obj)
    if isinstance(obj, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clean(v) for v in obj]
    return obj


def findings(text: str) -> Iterator[str]:
    """What in ``text`` would not be fit to publish: each secret or absolute path found."""
    yield from secret_findings(text)
    for match in _POSIX_PATH.finditer(text):
        yield f"the absolute path {match.group(0)!r}"
    for match in _WINDOWS_PATH.finditer(text):
        yield f"the absolute path {match.group(0)!r}"


def value_findings(obj: Any, where: str = "") -> Iterator[str]:
    """:func:`findings` over every string of a JSON value, each prefixed with its key path."""
    if isinstance(obj, str):
        for found in findings(obj):
            yield f"{where or 'value'}: {found}"
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from value_findings(value, f"{where}.{key}" if where else str(key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from value_findings(value, f"{where}[{i}]")
