"""``fdrbench results pack`` / ``unpack``: round trips, conflicts, and hostile bundles refused with every reason."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from fdrbench.bundle import BUNDLE_MANIFEST, BundleRejected, Limits, pack, unpack
from fdrbench.leaderboard.index import read_index, update_index
from fdrbench.store import MANIFEST, PREDICTIONS, SCORES, read_json, write_json_atomic
from fdrbench.validate import validate_run

from .helpers.leaderboard_results import leaderboard_results  # noqa: F401 - a fixture
from .hostile.kit import invoke, snapshot


@pytest.fixture(scope="module")
def runs(leaderboard_results, tmp_path_factory) -> dict[str, Path]:  # noqa: F811
    """Two valid run folders (outside any results root the tests unpack into)."""
    _, built = leaderboard_results
    root = tmp_path_factory.mktemp("to-pack")
    out = {}
    for name in ("spectral", "textonly"):
        dest = root / "demo" / built[name].parent.name / built[name].name
        shutil.copytree(built[name], dest)
        out[name] = dest
    return out


@pytest.fixture(scope="module")
def bundle(runs, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bundle") / "two.tar.gz"
    pack([runs["spectral"], runs["textonly"]], path)
    return path


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def rel(run: Path) -> str:
    return run.relative_to(run.parents[2]).as_posix()


# --------------------------------------------------------------------------- round trip


def test_pack_lists_every_file_with_its_hash_and_holds_nothing_else(bundle, runs):
    files = members(bundle)
    manifest = json.loads(files[BUNDLE_MANIFEST])
    assert manifest["format"] == "fdrbench-results-bundle" and manifest["version"] == 1
    assert [r["path"] for r in manifest["runs"]] == sorted(rel(r) for r in runs.values())
    expected = {BUNDLE_MANIFEST} | {f"runs/{rel(r)}/{n}" for r in runs.values() for n in (MANIFEST, PREDICTIONS, SCORES)}
    assert set(files) == expected  # no images, no other files
    import hashlib

    for run in manifest["runs"]:
        for name, entry in run["files"].items():
            data = files[f"runs/{run['path']}/{name}"]
            assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def test_the_bundle_is_readable_by_others_as_the_umask_allows(bundle, runs, tmp_path):
    import os

    previous = os.umask(0o022)
    try:
        pack([runs["spectral"]], tmp_path / "one.tar.gz")
    finally:
        os.umask(previous)
    assert (tmp_path / "one.tar.gz").stat().st_mode & 0o777 == 0o644


def test_pack_writes_the_same_bytes_for_the_same_runs(bundle, runs, tmp_path):
    again = tmp_path / "again.tar.gz"
    pack([runs["textonly"], runs["spectral"]], again)  # another order of arguments
    assert again.read_bytes() == bundle.read_bytes()


def test_unpack_installs_validated_runs_and_the_index(bundle, runs, tmp_path):
    target = tmp_path / "results"
    done = unpack(bundle, target, index=update_index)
    assert sorted(done.installed) == sorted(rel(r) for r in runs.values())
    assert done.index == target / "index.json"
    assert {r["path"] for r in read_index(target)["runs"]} == set(done.installed)
    for path in done.installed:
        assert validate_run(target / path, portable=True).ok
        assert sorted(p.name for p in (target / path).iterdir()) == [MANIFEST, PREDICTIONS, SCORES]
    assert not [p for p in target.iterdir() if p.name.startswith(".staging")]
    # a second unpack of the same bundle finds the runs identical and changes nothing
    before = snapshot(target)
    again = unpack(bundle, target, index=update_index)
    assert sorted(again.unchanged) == sorted(done.installed) and not again.installed and again.index is None
    assert snapshot(target) == before


def test_a_different_run_under_the_same_name_is_never_overwritten_silently(bundle, runs, tmp_path):
    target = tmp_path / "results"
    unpack(bundle, target)
    scores_path = target / rel(runs["spectral"]) / SCORES
    scores = read_json(scores_path)
    scores["protocols"]["strict"]["overall"]["accuracy"]["value"] = 0.01
    write_json_atomic(scores_path, scores)
    before = snapshot(target)
    with pytest.raises(BundleRejected) as caught:
        unpack(bundle, target)
    assert any(rel(runs["spectral"]) in r and "holds a different run (scores.json differ)" in r for r in caught.value.reasons)
    assert snapshot(target) == before
    done = unpack(bundle, target, replace=True)
    assert done.replaced == [rel(runs["spectral"])] and done.unchanged == [rel(runs["textonly"])]
    assert (target / rel(runs["spectral"]) / SCORES).read_bytes() == members(bundle)[f"runs/{rel(runs['spectral'])}/{SCORES}"]


def test_pack_refuses_invalid_runs_with_every_reason(runs, tmp_path):
    bad = tmp_path / "demo" / "textonly" / runs["textonly"].name
    shutil.copytree(runs["textonly"], bad)
    manifest = read_json(bad / MANIFEST)
    manifest["status"] = "running"
    write_json_atomic(bad / MANIFEST, manifest)
    other = tmp_path / "other" / "demo" / "spectral" / runs["spectral"].name
    shutil.copytree(runs["spectral"], other)
    (other / SCORES).unlink()
    out = tmp_path / "out.tar.gz"
    with pytest.raises(BundleRejected) as caught:
        pack([bad, other], out)
    text = "\n".join(caught.value.reasons)
    assert "status is 'running'" in text and "scores.json is missing" in text
    assert not out.exists()


def test_the_cli_packs_and_unpacks(runs, tmp_path):
    out = tmp_path / "one.tar.gz"
    result = invoke("results", "pack", runs["spectral"], "--out", out, "--no-progress")
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: 1 run(s)" in result.output
    assert invoke("results", "pack", runs["spectral"], "--out", out, "--no-progress").exit_code == 2  # exists; --force
    target = tmp_path / "results"
    result = invoke("results", "unpack", out, "--into", target, "--no-progress")
    assert result.exit_code == 0, result.output
    assert f"installed: {target / rel(runs['spectral'])}" in result.output
    assert "index updated" in result.output


# --------------------------------------------------------------------------- hostile bundles


def write_bundle(path: Path, entries: list[tuple[tarfile.TarInfo, bytes | None]], compress=True) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    raw = buffer.getvalue()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def entry(name: str, data: bytes = b"x", kind: bytes = tarfile.REGTYPE, link: str = "") -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        return info, data
    return info, None


def genuine(bundle: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    return [entry(name, data) for name, data in members(bundle).items()]


@pytest.fixture
def target(tmp_path) -> Path:
    """A results root that already holds a run, and the folder around it, to snapshot."""
    root = tmp_path / "around" / "results"
    (root / "demo" / "kept" / "run").mkdir(parents=True)
    (root / "demo" / "kept" / "run" / "note.txt").write_text("already here")
    return root


def refused(path: Path, target: Path, *needles: str, limits: Limits = Limits()) -> list[str]:
    """Unpack must refuse ``path`` naming every needle, leaving the target and the folder around it unchanged."""
    around = target.parent
    before = snapshot(around)
    with pytest.raises(BundleRejected) as caught:
        unpack(path, target, limits=limits)
    assert snapshot(around) == before
    text = "\n".join(caught.value.reasons)
    for needle in needles:
        assert needle in text, (needle, text)
    return caught.value.reasons


def test_every_problem_of_a_hostile_bundle_is_listed_and_nothing_changes(bundle, target, tmp_path):
    good = genuine(bundle)
    first = next(i.name for i, _ in good if i.name.endswith(SCORES))
    tampered = [entry(i.name, d + b" ") if i.name == first else (i, d) for i, d in good]
    hostile = [
        *tampered,
        entry("../escape.txt"),
        entry("/etc/absolute.txt"),
        entry("runs/demo/x/y/link", kind=tarfile.SYMTYPE, link="/etc/passwd"),
        entry("runs/demo/x/y/hard", kind=tarfile.LNKTYPE, link=BUNDLE_MANIFEST),
        entry("runs/demo/x/y/fifo", kind=tarfile.FIFOTYPE),
        entry("runs/demo/x/y/image.png", b"\x89PNG"),
        entry("runs/demo/unlisted/run/manifest.json", b"{}"),
        entry("runs/demo/bad name/run/manifest.json", b"{}"),
    ]
    reasons = refused(
        write_bundle(tmp_path / "hostile.tar.gz", hostile),
        target,
        "member '../escape.txt': member path escapes the target folder",
        "member '/etc/absolute.txt': absolute member path refused",
        "member 'runs/demo/x/y/link': a symbolic link; a results bundle holds only regular files",
        "member 'runs/demo/x/y/hard': a hard link",
        "member 'runs/demo/x/y/fifo': a device, fifo or other special file",
        "member 'runs/demo/x/y/image.png': not part of a bundle",
        "runs/demo/unlisted/run/manifest.json: in the archive but not listed in bundle.json",
        "'bad name' is not a safe folder name",
        f"{first}: its size or sha256 differs from bundle.json",
    )
    assert len(reasons) >= 9
    assert not (tmp_path / "escape.txt").exists() and not (target.parent / "escape.txt").exists()


def test_an_incomplete_bundle_is_refused(bundle, target, tmp_path):
    good = genuine(bundle)
    dropped = next(i.name for i, _ in good if i.name.endswith(PREDICTIONS))
    refused(
        write_bundle(tmp_path / "incomplete.tar.gz", [(i, d) for i, d in good if i.name != dropped]),
        target,
        f"{dropped}: listed in bundle.json but not in the archive",
    )
    refused(
        write_bundle(tmp_path / "no-manifest.tar.gz", [(i, d) for i, d in good if i.name != BUNDLE_MANIFEST]),
        target,
        "bundle.json is missing",
    )
    bad_json = [(i, d) if i.name != BUNDLE_MANIFEST else entry(BUNDLE_MANIFEST, b'{"format": 1}') for i, d in good]
    refused(write_bundle(tmp_path / "bad-manifest.tar.gz", bad_json), target, "bundle.json: Expected `str`, got `int`")


def test_a_run_that_does_not_validate_is_refused(bundle, target, tmp_path):
    good = genuine(bundle)
    name = next(i.name for i, _ in good if i.name.endswith(SCORES))
    listing = json.loads(dict((i.name, d) for i, d in good)[BUNDLE_MANIFEST])
    scores = json.loads(dict((i.name, d) for i, d in good)[name])
    scores["protocols"]["strict"]["overall"]["accuracy"]["value"] = 0.999
    forged = json.dumps(scores).encode()
    import hashlib

    run = name.rsplit("/", 1)[0].removeprefix("runs/")
    for item in listing["runs"]:
        if item["path"] == run:  # the forger updates the listing too: the hashes agree, the re-score does not
            item["files"][SCORES] = {"sha256": hashlib.sha256(forged).hexdigest(), "bytes": len(forged)}
    entries = [
        entry(i.name, forged if i.name == name else json.dumps(listing).encode() if i.name == BUNDLE_MANIFEST else d) for i, d in good
    ]
    refused(write_bundle(tmp_path / "forged.tar.gz", entries), target, f"{run}: [rescore] scores.json does not match a fresh scoring")


def test_a_listing_whose_names_climb_out_is_refused(bundle, target, tmp_path):
    good = genuine(bundle)
    listing = json.loads(dict((i.name, d) for i, d in good)[BUNDLE_MANIFEST])
    listing["runs"][0].update(task="..", model="..", path="../../" + listing["runs"][0]["run_id"])
    entries = [entry(i.name, json.dumps(listing).encode()) if i.name == BUNDLE_MANIFEST else (i, d) for i, d in good]
    refused(
        write_bundle(tmp_path / "climb.tar.gz", entries),
        target,
        "task '..' is not a plain file name",
        "model '..' is not a plain file name",
    )
    assert not (target.parent.parent / listing["runs"][0]["run_id"]).exists()


def test_truncated_corrupt_and_oversized_archives_are_refused(bundle, target, tmp_path):
    data = bundle.read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    refused(tmp_path / "cut.tar.gz", target, "the archive is truncated or not a gzip-compressed tar")
    (tmp_path / "plain.txt").write_bytes(b"not an archive at all")
    refused(tmp_path / "plain.txt", target, "the archive is truncated or not a gzip-compressed tar")
    refused(write_bundle(tmp_path / "raw.tar", genuine(bundle), compress=False), target, "not a gzip-compressed tar")
    # a gzip bomb: a small file that decompresses past the limit, whatever its tar headers say
    bomb = write_bundle(tmp_path / "bomb.tar.gz", [entry("runs/demo/a/b/predictions.jsonl", b"\0" * 3_000_000)])
    assert bomb.stat().st_size < 10_000
    refused(bomb, target, "the files add up to more than the 1,000,000 bytes accepted", limits=Limits(max_total_bytes=1_000_000))
    # ... and a member that is skipped still has to be decompressed: the stream itself is bounded
    skipped = write_bundle(tmp_path / "skipped.tar.gz", [entry("elsewhere/zeros.bin", b"\0" * 3_000_000)])
    tight = Limits(max_total_bytes=1_000_000, max_manifest_bytes=1_000)
    refused(skipped, target, "member 'elsewhere/zeros.bin': not part of a bundle", "decompresses to more than the 1,000,000", limits=tight)
    refused(bundle, target, "more than the 1,000 accepted for one file", limits=Limits(max_file_bytes=1_000))
    refused(bundle, target, f"it is {bundle.stat().st_size:,} bytes", limits=Limits(max_bundle_bytes=100))
    many = write_bundle(tmp_path / "many.tar.gz", [entry(f"runs/demo/m/r{i}/{MANIFEST}") for i in range(6)])
    refused(many, target, "more than 5 members", limits=Limits(max_members=5))


def test_the_cli_lists_every_reason_and_exits_1(bundle, target, tmp_path):
    hostile = write_bundle(tmp_path / "h.tar.gz", [*genuine(bundle), entry("../up.txt"), entry("runs/demo/x/y/extra.bin")])
    before = snapshot(target.parent)
    result = invoke("results", "unpack", hostile, "--into", target, "--no-progress")
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"error: the bundle {hostile} was rejected:")
    assert "  - member '../up.txt'" in result.output and "  - member 'runs/demo/x/y/extra.bin'" in result.output
    assert "Traceback" not in result.output
    assert snapshot(target.parent) == before
