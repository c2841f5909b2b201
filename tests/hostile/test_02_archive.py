"""Class 2: ``data prepare mmfr`` never writes outside ``--out``, whatever the archive's members are."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from .kit import invoke, one_line_error, snapshot

LONG = "d" * 240  # sixteen of these nested are far longer than PATH_MAX (4096)


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", data: bytes | None = None) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    if kind == tarfile.REGTYPE:
        data = b"payload" if data is None else data
        info.size = len(data)
    return info, data


LETTERS = "abcdefghijklmnop"


def long_folders() -> list:
    """Folders with long names, each reachable through a one-letter link: ``a/b/c/...`` is short to
    write, and its real path is far longer than PATH_MAX."""
    members, path = [], ""
    for letter in LETTERS:
        members.append(member(os.path.join("dataset", path, LONG), tarfile.DIRTYPE))
        members.append(member(os.path.join("dataset", path, letter), tarfile.SYMTYPE, LONG))
        path = os.path.join(path, LONG)
    return members


def path_max_chain() -> list:
    """The chain, then a link placed through it whose target climbs out, then a file written through that."""
    through = "/".join(LETTERS)
    return [
        *long_folders(),
        member(f"dataset/{through}/up", tarfile.SYMTYPE, "/".join([".."] * (len(LETTERS) + 3))),
        member("dataset/escape", tarfile.SYMTYPE, f"{through}/up/victim-folder"),
        member("dataset/escape/planted.txt"),
    ]


def path_max_target() -> list:
    """The chain, then a link whose own target runs through it and climbs out of the target folder."""
    climb = "/".join([".."] * (len(LETTERS) + 2))
    return [*long_folders(), member("dataset/escape", tarfile.SYMTYPE, f"{'/'.join(LETTERS)}/{climb}/victim-folder")]


CASES = {
    "symlink chain longer than PATH_MAX (CVE-2025-4517)": path_max_chain(),
    "a link target through a chain longer than PATH_MAX": path_max_target(),
    "a file written through a link": [
        member("dataset/inner", tarfile.DIRTYPE),
        member("dataset/l", tarfile.SYMTYPE, "inner"),
        member("dataset/l/x.txt"),
    ],
    "a link through a link that climbs out": [member("dataset/up", tarfile.SYMTYPE, ".."), member("dataset/up2", tarfile.SYMTYPE, "up/..")],
    "an absolute link": [member("dataset/etc", tarfile.SYMTYPE, "/etc")],
    "a hard link to a member not in the archive": [member("dataset/h", tarfile.LNKTYPE, "dataset/never-extracted.txt")],
    "a hard link out of the target": [member("dataset/h", tarfile.LNKTYPE, "../../victim.txt")],
    "a file then used as a folder": [member("dataset/f"), member("dataset/f/g.txt")],
    "a folder then replaced by a file": [member("dataset/d", tarfile.DIRTYPE), member("dataset/d")],
    "x/../y inside the target": [member("dataset/x/../y.txt")],
    "a climb out": [member("dataset/../../victim.txt")],
    "an absolute name": [member("/tmp/fdrbench-absolute.txt")],
    "a device file": [member("dataset/tty", tarfile.CHRTYPE)],
    "a fifo": [member("dataset/pipe", tarfile.FIFOTYPE)],
}


def write_parts(folder, members) -> None:
    folder.mkdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in [member("dataset/ok.txt", data=b"ok"), *members]:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    (folder / "dataset.part1.tar").write_bytes(buffer.getvalue())


@pytest.mark.parametrize("case", list(CASES))
def test_no_member_writes_outside_out(tmp_path, case):
    write_parts(tmp_path / "parts", CASES[case])
    (tmp_path / "victim.txt").write_text("untouched")
    (tmp_path / "victim-folder").mkdir()
    (tmp_path / "work").mkdir()
    out = tmp_path / "work" / "out"
    before = snapshot(tmp_path, skip=[out])
    result = invoke("data", "prepare", "mmfr_eval", "--arg", f"parts_dir={tmp_path / 'parts'}", "--arg", f"out={out}", "--no-progress")
    one_line_error(result, 2, "dataset.part1.tar", "refused")
    assert snapshot(tmp_path, skip=[out]) == before, "something outside --out changed"
    assert (out / "dataset" / "ok.txt").read_text() == "ok", "members before the bad one are kept"
    assert not os.path.exists("/tmp/fdrbench-absolute.txt")


def test_links_inside_the_archive_that_stay_inside_are_extracted(tmp_path):
    write_parts(
        tmp_path / "parts",
        [
            member("dataset/images/a.png", data=b"png"),
            member("dataset/alias.png", tarfile.SYMTYPE, "images/a.png"),
            member("dataset/copy.png", tarfile.LNKTYPE, "dataset/images/a.png"),
        ],
    )
    out = tmp_path / "out"
    result = invoke("data", "prepare", "mmfr_eval", "--arg", f"parts_dir={tmp_path / 'parts'}", "--arg", f"out={out}", "--no-progress")
    assert result.exit_code == 0, result.output
    assert (out / "dataset" / "alias.png").read_bytes() == (out / "dataset" / "copy.png").read_bytes() == b"png"
    assert (out / "dataset" / "alias.png").is_symlink() and not (out / "dataset" / "copy.png").is_symlink()
