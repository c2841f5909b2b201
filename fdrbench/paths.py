"""Where fdrbench keeps data, caches and weights when the user does not say.

``FDRBENCH_CACHE`` (default ``$XDG_CACHE_HOME/fdrbench`` or ``~/.cache/fdrbench``) holds built
demo data, fitted baselines and response/embedding caches; ``FDRBENCH_DATA`` (default
``<cache>/data``) holds one folder per task.
"""

from __future__ import annotations

import os
from pathlib import Path

from fdrbench.errors import FdrbenchError
from fdrbench.pathsafe import safe_join

__all__ = ["cache_root", "data_root", "safe_join", "weights_root", "writable_folder"]


def cache_root() -> Path:
    env = os.environ.get("FDRBENCH_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fdrbench"


def data_root() -> Path:
    env = os.environ.get("FDRBENCH_DATA")
    return Path(env).expanduser() if env else cache_root() / "data"


def weights_root() -> Path:
    return cache_root() / "weights"


def writable_folder(path: Path, flag: str) -> Path:
    """``path`` as a folder to write into, created if missing; a one-line error when it cannot be."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FdrbenchError(f"{flag} {path} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FdrbenchError(f"{flag} {path}: the folder cannot be created ({exc.strerror or exc})") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise FdrbenchError(f"{flag} {path} is not writable")
    return path
