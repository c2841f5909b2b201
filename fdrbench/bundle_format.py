"""The format of a results bundle: its manifest types, its size limits and the rejection error.

Kept apart from :mod:`fdrbench.bundle` (packing and unpacking) so the contract of the archive
can be read, and relied on, on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec

from fdrbench.errors import FdrbenchError
from fdrbench.hashing import sha256_file
from fdrbench.portable import RUN_FILES

BUNDLE_MANIFEST = "bundle.json"
RUNS = "runs"
FORMAT = "fdrbench-results-bundle"
VERSION = 1
_MIB = 1 << 20


class FileEntry(msgspec.Struct, forbid_unknown_fields=True):
    sha256: str
    bytes: int


class BundleRun(msgspec.Struct, forbid_unknown_fields=True):
    path: str
    task: str
    model: str
    run_id: str
    data_fingerprint: str
    files: dict[str, FileEntry]


class BundleManifest(msgspec.Struct, forbid_unknown_fields=True):
    """``bundle.json``: what the bundle holds, so a receiver can check it file by file."""

    format: str
    version: int
    fdrbench: str
    runs: list[BundleRun]


@dataclass(frozen=True)
class Limits:
    """What ``unpack`` accepts; each can be raised for a larger exchange."""

    max_bundle_bytes: int = 8192 * _MIB
    max_total_bytes: int = 32768 * _MIB
    max_file_bytes: int = 8192 * _MIB
    max_members: int = 100_000
    max_manifest_bytes: int = 16 * _MIB


class BundleRejected(FdrbenchError):
    """A bundle (or the runs given to pack) failed; ``reasons`` lists every problem."""

    def __init__(self, what: str, reasons: list[str]):
        self.reasons = reasons
        super().__init__(f"{what} was rejected:\n" + "\n".join(f"  - {r}" for r in reasons))


def _files_of(run_dir: Path) -> dict[str, FileEntry]:
    return {name: FileEntry(sha256_file(run_dir / name), (run_dir / name).stat().st_size) for name in sorted(RUN_FILES)}
