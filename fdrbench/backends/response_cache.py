"""On-disk cache of API responses, keyed by everything that determines the answer.

The key is the SHA-256 of the endpoint and the full request body (model, messages with their
images, decoding settings, logprob settings, response format). Each response is one JSON file
written atomically, so concurrent writers and a killed process never leave a half entry, and a
re-run (or a re-judge) replays stored answers instead of paying for them again. Requests are not
stored, only the response and a short description of what was asked.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from fdrbench.hashing import canonical_json
from fdrbench.store import write_json_atomic

SCHEMA = 1


def request_key(endpoint: str, request: dict[str, Any]) -> str:
    """SHA-256 over the endpoint and the canonical JSON of the request body."""
    payload = canonical_json({"schema": SCHEMA, "endpoint": endpoint.rstrip("/"), "request": request})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ResponseCache:
    """``get``/``put`` of response dicts under ``root/<key[:2]>/<key>.json``."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            return None  # an unreadable entry is a miss; it is overwritten by the next answer
        if not isinstance(entry, dict) or entry.get("schema") != SCHEMA or not isinstance(entry.get("response"), dict):
            return None
        return entry["response"]

    def put(self, key: str, response: dict, about: dict | None = None) -> None:
        write_json_atomic(self.path(key), {"schema": SCHEMA, "about": about or {}, "response": response})
