"""The one check for every name that comes from an untrusted file and becomes a path.

Annotation files, archive members, result folders and index entries name files; none of them
may reach outside the folder they belong to. A name is refused when it is empty, absolute,
holds a NUL byte or a ``..`` component (or, for a single file name, any separator), and the
joined path is refused unless it still lies inside the folder after every symbolic link on the
way is resolved, so a link that leads out of the data folder is refused like a ``../``.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from fdrbench.errors import DataError

_SEPARATORS = ("/", "\\")


def _refuse(message: str, path: object, record: object) -> DataError:
    return DataError(message, path=path, record=record)


def check_name(name: object, what: str = "name", path: object = None, record: object = None) -> str:
    """``name`` if it is one plain path component: non-empty, no separator, not ``.``/``..``, no NUL."""
    if not isinstance(name, str) or not name:
        raise _refuse(f"expected {what} as a non-empty string, got {name!r}", path, record)
    if "\x00" in name:
        raise _refuse(f"{what} {name!r} holds a NUL byte; refused", path, record)
    if any(sep in name for sep in _SEPARATORS) or name in (".", ".."):
        raise _refuse(f"{what} {name!r} is not a plain file name (no '/', '\\', '.' or '..'); refused", path, record)
    return name


def check_relative(relative: object, what: str = "relative image path", path: object = None, record: object = None) -> PurePosixPath:
    """``relative`` as a relative path with no ``..``, NUL, drive or leading separator."""
    if not isinstance(relative, str) or not relative:
        raise _refuse(f"expected a {what}, got {relative!r}", path, record)
    if "\x00" in relative:
        raise _refuse(f"path {relative!r} holds a NUL byte; refused", path, record)
    if relative.startswith(_SEPARATORS) or (len(relative) > 1 and relative[1] == ":") or os.path.isabs(relative):
        raise _refuse(f"absolute path {relative!r} refused; paths must be relative to the data folder", path, record)
    pure = PurePosixPath(relative)
    if ".." in pure.parts:
        raise _refuse(f"path {relative!r} has a '..' component; refused (it points outside the data folder)", path, record)
    return pure


def inside(root: Path, candidate: Path, path: object = None, record: object = None, shown: object = None) -> Path:
    """``candidate`` resolved, refused unless it lies inside ``root`` (also resolved).

    Used for every file found by listing a data folder, whose entries may be links out of it.
    """
    root_resolved = Path(root).resolve()
    try:
        resolved = Path(candidate).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a link loop, or a chain longer than PATH_MAX
        raise _refuse(f"path {shown or candidate} cannot be resolved ({exc}); refused", path, record) from exc
    if resolved != root_resolved and root_resolved not in resolved.parents:
        raise _refuse(
            f"path {shown or candidate} points outside the data folder {root}; refused (a link that leads out is not followed)",
            path,
            record,
        )
    return resolved


def safe_join(root: Path, relative: object, record: object = None, source: object = None) -> Path:
    """Join an annotation's relative path onto its folder; the result is resolved and stays inside it."""
    pure = check_relative(relative, path=source, record=record)
    return inside(root, Path(root) / pure, path=source, record=record, shown=repr(relative))


def join_names(root: Path, *names: object, what: str = "name", path: object = None, record: object = None) -> Path:
    """``root/name1/name2/...`` from plain names (:func:`check_name`), once its resolution is checked to
    stay inside ``root``. The joined path itself is returned (not resolved), so a writer replaces a link
    there instead of writing through it."""
    parts = [check_name(name, what, path, record) for name in names]
    joined = Path(root).joinpath(*parts)
    inside(root, joined, path=path, record=record, shown="/".join(parts))
    return joined
