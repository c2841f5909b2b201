"""Secrets never reach a file or a log: the one place that recognises and blanks them.

A server may echo the API key in an error ("Incorrect API key provided: sk-..."), an adapter's
exception may quote a request header, and a setting may hold a token. So every writer of run
files (predictions, judgements, manifests, response caches: :mod:`fdrbench.store`) and every
printed error passes its text through :func:`redact_text`. What is blanked:

* the keys fdrbench itself is using, whatever they look like (:func:`register` is called by the
  code that reads one from the environment);
* the values of secret-named environment variables (``*_API_KEY``, ``*TOKEN*``, ``*SECRET*``, ...);
* token-shaped strings of the common providers (OpenAI, Hugging Face, GitHub, AWS, Slack, PEM keys);
* the value of an ``Authorization`` (or ``X-Api-Key``, ``api_key=``) setting quoted in a text, and
  the password of a ``scheme://user:password@host`` URL.

Secrets shorter than :data:`MIN_SECRET_LENGTH` characters are not treated as values to blank (a
local server's dummy key "EMPTY" is not a secret, and blanking every "abc" would mangle text).
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import PurePath
from typing import Any

REDACTED = "***"
MIN_SECRET_LENGTH = 8

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
#: ``Authorization: Bearer x``, ``'x-api-key': 'x'``, ``api_key=x`` as they appear in messages and reprs
_ASSIGNMENT = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-api-key|api[_-]?key|access[_-]?token)\b"
    r"([\"']?\s*[:=]\s*[\"']?)((?:bearer|basic|token)\s+)?[^\s\"',;}&]+"
)
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@")
_SECRET_ENV = re.compile(r"(api[_-]?key|token|secret|password|credential)", re.IGNORECASE)
#: a settings key that names a secret itself ("api_key", "hf_token", "client_secret"); counts such as
#: "max_new_tokens" or "n_tokens" are not mistaken for one
_SECRET_KEY = re.compile(r"(^|[_-])(api[_-]?key|apikey|token|secret|password|passwd|authorization|bearer)$", re.IGNORECASE)

_registered: set[str] = set()
_lock = threading.Lock()


def register(value: str | None) -> None:
    """Remember a secret this process uses, so that it is blanked wherever it shows up."""
    if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(value)


def env_secrets() -> list[str]:
    """Values of secret-named environment variables (long enough to be a key, not a flag)."""
    return [v for k, v in os.environ.items() if _SECRET_ENV.search(k) and len(v) >= MIN_SECRET_LENGTH]


def known_secrets() -> list[str]:
    """Every secret value to blank, longest first (so a key containing another is blanked whole)."""
    with _lock:
        values = set(_registered)
    values.update(env_secrets())
    return sorted(values, key=len, reverse=True)


def redact_text(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with every secret blanked (see the module docstring)."""
    for value in known_secrets() if secrets is None else secrets:
        if value in text:
            text = text.replace(value, REDACTED)
    text = SECRET_RE.sub(REDACTED, text)
    text = _ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}{REDACTED}", text)
    return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)


def redact(obj: Any, secrets: list[str] | None = None) -> Any:
    """A copy of a JSON-like value with :func:`redact_text` applied to every string (keys too)."""
    secrets = known_secrets() if secrets is None else secrets
    if isinstance(obj, str):
        return redact_text(obj, secrets)
    if isinstance(obj, dict):
        return {(redact_text(k, secrets) if isinstance(k, str) else k): redact(v, secrets) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact(v, secrets) for v in obj]
    return obj


def scrub_settings(obj: Any) -> Any:
    """Settings as recorded: values under secret-named keys replaced, strings redacted, paths as text.

    Used for adapter and task arguments, ``describe()`` and the run config, which are hashed
    after this, so the recorded hash is the hash of what is on disk.
    """
    secrets = known_secrets()

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) and v else walk(v)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        if isinstance(value, PurePath):
            return redact_text(str(value), secrets)
        if isinstance(value, str):
            return redact_text(value, secrets)
        return value

    return walk(obj)


def findings(text: str) -> list[str]:
    """What in ``text`` is a secret, described without repeating it (for ``validate --portable``)."""
    out = []
    if any(value in text for value in known_secrets()):
        out.append("the value of a secret environment variable (or of a key in use)")
    out.extend(f"a secret-like token {match.group(0)[:6]}..." for match in SECRET_RE.finditer(text))
    out.extend(f"a {match.group(1)} value" for match in _ASSIGNMENT.finditer(text) if REDACTED not in match.group(0))
    out.extend("a password in a URL" for match in _URL_PASSWORD.finditer(text) if REDACTED not in match.group(0))
    return out
