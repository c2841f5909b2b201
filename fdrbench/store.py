"""Append-only per-sample prediction files: resume, shard merge, atomic JSON writes.

Each line of ``predictions.jsonl`` (or ``predictions.rank<K>.jsonl`` with several processes) is
one complete JSON object followed by ``\\n``, written and fsynced per batch. A process killed
mid-write can leave only a torn last line; the next writer cuts it off before appending, and
readers ignore it, so a run never carries a duplicate or a broken record forward.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from fdrbench.errors import FdrbenchError, ResultsError
from fdrbench.record import Record
from fdrbench.redact import known_secrets, redact

PREDICTIONS = "predictions.jsonl"
MANIFEST = "manifest.json"
SCORES = "scores.json"
_RANK_FILE = re.compile(r"^predictions\.rank(\d+)\.jsonl$")


def predictions_path(run_dir: Path, rank: int = 0, world_size: int = 1) -> Path:
    return run_dir / (PREDICTIONS if world_size <= 1 else f"predictions.rank{rank}.jsonl")


def prediction_files(run_dir: Path) -> list[Path]:
    """The main file first, then rank files in rank order."""
    files = []
    main = run_dir / PREDICTIONS
    if main.exists() or main.is_symlink():
        files.append(main)
    ranked = []
    if run_dir.is_dir():
        for path in run_dir.iterdir():
            match = _RANK_FILE.match(path.name)
            if match:
                ranked.append((int(match.group(1)), path))
    found = files + [p for _, p in sorted(ranked)]
    for path in found:
        if not path.is_file():
            raise ResultsError(f"{path} is not a regular file (a folder or a broken link where predictions belong)")
    return found


def iter_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) for every complete, non-blank line; a torn final line is skipped."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ResultsError(f"{path}: cannot be read ({exc.strerror})") from exc
    # The piece after the last newline is a write cut short by a crash: ignored.
    for number, raw in enumerate(data.split(b"\n")[:-1], start=1):
        if raw.strip():
            yield number, raw


def iter_records(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every complete line of a JSON-lines file other than predictions.

    Any unparseable line but a torn last one is corruption: an error naming the file and line.
    """
    for number, raw in iter_lines(path):
        try:
            obj = loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ResultsError(f"{path}: line {number} is not valid JSON ({exc}); the file is corrupt") from exc
        if not isinstance(obj, dict):
            raise ResultsError(f"{path}: line {number} is not a JSON object")
        yield number, obj


def load_records(run_dir: Path) -> tuple[dict[str, Record], int]:
    """Merge every prediction file of a run into ``{sample_id: Record}``, each line checked against
    the contract (so whatever ``validate`` accepts, scoring reads, and nothing else).

    When a sample appears more than once (a retried failure), a record without an error wins
    over one with an error; otherwise the later one wins. Returns the merged records and the
    number of superseded duplicates.
    """
    merged: dict[str, Record] = {}
    duplicates = 0
    for path in prediction_files(run_dir):
        for number, raw in iter_lines(path):
            record = Record.from_json(raw, strict=True, where=f"{path}: line {number}")
            old = merged.get(record.sample_id)
            if old is not None:
                duplicates += 1
                if old.error is None and record.error is not None:
                    continue
            merged[record.sample_id] = record
    return merged, duplicates


def completed_ids(run_dir: Path, retry_failed: bool = False) -> set[str]:
    """Sample ids that need no new prediction (errored ones too, unless ``retry_failed``)."""
    records, _ = load_records(run_dir)
    if retry_failed:
        return {sid for sid, rec in records.items() if rec.error is None}
    return set(records)


