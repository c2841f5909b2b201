"""Where fdrbench keeps data, caches and weights when the user does not say.

``FDRBENCH_CACHE`` (default ``$XDG_CACHE_HOME/fdrbench`` or ``~/.cache/fdrbench``) holds built
demo data, fitted baselines and response/embedding caches; ``FDRBENCH_DATA`` (default
``<cache>/data``) holds one folder per task.
"""

from __future__ import annotations

import os
from pathlib import Path

from fdrbench.errors import DataError


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


def safe_join(root: Path, relative: str, record: object = None, source: object = None) -> Path:
    """Join an annotation's relative path onto the data folder, refusing anything that escapes it.

    Annotation files are untrusted: ``../../etc/passwd`` or an absolute path must not be read.
    """
    if not isinstance(relative, str) or not relative:
        raise DataError(f"expected a relative image path, got {relative!r}", path=source, record=record)
    candidate = Path(relative)
    if candidate.is_absolute():
        raise DataError(f"absolute path {relative!r} refused; paths must be relative to the data folder", path=source, record=record)
    root_resolved = root.resolve()
    joined = (root_resolved / candidate).resolve()
    if joined != root_resolved and root_resolved not in joined.parents:
        raise DataError(f"path {relative!r} points outside the data folder {root}; refused", path=source, record=record)
    return joined
