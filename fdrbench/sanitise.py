"""Secret redaction and publishing hygiene, in one place: no secrets, no local absolute paths.

:func:`scrub` replaces the values of secret-named keys (``api_key``, ``hf_token``) in anything a
run records (settings, ``describe()``); :func:`clean_text` / :func:`clean` redact secret-shaped
tokens and the values of secret environment variables from any text and shorten local paths.

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

#: token-shaped secrets of the common providers (OpenAI, Hugging Face, GitHub, AWS, Slack, PEM)
_SECRET_PATTERNS = (
    r"sk-[A-Za-z0-9_-]{20,}",
    r"hf_[A-Za-z0-9]{30,}",
    r"gh[pousr]_[A-Za-z0-9]{30,}",
    r"github_pat_[A-Za-z0-9_]{30,}",
    r"AKIA[0-9A-Z]{16}",
    r"xox[abprs]-[A-Za-z0-9-]{10,}",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"(?i:bearer)\s+[A-Za-z0-9._~+/-]{20,}",
)
SECRET_RE = re.compile("|".join(f"(?:{p})" for p in _SECRET_PATTERNS))
_SECRET_ENV = re.compile(r"(api[_-]?key|token|secret|password|credential)", re.IGNORECASE)
# An absolute POSIX path of two or more parts, not preceded by a character that would make it
# part of a URL (``https://host/a/b``) or of a relative path (``a/b/c``).
_POSIX_PATH = re.compile(r"(?<![\w.~:/\\-])/(?:[^\s/\"'<>|:;,()\[\]{}=]+/)+[^\s/\"'<>|:;,()\[\]{}=]*")
_WINDOWS_PATH = re.compile(r"(?<![\w])[A-Za-z]:\\(?:[^\s\\\"'<>|:;,()\[\]{}=]+\\)*[^\s\\\"'<>|:;,()\[\]{}=]*")
REDACTED = "***"
# A secret's key names the secret itself ("api_key", "hf_token", "client_secret"), so counts such as
# "max_new_tokens" or "n_tokens" are not mistaken for one.
_SECRET_KEY = re.compile(r"(^|[_-])(api[_-]?key|apikey|token|secret|password|passwd|authorization|bearer)$", re.IGNORECASE)


def scrub(obj: Any) -> Any:
    """Copy of ``obj`` with the values of secret-looking keys replaced: keys never reach a file."""
    if isinstance(obj, dict):
        return {k: (REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) and v else scrub(v)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub(v) for v in obj]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


def _env_secrets() -> list[str]:
    """Values of secret-named environment variables (long enough to be a key, not a flag)."""
    return sorted({v for k, v in os.environ.items() if _SECRET_ENV.search(k) and len(v) >= 8}, key=len, reverse=True)


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
    for value in _env_secrets():
        text = text.replace(value, REDACTED)
    text = SECRET_RE.sub(REDACTED, text)
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
    for value in _env_secrets():
        if value in text:
            yield "the value of a secret environment variable"
    for match in SECRET_RE.finditer(text):
        yield f"a secret-like token {match.group(0)[:6]}..."
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
