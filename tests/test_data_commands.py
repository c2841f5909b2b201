"""`fdrbench data prepare mmfr` (numeric part order, safe extraction) and `fdrbench data check`, and --skip-missing on run."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from typer.testing import CliRunner

from fdrbench.cli import app
from fdrbench.datacheck import check_task
from fdrbench.errors import DataError
from fdrbench.tasks.fakeclue.miniature import build as build_fakeclue
from fdrbench.tasks.mmfr import MMFREval
from fdrbench.tasks.mmfr.miniature import build as build_mmfr
from fdrbench.tasks.mmfr.prepare import find_parts, prepare_mmfr
from fdrbench.tasks.sofake.miniature import build as build_sofake

from .conftest import HELPERS

runner = CliRunner()


def archive_bytes(source_root) -> bytes:
    """A tar of ``source_root/dataset`` with members prefixed ``dataset/``, as the release's."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(source_root / "dataset", arcname="dataset")
    return buffer.getvalue()


def split_into_parts(data: bytes, folder, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(data) // n)
    for i in range(n):
        (folder / f"dataset.part{i + 1}.tar").write_bytes(data[i * size : (i + 1) * size])


def test_parts_are_joined_in_numeric_order(tmp_path):
    source = build_mmfr(tmp_path / "source")
    split_into_parts(archive_bytes(source), tmp_path / "parts", 12)
    assert [p.name for p in find_parts(tmp_path / "parts")][8:11] == ["dataset.part9.tar", "dataset.part10.tar", "dataset.part11.tar"]
    summary = prepare_mmfr(tmp_path / "parts", tmp_path / "out", show_progress=False)
    assert summary["parts"] == 12 and summary["order"][1] == "dataset.part2.tar"
    with pytest.warns(UserWarning):
        samples = MMFREval().load(tmp_path / "out")
    assert len(samples) == 8
    original = (source / "dataset" / "forgery_reasoning_cot.json").read_bytes()
    assert (tmp_path / "out" / "dataset" / "forgery_reasoning_cot.json").read_bytes() == original


def test_parts_that_are_whole_tars_also_extract(tmp_path):
    source = build_mmfr(tmp_path / "source")
    parts = tmp_path / "parts"
    parts.mkdir()
    for i, folder in enumerate(("evaluation_sets", "diffusiondb", "laion")):
        with tarfile.open(parts / f"dataset.part{i + 1}.tar", "w") as tar:
            tar.add(source / "dataset" / folder, arcname=f"dataset/{folder}")
    summary = prepare_mmfr(parts, tmp_path / "out", show_progress=False)
    assert summary["files"] == len([p for p in (source / "dataset").rglob("*") if p.is_file()]) - 1  # all but the cot file
    assert (tmp_path / "out" / "dataset" / "laion" / "laion_reasoning.json").is_file()


def test_gaps_and_duplicates_in_part_numbers(tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    for n in (1, 2, 4):
        (parts / f"dataset.part{n}.tar").write_bytes(b"x")
    with pytest.raises(DataError, match=r"archive part\(s\) \[3\] missing"):
        find_parts(parts)
    (parts / "dataset.part3.tar").write_bytes(b"x")
    (parts / "dataset.part03.tar").write_bytes(b"x")
    with pytest.raises(DataError, match="two files claim part 3"):
        find_parts(parts)
    with pytest.raises(DataError, match="no archive parts"):
        find_parts(tmp_path)


def malicious_parts(tmp_path, member: tarfile.TarInfo, payload: bytes = b"owned") -> object:
    parts = tmp_path / "parts"
    parts.mkdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        good = tarfile.TarInfo("dataset/ok.txt")
        good.size = 2
        tar.addfile(good, io.BytesIO(b"ok"))
        member.size = len(payload) if member.isfile() else 0
        tar.addfile(member, io.BytesIO(payload) if member.isfile() else None)
    (parts / "dataset.part1.tar").write_bytes(buffer.getvalue())
    return parts


@pytest.mark.parametrize(
    ("name", "kind", "link", "message"),
    [
        ("../escaped.txt", tarfile.REGTYPE, "", "escapes the target folder"),
        ("dataset/../../escaped.txt", tarfile.REGTYPE, "", "escapes the target folder"),
        ("/tmp/escaped-abs.txt", tarfile.REGTYPE, "", "absolute member path"),
        ("dataset/link", tarfile.SYMTYPE, "../../escaped.txt", "points outside the target folder"),
        ("dataset/abs-link", tarfile.SYMTYPE, "/etc/passwd", "points outside the target folder"),
        ("dataset/hard", tarfile.LNKTYPE, "../escaped.txt", "points outside the target folder"),
        ("dataset/dev", tarfile.CHRTYPE, "", "special file"),
    ],
)
def test_no_member_may_escape_the_target(tmp_path, name, kind, link, message):
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = link
    parts = malicious_parts(tmp_path, member)
    out = tmp_path / "target" / "out"
    with pytest.raises(DataError, match=message) as info:
        prepare_mmfr(parts, out, show_progress=False)
    assert "dataset.part1.tar" in str(info.value)
    assert not (tmp_path / "target" / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()
    assert (out / "dataset" / "ok.txt").read_text() == "ok"  # members before the bad one are extracted


def test_data_check_counts_and_problems(tmp_path):
    root = build_fakeclue(tmp_path / "fc")
    report = check_task("fakeclue", root, show_progress=False)
    test, train = report["splits"]
    assert report["ok"] and test["status"] == "ok" and train["status"] == "absent"
    assert test["by_label"] == {"real": 3, "fake": 3}
    assert test["by_group"]["category"]["deepfake"] == {"n": 2, "real": 1, "fake": 1}
    assert test["images_checked"] == 6 and test["unreadable_images"] == 0 and test["with_reference"] == 6
    (root / "test" / "doc" / "real" / "0001.png").unlink()
    (root / "test" / "genimage" / "fake" / "416_adm_45.PNG").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    report = check_task("fakeclue", root, show_progress=False)
    test = report["splits"][0]
    assert not report["ok"] and test["status"] == "problems"
    assert test["missing_images"] == 1 and test["unreadable_images"] == 1 and test["n"] == 5
    assert "genimage/fake/416_adm_45.PNG" in test["examples"][0]
    (root / "data_json" / "test.json").write_text("[{", encoding="utf-8")
    report = check_task("fakeclue", root, show_progress=False)
    assert report["splits"][0]["status"] == "error" and report["splits"][0]["annotations_parsed"] is False
    assert "not valid JSON" in report["splits"][0]["message"]


def test_data_check_command(tmp_path):
    root = build_sofake(tmp_path / "sf", "v1")
    result = runner.invoke(app, ["data", "check", "sofake_ood", "--data-dir", str(root), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    split = report["splits"][0]
    assert split["by_class"] == {"full_synthetic": 2, "real": 2, "tampered": 2}
    assert split["by_group"]["generator"]["openai"] == {"n": 1, "real": 0, "fake": 1}
    assert split["with_mask"] == 2 and split["masks_checked"] == 2 and split["unreadable_masks"] == 0
    assert split["mask_decoding"] == {"{0, 200, 255} -> > 127.5": 2} and split["empty_masks"] == 0
    result = runner.invoke(app, ["data", "check", "sofake_ood", "--data-dir", str(root)])
    assert "mask values {0, 200, 255} -> > 127.5: 2 masks" in result.output and "empty masks 0 of 2" in result.output
    result = runner.invoke(app, ["data", "check", "sofake_ood", "--data-dir", str(root), "--no-decode"])
    assert result.exit_code == 0 and "6 samples: 2 real, 4 fake" in result.output and "by generator" in result.output
    result = runner.invoke(app, ["data", "check", "sofake_ood", "--data-dir", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "not found" in result.output


def test_data_prepare_command(tmp_path):
    source = build_mmfr(tmp_path / "source")
    split_into_parts(archive_bytes(source), tmp_path / "parts", 3)
    result = runner.invoke(
        app,
        ["data", "prepare", "mmfr_eval", "--arg", f"parts_dir={tmp_path / 'parts'}", "--arg", f"out={tmp_path / 'out'}", "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["parts"] == 3
    result = runner.invoke(app, ["data", "check", "mmfr_eval", "--data-dir", str(tmp_path / "out")])
    assert result.exit_code == 0 and "unannotated images: 2" in result.output


def test_run_with_skip_missing(tmp_path):
    root = build_fakeclue(tmp_path / "fc")
    (root / "test" / "doc" / "real" / "0001.png").unlink()
    model = f"{HELPERS / 'toy_adapters.py'}:HashDetector"
    args = [
        "run",
        "--model",
        model,
        "--task",
        "fakeclue",
        "--data-dir",
        str(root),
        "--out",
        str(tmp_path / "res"),
        "--n-boot",
        "0",
        "--no-progress",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "image file not found" in result.output and "--skip-missing" in result.output
    with pytest.warns(UserWarning, match="1 missing images"):
        result = runner.invoke(app, [*args, "--skip-missing"])
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "res" / "fakeclue").glob("*/*")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["task_info"]["n_samples"] == 5
    assert manifest["task_info"]["load_report"]["counts"] == {"missing_images": 1}
    assert manifest["config"]["task_args"] == {"skip_missing": True}
    lines = (run_dir / "predictions.jsonl").read_text().splitlines()
    truth = json.loads(lines[0])["truth"]
    assert truth["reference"]["parts"]["verdict"].startswith("This is a")


def test_data_check_prints_mask_values_and_flags_masks_that_all_decode_empty(tmp_path):
    figure_like = build_sofake(tmp_path / "gray100", "v2", mask={"value": 100, "edge": None})
    split = check_task("sofake_ood", figure_like, show_progress=False)["splits"][0]
    assert split["status"] == "ok" and split["mask_decoding"] == {"{0, 100} -> == 100": 2}
    blank = build_sofake(tmp_path / "blank", "v2", mask={"value": 0, "edge": None})
    report = check_task("sofake_ood", blank, show_progress=False)
    assert not report["ok"] and report["splits"][0]["status"] == "problems"
    assert report["splits"][0]["mask_decoding"] == {"{0} -> empty (all zero)": 2} and report["splits"][0]["empty_masks"] == 2
    result = runner.invoke(app, ["data", "check", "sofake_ood", "--data-dir", str(blank)])
    assert result.exit_code == 1 and "every mask is empty" in result.output
