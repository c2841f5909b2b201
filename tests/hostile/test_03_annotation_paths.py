"""Class 3: a name from an annotation file never reaches a file outside the data folder.

DD-VQA keys and question ids name frame files (in ``data prepare ddvqa`` and in ``run``); MMFR
lists images on disk (``unannotated=include``); SID-Set lists class folders. Each goes through
the one path check: no separators or ``..`` in a name, and the resolved path inside the folder,
so a link out of the data folder is refused like a ``../``.
"""

from __future__ import annotations

import json

import pytest

from fdrbench.errors import DataError
from fdrbench.pathsafe import check_name, join_names, safe_join
from fdrbench.tasks.common.miniature import write_image
from fdrbench.tasks.ddvqa.miniature import build as build_ddvqa
from fdrbench.tasks.ddvqa.prepare import prepare_ddvqa
from fdrbench.tasks.mmfr.miniature import build as build_mmfr
from fdrbench.tasks.sidset import SIDSet
from fdrbench.tasks.sidset.miniature import build_folders as build_sidset_folders

from .kit import HASH, invoke, one_line_error, snapshot

DEEPFAKES = ("DQ_FF++", "test_set", "Deepfakes", "Deepfakes.json")


def edit_annotations(root, edit) -> None:
    path = root.joinpath(*DEEPFAKES)
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def run_args(task: str, data, out, *extra):
    return ("run", "-m", HASH, "-t", task, "--data-dir", data, "--out", out, "--no-progress", "--n-boot", 0, *extra)


@pytest.fixture
def ddvqa(tmp_path):
    root = build_ddvqa(tmp_path / "ddvqa", tmp_path / "ffpp")
    (tmp_path / "victim.png").write_bytes(b"precious")
    return root


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: d["0_114_102"].update({"../../../victim": d["0_114_102"]["1"]}), id="question id climbs out"),
        pytest.param(lambda d: d["0_114_102"].update({"x/y": d["0_114_102"]["1"]}), id="question id with a separator"),
        pytest.param(lambda d: d.update({"0_114_102/../../..": d.pop("0_114_102")}), id="key climbs out"),
        pytest.param(lambda d: d.update({"0_..": d.pop("0_114_102")}), id="key naming the parent video folder"),
    ],
)
def test_prepare_ddvqa_refuses_names_that_leave_the_folder(ddvqa, tmp_path, edit):
    edit_annotations(ddvqa, edit)
    before = snapshot(tmp_path, skip=[ddvqa / "frames"])
    result = invoke("data", "prepare", "ddvqa", "--arg", f"data_dir={ddvqa}", "--arg", f"frames_root={tmp_path / 'ffpp'}", "--no-progress")
    one_line_error(result, 2, "Deepfakes.json", "refused")
    assert snapshot(tmp_path, skip=[ddvqa / "frames"]) == before
    assert (tmp_path / "victim.png").read_bytes() == b"precious"


def test_run_refuses_ddvqa_names_and_frames_that_leave_the_folder(ddvqa, tmp_path):
    prepare_ddvqa(ddvqa, tmp_path / "ffpp", show_progress=False)
    out = tmp_path / "results"
    before = snapshot(tmp_path, skip=[out, ddvqa])
    edit_annotations(ddvqa, lambda d: d.update({"0_114_102/../../../victim": d.pop("0_114_102")}))
    one_line_error(invoke(*run_args("ddvqa", ddvqa, out)), 2, "Deepfakes.json", "refused")
    edit_annotations(ddvqa, lambda d: d.update({"0_114_102": d.pop("0_114_102/../../../victim")}))
    # a prepared frame replaced by a link that leads out of the data folder
    frame = ddvqa / "frames" / "0_114_102" / "0.png"
    frame.unlink()
    frame.symlink_to(tmp_path / "victim.png")
    one_line_error(invoke(*run_args("ddvqa", ddvqa, out)), 2, "points outside the data folder")
    assert not out.exists() or not list(out.rglob("predictions.jsonl")), "nothing was predicted from outside files"
    assert (tmp_path / "victim.png").read_bytes() == b"precious"
    assert snapshot(tmp_path, skip=[out, ddvqa]) == before


@pytest.mark.parametrize("unannotated", ["include", "skip"])
def test_mmfr_images_found_on_disk_may_not_link_out(tmp_path, unannotated):
    root = build_mmfr(tmp_path / "mmfr")
    write_image(tmp_path / "outside.png")
    (root / "dataset" / "evaluation_sets" / "gigagan" / "1_fake" / "linked.png").symlink_to(tmp_path / "outside.png")
    out = tmp_path / "results"
    before = snapshot(tmp_path, skip=[out])
    result = invoke(*run_args("mmfr_eval", root, out, "-T", f"unannotated={unannotated}"))
    one_line_error(result, 2, "gigagan/1_fake/linked.png", "points outside the data folder")
    assert snapshot(tmp_path, skip=[out]) == before


def test_sidset_files_may_not_link_out(tmp_path):
    root = build_sidset_folders(tmp_path / "sid")
    write_image(tmp_path / "outside.jpg")
    (root / "test" / "real" / "zz_link.jpg").symlink_to(tmp_path / "outside.jpg")
    with pytest.raises(DataError, match="points outside the data folder"):
        SIDSet().load(root, "test")


def test_the_shared_check(tmp_path):
    (tmp_path / "data").mkdir()
    for bad in ("", ".", "..", "a/b", "a\\b", "nul\x00byte"):
        with pytest.raises(DataError, match="refused|expected"):
            check_name(bad, "key")
    for bad in ("../x", "a/../../x", "/etc/passwd", "C:/x", "a\x00b", "a/../b"):
        with pytest.raises(DataError, match="refused"):
            safe_join(tmp_path / "data", bad)
    (tmp_path / "data" / "out").symlink_to(tmp_path)
    with pytest.raises(DataError, match="points outside the data folder"):
        join_names(tmp_path / "data", "out", "x.png")
    assert join_names(tmp_path / "data", "k", "0.png") == tmp_path / "data" / "k" / "0.png"
