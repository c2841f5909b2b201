"""``fdrbench results pack`` and ``unpack``: validated runs exchanged as one archive.

A bundle is a gzip-compressed tar holding ``bundle.json`` (:class:`BundleManifest`: every run
and the sha256 and size of each of its files) and ``runs/<task>/<model>/<run_id>/`` with the
three files of the results contract, sanitised as ``fdrbench submit`` files them. Nothing else:
no images, no other files. Packing refuses any run that does not pass ``fdrbench validate``,
and writes the same bytes for the same runs (sorted members, fixed times and owners).

A bundle someone sends is untrusted. Unpacking reads it under size limits (compressed,
uncompressed, per file, member count), extracts it through :mod:`fdrbench.archive` (nothing is
ever written outside the staging folder) into a staging folder inside the target, and checks
everything before anything moves: each member's name and type, the manifest against the files
(hashes, sizes, nothing missing and nothing extra), every run with the full ``validate`` (the
portability checks included), and each run against what the target already holds: an identical
run is left as it is, a different run under the same name is refused unless ``replace`` is
given. Every problem found is reported, and the target is left unchanged when there is any.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
import tempfile
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from fdrbench import __version__
from fdrbench.archive import SafeExtractor, extract_member, member_parts
from fdrbench.bundle_format import (
    BUNDLE_MANIFEST,
    FORMAT,
    RUNS,
    VERSION,
    BundleManifest,
    BundleRejected,
    BundleRun,
    Limits,
    _files_of,
)
from fdrbench.errors import DataError, FdrbenchError
from fdrbench.hashing import sha256_file
from fdrbench.pathsafe import check_name
from fdrbench.portable import RUN_FILES
from fdrbench.results import RunDir, find_runs
from fdrbench.store import MANIFEST, atomic_output

# --------------------------------------------------------------------------- pack


def runs_to_pack(paths: list[Path]) -> list[Path]:
    """Run folders named directly, or every run under a results root."""
    out = []
    for path in paths:
        path = Path(path)
        if (path / MANIFEST).is_file():
            out.append(path)
        elif path.is_dir() and find_runs(path):
            out.extend(run.path for run in find_runs(path))
        else:
            raise FdrbenchError(f"{path} is neither a run folder (<task>/<model>/<run_id>/{MANIFEST}) nor a results root holding runs")
    return out


def _add(tar: tarfile.TarFile, name: str, data: bytes | Path) -> None:
    """One regular file with fixed time, owner and mode, so the same runs give the same bytes."""
    info = tarfile.TarInfo(name)
    info.size = len(data) if isinstance(data, bytes) else data.stat().st_size
    info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = 0, 0o644, 0, 0, "", ""
    if isinstance(data, bytes):
        tar.addfile(info, io.BytesIO(data))
    else:
        with open(data, "rb") as handle:
            tar.addfile(info, handle)


def pack(paths: list[Path], out: Path, data_dir: Path | None = None, force: bool = False, progress: bool = False) -> BundleManifest:
    """Validate the runs and write them, sanitised, with their hashes, to ``out``."""
    from fdrbench.progress import progress_bar
    from fdrbench.submit import SubmissionRejected, publishable_copy
    from fdrbench.validate import validate_run

    out = Path(out)
    if out.exists() and not force:
        raise FdrbenchError(f"{out} already exists; pass --force to overwrite it")
    runs = runs_to_pack(paths)
    reasons: list[str] = []
    seen: dict[str, Path] = {}
    with progress_bar(len(runs), "validating runs", unit="run", enabled=progress) as bar:
        reports = []
        for run in runs:
            reports.append(validate_run(run, data_dir=data_dir, retried_ok=True))
            bar.advance()
    for run, report in zip(runs, reports, strict=True):
        reasons.extend(f"{run}: {reason}" for reason in report.reasons())
        if report.ok:
            manifest = RunDir(run).manifest()
            key = f"{manifest.task}/{manifest.model}/{manifest.run_id}"
            if key in seen and seen[key].resolve() != run.resolve():
                reasons.append(f"{run}: another run given, {seen[key]}, has the same task/model/run_id {key}")
            seen[key] = run
    if reasons:
        raise BundleRejected("the runs to pack", reasons)
    with tempfile.TemporaryDirectory(prefix="fdrbench-pack-") as tmp:
        entries = []
        for key, run in sorted(seen.items()):
            staged = Path(tmp, RUNS, key)
            staged.parent.mkdir(parents=True, exist_ok=True)
            try:
                publishable_copy(run, staged)
            except SubmissionRejected as exc:
                raise BundleRejected(f"the sanitised copy of {run}", exc.report.reasons()) from exc
            manifest = RunDir(staged).manifest()
            entries.append(BundleRun(key, manifest.task, manifest.model, manifest.run_id, manifest.data_fingerprint, _files_of(staged)))
        bundle = BundleManifest(FORMAT, VERSION, __version__, entries)
        _write_archive(out, Path(tmp), bundle)
    return bundle


def _write_archive(out: Path, staged: Path, bundle: BundleManifest) -> None:
    with (
        atomic_output(out) as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        _add(tar, BUNDLE_MANIFEST, msgspec.json.format(msgspec.json.encode(bundle), indent=2) + b"\n")
        for run in bundle.runs:
            for name in run.files:
                _add(tar, f"{RUNS}/{run.path}/{name}", staged / RUNS / run.path / name)


# --------------------------------------------------------------------------- unpack


class _TooLarge(Exception):
    pass


class _Bounded(io.RawIOBase):
    """The decompressed stream, refused past ``limit`` bytes (a gzip bomb stops here, whatever tar headers claim)."""

    def __init__(self, source, limit: int):
        self.source, self.limit, self.read_bytes = source, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.source.read(len(buffer))
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise _TooLarge()
        buffer[: len(data)] = data
        return len(data)


@dataclass
class Unpacked:
    """What ``unpack`` did: runs installed, replaced, and left as they were (already identical)."""

    installed: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    index: Path | None = None


def _member_problem(member: tarfile.TarInfo, names: set[str]) -> str | None:
    """Why a member cannot be part of a bundle (None when it can)."""
    from fdrbench.validate import is_safe_name

    where = f"member {member.name!r}"
    try:
        parts = member_parts(member.name, lambda message: DataError(message))
    except DataError as exc:
        return f"{where}: {exc}"
    if member.isdir():
        return None if parts and parts[0] == RUNS and len(parts) <= 4 else f"{where}: an unexpected folder"
    if not member.isfile():
        kind = "a symbolic link" if member.issym() else "a hard link" if member.islnk() else "a device, fifo or other special file"
        return f"{where}: {kind}; a results bundle holds only regular files"
    name = "/".join(parts)
    if name in names:
        return f"{where}: appears twice in the archive"
    if name == BUNDLE_MANIFEST:
        return None
    if len(parts) != 5 or parts[0] != RUNS or parts[4] not in RUN_FILES:
        return f"{where}: not part of a bundle (expected {BUNDLE_MANIFEST} or {RUNS}/<task>/<model>/<run_id>/{{{', '.join(sorted(RUN_FILES))}}})"
    bad = [p for p in parts[1:4] if not is_safe_name(p)]
    if bad:
        return f"{where}: {bad[0]!r} is not a safe folder name (letters, digits, '.', '_', '-')"
    return None


def _extract(bundle: Path, into: Path, limits: Limits, reasons: list[str]) -> tuple[set[str], bool]:
    """Extract the members that may be part of a bundle; every refusal goes into ``reasons``.
    Returns the files extracted and whether the archive could be read to its end."""
    names: set[str] = set()
    total = 0
    try:
        with open(bundle, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            stream = io.BufferedReader(_Bounded(gz, limits.max_total_bytes + limits.max_manifest_bytes))
            with tarfile.open(fileobj=stream, mode="r|") as tar, SafeExtractor(into) as extractor:
                for count, member in enumerate(tar, start=1):
                    if count > limits.max_members:
                        reasons.append(f"the archive has more than {limits.max_members:,} members")
                        break
                    problem = _member_problem(member, names)
                    cap = limits.max_manifest_bytes if member.name == BUNDLE_MANIFEST else limits.max_file_bytes
                    if problem is None and member.isfile() and member.size > cap:
                        problem = f"member {member.name!r}: {member.size:,} bytes, more than the {cap:,} accepted for one file"
                    if problem is None and member.isfile() and total + member.size > limits.max_total_bytes:
                        problem = f"member {member.name!r}: the files add up to more than the {limits.max_total_bytes:,} bytes accepted"
                    if problem is not None:
                        reasons.append(problem)
                        continue
                    if member.isfile():
                        total += member.size
                        names.add("/".join(member_parts(member.name, DataError)))
                        try:
                            extract_member(extractor, tar, member, member.name, bundle)
                        except DataError as exc:
                            reasons.append(f"member {member.name!r}: {exc}")
    except _TooLarge:
        reasons.append(f"the archive decompresses to more than the {limits.max_total_bytes:,} bytes accepted")
        return names, False
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        reasons.append(f"the archive is truncated or not a gzip-compressed tar ({type(exc).__name__}: {exc})")
        return names, False
    return names, True


def _read_manifest(staged: Path, names: set[str], reasons: list[str]) -> BundleManifest | None:
    if BUNDLE_MANIFEST not in names:
        reasons.append(f"{BUNDLE_MANIFEST} is missing: this is not a results bundle (make one with `fdrbench results pack`)")
        return None
    try:
        bundle = msgspec.json.decode((staged / BUNDLE_MANIFEST).read_bytes(), type=BundleManifest)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        reasons.append(f"{BUNDLE_MANIFEST}: {exc}")
        return None
    if bundle.format != FORMAT or bundle.version != VERSION:
        reasons.append(
            f"{BUNDLE_MANIFEST}: format {bundle.format!r} version {bundle.version}; this fdrbench reads {FORMAT!r} version {VERSION}"
        )
        return None
    return bundle


def _check_listing(staged: Path, bundle: BundleManifest, names: set[str], reasons: list[str]) -> list[BundleRun]:
    """The runs whose files are exactly those listed, with the listed hashes and sizes."""
    good, listed, seen = [], set(), set()
    for run in bundle.runs:
        where = f"{BUNDLE_MANIFEST}: run {run.path!r}"
        problems = []
        if run.path in seen:
            problems.append(f"{where} is listed twice")
        seen.add(run.path)
        for part, what in ((run.task, "task"), (run.model, "model"), (run.run_id, "run_id")):
            try:  # the listing is the stranger's too: its names become paths under the results folder
                check_name(part, what)
            except DataError as exc:
                problems.append(f"{where}: {exc}")
        if run.path != f"{run.task}/{run.model}/{run.run_id}":
            problems.append(f"{where}: the path is not its task/model/run_id ({run.task}/{run.model}/{run.run_id})")
        if set(run.files) != RUN_FILES:
            problems.append(f"{where}: lists files {sorted(run.files)}, expected {sorted(RUN_FILES)}")
        for name, entry in sorted(run.files.items()):
            member = f"{RUNS}/{run.path}/{name}"
            listed.add(member)
            if member not in names:
                problems.append(f"{member}: listed in {BUNDLE_MANIFEST} but not in the archive")
                continue
            path = staged / member
            if path.stat().st_size != entry.bytes or sha256_file(path) != entry.sha256:
                problems.append(f"{member}: its size or sha256 differs from {BUNDLE_MANIFEST} (the file was changed after packing)")
        reasons.extend(problems)
        if not problems:
            good.append(run)
    for extra in sorted(names - listed - {BUNDLE_MANIFEST}):
        reasons.append(f"{extra}: in the archive but not listed in {BUNDLE_MANIFEST}")
    return good


def _validate(staged: Path, runs: list[BundleRun], data_dir: Path | None, reasons: list[str], progress: bool) -> None:
    from fdrbench.progress import progress_bar
    from fdrbench.validate import validate_run

    with progress_bar(len(runs), "validating runs", unit="run", enabled=progress) as bar:
        for run in runs:
            report = validate_run(staged / RUNS / run.path, data_dir=data_dir, portable=True)
            reasons.extend(f"{run.path}: {reason}" for reason in report.reasons())
            bar.advance()


def _compare(target: Path, run: BundleRun, replace: bool, reasons: list[str]) -> str:
    """``install``, ``replace`` or ``same`` for a run the target may already hold (a conflict is a reason)."""
    dest = target / run.path
    if not dest.exists() and not dest.is_symlink():
        return "install"
    if not dest.is_dir() or dest.is_symlink():
        reasons.append(f"{run.path}: {dest} exists and is not a run folder")
        return "conflict"
    current = {p.name for p in dest.iterdir()}
    differs = sorted(
        name
        for name in current | set(run.files)
        if name not in run.files or name not in current or not (dest / name).is_file() or sha256_file(dest / name) != run.files[name].sha256
    )
    if not differs:
        return "same"
    if replace:
        return "replace"
    reasons.append(f"{run.path}: {dest} holds a different run ({', '.join(differs)} differ); pass --replace to overwrite it")
    return "conflict"


def unpack(
    bundle: Path,
    into: Path,
    data_dir: Path | None = None,
    replace: bool = False,
    limits: Limits = Limits(),
    index: Callable[[Path], Path] | None = None,
    progress: bool = False,
) -> Unpacked:
    """Check everything in ``bundle`` and install its runs under ``into``; raises :class:`BundleRejected`
    listing every problem, with ``into`` unchanged."""
    bundle, into = Path(bundle), Path(into)
    if not bundle.is_file():
        raise FdrbenchError(f"{bundle}: bundle not found")
    if into.exists() and not into.is_dir():
        raise FdrbenchError(f"{into} is not a folder")
    reasons: list[str] = []
    size = bundle.stat().st_size
    if size > limits.max_bundle_bytes:
        raise BundleRejected(f"the bundle {bundle}", [f"it is {size:,} bytes, more than the {limits.max_bundle_bytes:,} accepted"])
    created = not into.exists()
    into.mkdir(parents=True, exist_ok=True)
    staging = into / f".staging-{uuid.uuid4().hex[:12]}"
    result = Unpacked()
    try:
        names, whole = _extract(bundle, staging, limits, reasons)
        manifest = _read_manifest(staging, names, reasons) if whole else None
        runs = _check_listing(staging, manifest, names, reasons) if manifest is not None else []
        actions = {run.path: _compare(into, run, replace, reasons) for run in runs}
        # a run byte-identical to one the target holds changes nothing, so it needs no validation
        _validate(staging, [run for run in runs if actions[run.path] != "same"], data_dir, reasons, progress)
        if reasons:
            raise BundleRejected(f"the bundle {bundle}", reasons)
        for run in runs:
            action, dest = actions[run.path], into / run.path
            if action == "same":
                result.unchanged.append(run.path)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            if action == "replace":
                os.replace(dest, staging / f"previous-{len(result.replaced)}")
                result.replaced.append(run.path)
            else:
                result.installed.append(run.path)
            os.replace(staging / RUNS / run.path, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not any(into.iterdir()):
            into.rmdir()
    if index is not None and (result.installed or result.replaced):
        result.index = index(into)
    return result
