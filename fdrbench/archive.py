"""Extract a tar stream into a folder without ever writing outside it, whatever its members claim.

Archive members are untrusted. Checking a member's name and then letting ``tarfile`` write it is
not enough: a chain of symbolic links longer than PATH_MAX makes path resolution stop early, so
both a name check and the standard library's ``data`` filter can be walked around (the pattern
of CVE-2025-4517). So nothing here resolves a path and then trusts it. Every folder on the way
to a member is opened one component at a time, relative to the folder above it, refusing to
follow a symbolic link (``O_NOFOLLOW``); files are created in the folder so opened, never
through a link and never over an existing folder or link. Only then:

* a name that is absolute, holds a NUL byte or has a ``..`` component is refused;
* a symbolic link is created only if its target already exists inside the target folder (it is
  resolved when the link is made, so a chain that cannot be resolved is refused);
* a hard link must name a regular file extracted earlier from the same archive;
* device files, FIFOs and other special members are refused;
* a member that needs an earlier file or link to be a folder is refused.

Permissions and owners in the archive are not applied (files 0644, folders 0755). Each refusal
is a :class:`~fdrbench.errors.DataError` naming the member and where it was found; what was
extracted before it stays.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tarfile
from pathlib import Path
from typing import IO

from fdrbench.errors import DataError, FdrbenchError

_CHUNK = 1 << 20
_OPEN_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_NOT_A_FOLDER = {errno.ENOTDIR, errno.ELOOP, errno.EMLINK}


def shown(name: str, limit: int = 120) -> str:
    """A member or link name as quoted in a message: in full when short, else its two ends."""
    return repr(name) if len(name) <= limit else repr(f"{name[: limit // 2]}...{name[-limit // 2 :]}")


def member_parts(name: str, fail) -> tuple[str, ...]:
    """The path components of a member name, refused when absolute, with NUL or with ``..``."""
    if "\x00" in name:
        raise fail("the member name holds a NUL byte; refused")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise fail("absolute member path refused")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise fail("member path escapes the target folder; refused ('..' components are not extracted)")
    return parts


class SafeExtractor:
    """Writes tar members under ``target`` through folder descriptors that never follow a link."""

    def __init__(self, target: Path):
        if os.open not in os.supports_dir_fd or not hasattr(os, "O_NOFOLLOW"):
            raise FdrbenchError("safe extraction needs folder descriptors and O_NOFOLLOW (Linux, macOS, BSD); extract on such a system")
        target.mkdir(parents=True, exist_ok=True)
        self.root = target.resolve()
        self._root_fd = os.open(self.root, _OPEN_DIR)
        self.files: set[tuple[str, ...]] = set()

    def close(self) -> None:
        os.close(self._root_fd)

    def __enter__(self) -> SafeExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- folders

    def _folder(self, parts: tuple[str, ...], fail, create: bool = True) -> int:
        """A descriptor of the folder ``parts`` under the target, made if missing; never through a link."""
        fd = os.dup(self._root_fd)
        try:
            for depth, part in enumerate(parts):
                try:
                    child = os.open(part, _OPEN_DIR, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise fail(f"{shown('/'.join(parts[: depth + 1]))} does not exist") from None
                    os.mkdir(part, 0o755, dir_fd=fd)
                    child = os.open(part, _OPEN_DIR, dir_fd=fd)
                except OSError as exc:
                    if exc.errno in _NOT_A_FOLDER:
                        raise fail(
                            f"it needs {shown('/'.join(parts[: depth + 1]))} to be a folder, but the archive made that a file or a link; refused"
                        ) from exc
                    raise
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _free(self, folder_fd: int, name: str, fail) -> None:
        """Make room for a new entry ``name``: an earlier regular file is replaced, anything else refused."""
        try:
            info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if not stat.S_ISREG(info.st_mode):
            raise fail("it would replace a folder or a link the archive made earlier; refused")
        os.unlink(name, dir_fd=folder_fd)

    def _check_inside(self, parts: tuple[str, ...], fail) -> None:
        """After writing: the entry, resolved, lies inside the target (what the descriptors guarantee)."""
        final = Path(self.root, *parts[:-1]).resolve() / parts[-1]
        if final.parent != self.root and self.root not in final.parent.parents:
            raise fail("it was written outside the target folder")

    # ----------------------------------------------------------------- members

    def directory(self, parts: tuple[str, ...], fail) -> None:
        if parts:
            os.close(self._folder(parts, fail))

    def file(self, parts: tuple[str, ...], data: IO[bytes], fail) -> int:
        """Write one regular file; returns its size."""
        folder = self._folder(parts[:-1], fail)
        try:
            self._free(folder, parts[-1], fail)
            fd = os.open(parts[-1], _CREATE, 0o644, dir_fd=folder)
        finally:
            os.close(folder)
        size = 0
        with os.fdopen(fd, "wb") as handle:
            while chunk := data.read(_CHUNK):
                handle.write(chunk)
                size += len(chunk)
        self._check_inside(parts, fail)
        self.files.add(parts)
        return size

    def symlink(self, parts: tuple[str, ...], linkname: str, fail) -> None:
        """A link whose target is resolved now and must be something already inside the target."""
        if "\x00" in linkname or os.path.isabs(linkname) or linkname.startswith("\\"):
            raise fail(f"link to {shown(linkname)} points outside the target folder; refused")
        folder = self._folder(parts[:-1], fail)
        try:
            self._resolve_link_target(Path(self.root, *parts[:-1]), linkname, fail)
            self._free(folder, parts[-1], fail)
            os.symlink(linkname, parts[-1], dir_fd=folder)
        finally:
            os.close(folder)

    def _resolve_link_target(self, where: Path, linkname: str, fail) -> None:
        try:
            resolved = (where / linkname).resolve(strict=True)
        except FileNotFoundError:
            escapes = os.path.normpath(os.path.join(where, linkname))
            if escapes != str(self.root) and not escapes.startswith(str(self.root) + os.sep):
                raise fail(f"link to {shown(linkname)} points outside the target folder; refused") from None
            raise fail(f"link to {shown(linkname)} does not lead to anything extracted before it; refused") from None
        except (OSError, RuntimeError) as exc:  # a loop, or a chain longer than PATH_MAX
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise fail(f"link to {shown(linkname)} cannot be resolved ({why}); refused") from exc
        if resolved != self.root and self.root not in resolved.parents:
            raise fail(f"link to {shown(linkname)} points outside the target folder; refused")

    def hardlink(self, parts: tuple[str, ...], linkname: str, fail) -> None:
        """A hard link to a regular file this archive wrote earlier (anything else is refused)."""
        try:
            source = member_parts(linkname, fail)
        except DataError as exc:
            raise fail(f"link to {shown(linkname)} points outside the target folder; refused") from exc
        if source not in self.files:
            raise fail(f"hard link to {shown(linkname)}, which is not a file extracted before it from this archive; refused")
        source_folder = self._folder(source[:-1], fail, create=False)
        folder = self._folder(parts[:-1], fail)
        try:
            self._free(folder, parts[-1], fail)
            try:
                os.link(source[-1], parts[-1], src_dir_fd=source_folder, dst_dir_fd=folder, follow_symlinks=False)
            except OSError:  # a filesystem without hard links: a copy of the same bytes
                src = os.open(source[-1], os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0), dir_fd=source_folder)
                dst = os.open(parts[-1], _CREATE, 0o644, dir_fd=folder)
                with os.fdopen(src, "rb") as reader, os.fdopen(dst, "wb") as writer:
                    shutil.copyfileobj(reader, writer, _CHUNK)
        finally:
            os.close(source_folder)
            os.close(folder)
        self.files.add(parts)


def extract_member(extractor: SafeExtractor, tar: tarfile.TarFile, member: tarfile.TarInfo, record: str, where: object) -> int:
    """Extract one member safely; returns the bytes written. ``record`` and ``where`` name it in errors."""

    def fail(message: str) -> DataError:
        return DataError(message, path=where, record=record)

    parts = member_parts(member.name, fail)
    if not parts and not member.isdir():
        raise fail("a member without a name; refused")
    if member.isdir():
        extractor.directory(parts, fail)
    elif member.isfile():
        data = tar.extractfile(member)
        if data is None:
            raise fail("the archive holds no data for this file")
        return extractor.file(parts, data, fail)
    elif member.issym():
        extractor.symlink(parts, member.linkname, fail)
    elif member.islnk():
        extractor.hardlink(parts, member.linkname, fail)
    else:
        raise fail("special file (device, fifo) refused")
    return 0
