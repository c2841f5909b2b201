"""Where fdrbench keeps data, caches and weights when the user does not say.

``FDRBENCH_CACHE`` (default ``$XDG_CACHE_HOME/fdrbench`` or ``~/.cache/fdrbench``) holds built
demo data, fitted baselines and response/embedding caches; ``FDRBENCH_DATA`` (default
``<cache>/data``) holds one folder per task.
"""

from __future__ import annotations

import os
from pathlib import Path

from fdrbench.pathsafe import safe_join

__all__ = ["cache_root", "data_root", "safe_join", "weights_root"]


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
