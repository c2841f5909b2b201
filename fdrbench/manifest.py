"""Provenance of a run: what ran, on what data, with which code, settings and libraries.

The data fingerprint is a hash over every sample's id and annotations (label, class, groups,
reference text, question). It is computed the same way from a task's loaded samples and from
the ``truth`` stored in a run's predictions, so anyone can check that a run folder scored the
data it claims to have scored, and the leaderboard can refuse to rank runs on different data.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from fdrbench.redact import scrub_settings
from fdrbench.types import Sample

SCHEMA_VERSION = 1
LIBRARIES = (
    "fdrbench",
    "numpy",
    "scikit-learn",
    "scipy",
    "pillow",
    "scikit-image",
    "torch",
    "transformers",
    "accelerate",
    "peft",
    "datasets",
    "nltk",
    "rouge-score",
    "sentence-transformers",
    "bert-score",
    "openai",
)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _truth_item(sample_id: str, truth: dict) -> list:
    return [
        sample_id,
        truth.get("label"),
        truth.get("cls"),
        truth.get("group") or {},
        truth.get("reference") or {},
        truth.get("question"),
    ]


def fingerprint_truths(pairs: Iterable[tuple[str, dict]]) -> str:
    """Hash of (sample id, annotations) pairs, independent of their order."""
    digest = hashlib.sha256()
    for item in sorted((_truth_item(sid, truth) for sid, truth in pairs), key=lambda x: x[0]):
        digest.update(canonical_json(item).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def fingerprint_samples(samples: Iterable[Sample]) -> str:
    return fingerprint_truths((s.id, s.truth(include_mask=False)) for s in samples)


def config_hash(config: dict) -> str:
    return sha256_text(canonical_json(config))


def scrub(obj: Any) -> Any:
    """Copy of ``obj`` with the values of secret-looking keys replaced: keys never reach a file."""
    return scrub_settings(obj)


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_state(path: Path | None = None) -> dict[str, Any]:
    """Commit and dirtiness of the fdrbench source tree, when it is a git checkout."""
    where = path or Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": bool(dirty)}


def device_info(device: str) -> dict[str, Any]:
    info: dict[str, Any] = {"device": device, "cpu_count": os.cpu_count(), "machine": platform.machine()}
    torch = sys.modules.get("torch")
    if torch is not None and device.startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index or 0
        info["gpu"] = torch.cuda.get_device_name(index)
        info["cuda"] = torch.version.cuda
    return info


def environment_info(device: str) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": library_versions(),
        "hardware": device_info(device),
    }
