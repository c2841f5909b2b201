"""``fdrbench data prepare mmfr_eval``: join MMFR's multi-part archive in numeric part order and extract it safely.

The dataset ships as ``dataset.part1.tar``, ``dataset.part2.tar``, ... : pieces of one tar
stream that must be concatenated in *numeric* order (part2 before part10, which a shell glob
gets wrong). The parts are read one after another as a single stream, so no joined copy is
written; ``ignore_zeros`` also accepts parts that are complete tars of their own.

Archive members are untrusted; they are written by :mod:`fdrbench.archive`, which never follows
a link and never writes outside ``out``. An absolute name, a ``..``, a link whose target is not
already inside the target, a hard link to a member not extracted before, a file then used as a
folder, or a device file stops the extraction with an error naming the member and the part it
starts in.
"""

from __future__ import annotations

import io
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from fdrbench.archive import SafeExtractor, extract_member, shown
from fdrbench.errors import DataError
from fdrbench.paths import writable_folder
from fdrbench.progress import Bar, progress_bar

PART_NAME = re.compile(r"\.part0*(\d+)(?:\.tar)?$", re.IGNORECASE)
_MIB = float(1 << 20)


def find_parts(parts_dir: Path) -> list[Path]:
    """The archive parts in ``parts_dir``, in numeric order; a gap or a repeated number is an error."""
    if not parts_dir.is_dir():
        raise DataError("folder of archive parts not found", path=parts_dir)
    numbered: dict[int, Path] = {}
    for path in sorted(parts_dir.iterdir()):
        match = PART_NAME.search(path.name)
        if not match or not path.is_file():
            continue
        number = int(match.group(1))
        if number in numbered:
            raise DataError(f"two files claim part {number}: {numbered[number].name} and {path.name}", path=parts_dir)
        numbered[number] = path
    if not numbered:
        raise DataError("no archive parts (files named like dataset.part1.tar)", path=parts_dir)
    expected = range(1, max(numbered) + 1)
    missing = [n for n in expected if n not in numbered]
    if missing:
        raise DataError(f"archive part(s) {missing} missing; the parts must run 1..{max(numbered)} without gaps", path=parts_dir)
    return [numbered[n] for n in expected]


class ChainedParts(io.RawIOBase):
    """The parts read back to back as one stream; knows which part the current byte comes from."""

    def __init__(self, parts: list[Path], bar: Bar | None = None):
        self.parts = parts
        self.index = 0
        self.bar = bar
        self._handle = open(parts[0], "rb")  # noqa: SIM115 - closed in close()/when the next part opens

    @property
    def current(self) -> Path:
        return self.parts[min(self.index, len(self.parts) - 1)]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            n = self._handle.readinto(buffer)
            if n:
                if self.bar is not None:
                    self.bar.advance(n / _MIB)
                return n
            if self.index + 1 >= len(self.parts):
                return 0
            self._handle.close()
            self.index += 1
            self._handle = open(self.parts[self.index], "rb")  # noqa: SIM115

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()
        super().close()


@dataclass
class ExtractSummary:
    parts: int
    members: int
    files: int
    bytes: int
    target: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def extract_parts(parts: list[Path], target: Path, show_progress: bool = True) -> ExtractSummary:
    """Stream the parts, in the given order, as one tar into ``target``, checking every member."""
    target = writable_folder(target, "--arg out")
    total = sum(p.stat().st_size for p in parts)
    members = files = size = 0
    with progress_bar(max(1, round(total / _MIB)), "extracting MMFR", unit="MiB", enabled=show_progress) as bar:
        stream = ChainedParts(parts, bar)
        try:
            with (
                SafeExtractor(target) as extractor,
                tarfile.open(fileobj=io.BufferedReader(stream, 1 << 20), mode="r|", ignore_zeros=True) as tar,
            ):
                for member in tar:
                    record = f"archive member {shown(member.name)} (in {stream.current.name})"
                    size += extract_member(extractor, tar, member, record, target)
                    members += 1
                    files += int(member.isfile())
        except tarfile.ReadError as exc:
            raise DataError(f"not a valid tar stream near {stream.current.name} ({exc})", path=stream.current) from exc
        finally:
            stream.close()
    if members == 0:
        raise DataError("the archive holds no members", path=parts[0])
    return ExtractSummary(len(parts), members, files, size, str(target))


def prepare_mmfr(parts_dir: str | Path, out: str | Path, show_progress: bool = True) -> dict:
    """``fdrbench data prepare mmfr_eval``: find, order, join and extract the parts; returns a summary."""
    parts = find_parts(Path(parts_dir))
    summary = extract_parts(parts, Path(out), show_progress).to_dict()
    summary["order"] = [p.name for p in parts]
    return summary