class PredictionWriter:
    """Appends records to one prediction file, holding an exclusive lock while open.

    The lock is taken before a run reads which samples are finished, so two processes started on
    one run folder never predict the same samples: the second stops with an error.
    """

    def __init__(self, path: Path):
        self.path = path
        if path.is_dir() or (path.exists() and not path.is_file()):
            raise ResultsError(f"{path} is not a regular file; expected the run's predictions there (move it away)")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._created = not path.exists()
        self._handle = open(path, "a+b")  # noqa: SIM115 - held for the writer's lifetime
        self._lock()
        self._cut_torn_tail()

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return
        try:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._handle.close()
            raise FdrbenchError(f"{self.path} is being written by another fdrbench process; wait for it or use another --run-id") from exc

    def _cut_torn_tail(self) -> None:
        handle = self._handle
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        if size == 0:
            return
        step = 1 << 16
        pos = size
        while pos > 0:
            start = max(0, pos - step)
            handle.seek(start)
            chunk = handle.read(pos - start)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                keep = start + nl + 1
                break
            pos = start
        else:
            keep = 0
        if keep != size:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
        handle.seek(0, os.SEEK_END)

    def write(self, records: list[dict[str, Any]] | list[Record]) -> None:
        if not records:
            return
        payload = _jsonl(records)
        self._handle.write(payload)
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        """Release the lock; a file this writer created and never wrote to is removed again."""
        if self._handle.closed:
            return
        try:
            if self._created and self._handle.seek(0, os.SEEK_END) == 0:
                os.unlink(self.path)
        except OSError:
            pass  # an empty file left behind is harmless
        finally:
            self._handle.close()

    def __enter__(self) -> PredictionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _jsonl(records: list[dict[str, Any]] | list[Record]) -> bytes:
    """Records (or any typed line with ``to_json``) as JSON lines, secrets blanked (:mod:`fdrbench.redact`):
    nothing written carries a key."""
    secrets = known_secrets()
    rows = (r if isinstance(r, dict) else r.to_json() for r in records)
    return b"".join(json.dumps(redact(r, secrets), ensure_ascii=False, allow_nan=False).encode("utf-8") + b"\n" for r in rows)


def write_jsonl_atomic(path: Path, records: list[dict[str, Any]] | list[Record]) -> None:
    """A whole JSON-lines file at once, secrets blanked, seen by readers complete or not at all."""
    _write_atomic(path, _jsonl(records))


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON so that readers see the old file or the new one, never half of either; secrets are blanked."""
    text = json.dumps(redact(obj), indent=2, ensure_ascii=False, allow_nan=False, sort_keys=False) + "\n"
    _write_atomic(path, text.encode("utf-8"))


def umask() -> int:
    """The process's umask, read without changing it (``os.umask`` can only be read by setting it,
    which would race with files other threads create meanwhile)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return 0o022  # no /proc (macOS, Windows): the usual default


def file_mode() -> int:
    """The mode ``open()`` gives a new file: 0o666 less the umask."""
    return 0o666 & ~umask()


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` whole, when the block ends without error, or not at all.

    It is written to a temporary file beside ``path`` and moved over it. The temporary file gets the
    mode ``open()`` would give, not ``mkstemp``'s private 0o600, so results and bundles stay readable
    by a group, a web server or a container running as another user, as the umask allows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_atomic(path: Path, data: bytes) -> None:
    if path.is_dir():
        raise ResultsError(f"{path} is a folder; expected a file there (move the folder away)")
    with atomic_output(path) as handle:
        handle.write(data)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def loads(data: str | bytes) -> Any:
    """Strict JSON: ``NaN`` and ``Infinity`` (which Python's parser accepts) are refused."""
    return json.loads(data, parse_constant=_no_constant)


def read_json(path: Path, what: str = "file") -> Any:
    if path.is_dir():
        raise ResultsError(f"{path}: {what} is a folder, expected a JSON file")
    if not path.is_file():
        raise ResultsError(f"{path}: {what} not found")
    try:
        return loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: {what} is not valid JSON ({exc})") from exc
    except OSError as exc:
        raise ResultsError(f"{path}: {what} cannot be read ({exc.strerror})") from exc
