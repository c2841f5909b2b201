"""Exceptions that carry a user-facing message.

The CLI prints these without a traceback: each one already says which file, which record
and what was expected, so the user can act on it.
"""

from __future__ import annotations


class FdrbenchError(Exception):
    """Base class for errors that are the user's to fix (bad input, missing data, bad flag)."""


class DataError(FdrbenchError):
    """A dataset file is missing or malformed.

    The message names the file, the record (when there is one) and what was expected.
    """

    def __init__(self, message: str, *, path: object = None, record: object = None, hint: str | None = None):
        parts = []
        if path is not None:
            parts.append(f"{path}")
        if record is not None:
            parts.append(f"record {record}")
        where = ": ".join(parts)
        text = f"{where}: {message}" if where else message
        if hint:
            text += f"\n  hint: {hint}"
        super().__init__(text)
        self.path = path
        self.record = record
        self.hint = hint


class SplitNotFound(DataError):
    """The annotation files of one split are absent (not malformed): ``data check`` reports it as absent."""


class RegistryError(FdrbenchError):
    """An adapter, task or metric name could not be resolved."""


class RunAborted(FdrbenchError):
    """A run stopped because its failure budget was exceeded; what was computed is kept."""


class ResultsError(FdrbenchError):
    """A run folder does not follow the results contract."""


def os_error_text(exc: OSError) -> str:
    """An operating-system error as one line: what failed, on which file (a full disk, a read-only folder, ...)."""
    what = exc.strerror or type(exc).__name__
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    return f"{' -> '.join(names)}: {what}" if names else f"{what} ({exc})"
