"""``fdrbench run --perturb``: the detector sees the perturbed image, the truths move with it, and the
spec is part of the run id, the fingerprint and the manifest; ``validate`` checks it; compare and the
leaderboard's cohorts tell perturbations apart."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from fdrbench import fingerprints
from fdrbench.cli import app
from fdrbench.compare import compare_runs
from fdrbench.errors import FdrbenchError
from fdrbench.fingerprints import fingerprint_samples
from fdrbench.hashing import config_hash
from fdrbench.perturb import parse, perturbed_fingerprint, run_id_part
from fdrbench.pipeline import RunConfig, run
from fdrbench.results import RunDir
from fdrbench.store import MANIFEST, PREDICTIONS, read_json
from fdrbench.tasks.demo import DemoTask
from fdrbench.tasks.loki.miniature import build as build_loki
from fdrbench.types import decode_mask
from fdrbench.validate import validate_run

from .helpers.leaderboard_results import TOYS, rewrite_predictions

LIMIT = 12
runner = CliRunner()


def toy_run(out: Path, perturb: str | None = None, model: str = "SizeDetector", task: str = "demo", **kw) -> Path:
    config = RunConfig(
        model=f"{TOYS}:{model}", task=task, out=out, limit=kw.pop("limit", LIMIT), n_boot=20, show_progress=False, perturb=perturb, **kw
    )
    return run(config).run_dir


def records(run_dir: Path) -> dict[str, dict]:
    return {r["sample_id"]: r for r in map(json.loads, (run_dir / PREDICTIONS).read_text().splitlines())}


def edit_json(path: Path, edit) -> None:
    obj = read_json(path)
    edit(obj)
    path.write_text(json.dumps(obj, indent=2), encoding="utf-8")


def problems(report, check: str) -> list[str]:
    return [p.message for p in report.problems if p.check == check]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory, demo_root) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("perturbed") / "results"
    return {"clean": toy_run(out), "half": toy_run(out, "resize:f=0.5"), "jpeg": toy_run(out, "fakevlm_t7/jpeg70")}


@pytest.fixture
def half_copy(demo_runs, tmp_path) -> Path:
    dest = tmp_path / "results" / "demo" / "sizedet" / demo_runs["half"].name
    shutil.copytree(demo_runs["half"], dest)
    return dest


# --------------------------------------------------------------------------- the run


def test_the_detector_sees_the_perturbed_image_and_the_truth_moves_with_it(demo_runs, demo_root):
    clean, half = records(demo_runs["clean"]), records(demo_runs["half"])
    assert clean.keys() == half.keys() and len(half) == LIMIT
    for sid, record in half.items():
        width, height = clean[sid]["extra"]["size"]
        assert record["extra"]["size"] == [width // 2, height // 2]  # the demo's images are 128 px: 64 px seen
        assert record["truth"]["label"] == clean[sid]["truth"]["label"] and record["truth"]["image"] == clean[sid]["truth"]["image"]
    masked = [sid for sid, r in clean.items() if r["truth"]["mask"]]
    assert masked  # the subset holds tampered images with masks
    for sid in masked:
        big, small = decode_mask(clean[sid]["truth"]["mask"]), decode_mask(half[sid]["truth"]["mask"])
        assert small.shape == (big.shape[0] // 2, big.shape[1] // 2)
        # a hand-computed nearest-neighbour halving: the centre of output pixel (i, j) is input pixel (2i + 1, 2j + 1)
        assert np.array_equal(small, big[1::2, 1::2])
    jpeg = records(demo_runs["jpeg"])
    assert all(r["extra"]["size"] == clean[sid]["extra"]["size"] for sid, r in jpeg.items())
    assert all(r["truth"] == clean[sid]["truth"] for sid, r in jpeg.items())


def test_the_spec_is_part_of_the_run_id_fingerprint_and_manifest(demo_runs):
    clean_manifest = RunDir(demo_runs["clean"]).manifest()
    manifest = RunDir(demo_runs["half"]).manifest()
    assert demo_runs["half"].name == f"{demo_runs['clean'].name}__{run_id_part('resize:f=0.5')}"
    assert demo_runs["jpeg"].name == f"{demo_runs['clean'].name}__fakevlm_t7-jpeg70-{parse('jpeg:q=70').hash[:8]}"
    info = manifest.perturbation
    assert (info.spec, info.hash, info.name, info.seed, info.geometric, info.random) == (
        "resize:f=0.5",
        parse("resize:f=0.5").hash,
        None,
        None,
        True,
        False,
    )
    assert {"pillow"} <= set(info.libraries)
    assert clean_manifest.perturbation is None and "perturbation" not in clean_manifest.config
    assert info.clean_fingerprint == clean_manifest.data_fingerprint == info.truths_fingerprint  # the demo has no regions
    assert manifest.data_fingerprint == perturbed_fingerprint(clean_manifest.data_fingerprint, "resize:f=0.5") != info.clean_fingerprint
    assert manifest.config["perturbation"] == {"spec": "resize:f=0.5", "hash": info.hash, "seed": None}
    assert RunDir(demo_runs["jpeg"]).manifest().perturbation.name == "fakevlm_t7/jpeg70"
    assert json.loads((demo_runs["clean"] / MANIFEST).read_text()).get("perturbation", "absent") == "absent"


def test_a_perturbed_run_passes_validate(demo_runs):
    for name in ("half", "jpeg"):
        report = validate_run(demo_runs[name])
        assert report.ok, report.reasons()
        # a subset has no registered fingerprint: the clean fingerprint is recomputed from the demo's data
        assert report.notes == [f"clean data fingerprint matches the data in {DemoTask().default_data_dir()}"]


def test_a_perturbed_run_resumes_into_its_own_folder(demo_runs, tmp_path):
    again = toy_run(demo_runs["half"].parents[2], "resize:f=0.5")
    assert again == demo_runs["half"]
    other = toy_run(tmp_path, "resize:f=0.25")
    assert other.name != again.name and other.name == f"{demo_runs['clean'].name}__{run_id_part('resize:f=0.25')}"


def test_bad_specs_and_the_reserved_run_id_stop_before_any_work(tmp_path, demo_root):
    result = runner.invoke(app, ["run", "-m", f"{TOYS}:SizeDetector", "-t", "demo", "--out", str(tmp_path), "--perturb", "jpg:q=70"])
    assert result.exit_code == 2
    assert "error: perturbation 'jpg:q=70': unknown kind 'jpg' (did you mean 'jpeg'?)" in result.output
    assert not any(tmp_path.iterdir())
    with pytest.raises(FdrbenchError, match="--run-id 'robustness' is reserved"):
        toy_run(tmp_path, run_id="robustness")


# --------------------------------------------------------------------------- validate


def test_edited_truths_of_a_perturbed_run_are_caught(half_copy):
    rewrite_predictions(half_copy, lambda r: {**r, "truth": {**r["truth"], "question": "edited"}})
    (message,) = problems(validate_run(half_copy, rescore=False), "fingerprint")
    assert "not the manifest's perturbation.truths_fingerprint" in message


def test_truths_that_cannot_have_moved_must_be_the_clean_ones(half_copy):
    """Relabelled truths, with the truths fingerprint made to match: nothing could move, so they must be the clean truths."""
    rewrite_predictions(half_copy, lambda r: {**r, "truth": {**r["truth"], "group": {"generator": "edited"}}})
    fresh = fingerprints.fingerprint_truths((sid, rec.truth) for sid, rec in RunDir(half_copy).records()[0].items())
    edit_json(half_copy / MANIFEST, lambda m: m["perturbation"].update(truths_fingerprint=fresh))
    (message,) = problems(validate_run(half_copy, rescore=False), "fingerprint")
    assert "moves no annotated region of these truths, so they must be the clean truths" in message


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda m: m["perturbation"].update(clean_fingerprint="ab" * 32), "'data_fingerprint' is not the perturbed fingerprint"),
        (lambda m: m["perturbation"].update(spec="resize: f=0.50"), "is not in canonical form ('resize:f=0.5')"),
        (lambda m: m["perturbation"].update(spec="resize:f=0.25"), "perturbation.hash"),
        (
            lambda m: m["perturbation"].update(spec="zoom:f=2"),
            "is not a perturbation this fdrbench reads: perturbation 'zoom:f=2': unknown kind",
        ),
        (lambda m: m["perturbation"].update(name="fakevlm_t7/jpeg70"), "is 'jpeg:q=70' in this fdrbench, not the run's 'resize:f=0.5'"),
        (lambda m: m["perturbation"].update(seed=3), "a deterministic perturbation records None"),
        (lambda m: m["perturbation"].update(geometric=False), "'random' and 'geometric' must be False and True"),
    ],
)
def test_an_edited_perturbation_section_is_caught(half_copy, edit, expected):
    edit_json(half_copy / MANIFEST, edit)
    found = problems(validate_run(half_copy, rescore=False), "manifest")
    assert any(expected in m for m in found), found


def test_config_and_section_must_agree(half_copy):
    def drop_section(m):
        m.pop("perturbation")

    def edit_config(m):
        m["config"]["perturbation"]["seed"] = 0
        m["config_hash"] = config_hash(m["config"])

    edit_json(half_copy / MANIFEST, edit_config)
    assert any("config.perturbation is" in m for m in problems(validate_run(half_copy, rescore=False), "manifest"))
    edit_json(half_copy / MANIFEST, drop_section)
    assert any("config names a perturbation" in m for m in problems(validate_run(half_copy, rescore=False), "manifest"))


# --------------------------------------------------------------------------- regions that move


@pytest.fixture(scope="module")
def loki_runs(tmp_path_factory) -> tuple[Path, Path, Path]:
    """loki_explain with 64 x 48 images and regions inside them, clean and halved."""
    root = build_loki(tmp_path_factory.mktemp("loki") / "data")
    for path in (root / "media_data" / "image").iterdir():
        Image.new("RGB", (64, 48), (90, 120, 30)).save(path, format="PNG" if path.suffix == ".png" else "JPEG")
    data = json.loads((root / "data_json" / "image" / "open_ended_vqa.json").read_text(encoding="utf-16"))
    for item in data:
        item["problems"]["regional"] = [{"region": [8, 4, 20, 10], "desc": "a bench floats"}, {"region": [40, 30, 24, 18], "desc": "edge"}]
    (root / "data_json" / "image" / "open_ended_vqa.json").write_text(json.dumps(data), encoding="utf-16")
    out = tmp_path_factory.mktemp("loki-runs") / "results"
    common = {"model": "HashDetector", "task": "loki_explain", "data_dir": root, "limit": None}
    return root, toy_run(out, **common), toy_run(out, "resize:f=0.5", **common)


def test_regions_move_with_the_image_and_the_fingerprints_say_so(loki_runs):
    root, clean, half = loki_runs
    before, after = records(clean), records(half)
    for sid, record in after.items():
        assert record["truth"]["reference"]["parts"]["regional"] == [
            {"region": [4.0, 2.0, 10.0, 5.0], "desc": "a bench floats"},
            {"region": [20.0, 15.0, 12.0, 9.0], "desc": "edge"},
        ]
        assert before[sid]["truth"]["reference"]["parts"]["regional"][0]["region"] == [8, 4, 20, 10]
    info = RunDir(half).manifest().perturbation
    assert info.clean_fingerprint == RunDir(clean).manifest().data_fingerprint != info.truths_fingerprint
    from fdrbench.perturb import perturb_samples
    from fdrbench.tasks.loki import LokiExplain

    assert info.truths_fingerprint == fingerprint_samples(perturb_samples(LokiExplain().load(root, "test", None, 0), "resize:f=0.5"))
    report = validate_run(half, data_dir=root)
    assert report.ok, report.reasons()
    assert "the regions moved by 'resize:f=0.5' match the data's" in report.notes


def test_moved_regions_are_checked_against_the_data_when_it_is_there(loki_runs, tmp_path, monkeypatch):
    root, clean, half = loki_runs
    copy = tmp_path / "results" / "loki_explain" / "hashdet" / half.name
    shutil.copytree(half, copy)

    def shift(record):
        record["truth"]["reference"]["parts"]["regional"][0]["region"][0] += 1.0
        return record

    rewrite_predictions(copy, shift)
    fresh = fingerprints.fingerprint_truths((sid, rec.truth) for sid, rec in RunDir(copy).records()[0].items())
    edit_json(copy / MANIFEST, lambda m: m["perturbation"].update(truths_fingerprint=fresh))
    report = validate_run(copy, data_dir=root, rescore=False)
    assert report.passed.count("fingerprint") == 1  # consistent in itself ...
    (message,) = problems(report, "task")  # ... but not what the perturbation does to the data
    assert "the regions were not moved as the perturbation moves them" in message
    # without the data, the official fingerprint is all there is: the moved regions are reported as unchecked
    clean_fp, version = RunDir(clean).manifest().data_fingerprint, RunDir(clean).manifest().task_info.version
    monkeypatch.setattr(fingerprints, "committed", lambda task: {"loki_explain": {version: {"test": clean_fp}}})
    monkeypatch.setenv("FDRBENCH_DATA", str(tmp_path / "nothing-here"))
    report = validate_run(copy, rescore=False)
    assert report.ok, report.reasons()
    assert any("were not recomputed from the data" in n and "pass --data-dir" in n for n in report.notes)


# --------------------------------------------------------------------------- compare and cohorts


def test_compare_says_the_runs_differ_in_perturbation_only(demo_runs):
    out = compare_runs([demo_runs["clean"], demo_runs["half"]], metrics=["accuracy"], n_boot=50)
    (warning,) = out["warnings"]
    assert warning.startswith("perturbations differ: sizedet/") and "has none (clean images)" in warning and "'resize:f=0.5'" in warning
    assert [r["perturbation"] for r in out["runs"]] == [None, "resize:f=0.5"]
    result = runner.invoke(app, ["compare", str(demo_runs["clean"]), str(demo_runs["jpeg"]), "--metric", "accuracy", "--n-boot", "20"])
    assert result.exit_code == 0 and "perturbations differ" in result.output and "(fakevlm_t7/jpeg70)" in result.output
    assert "task fingerprints differ" not in result.output


def test_perturbed_runs_are_never_ranked_with_clean_ones(demo_runs, tmp_path):
    from fdrbench.leaderboard.index import build_index
    from fdrbench.leaderboard.ranking import cohorts

    root = tmp_path / "results"
    shutil.copytree(demo_runs["clean"].parents[2], root)
    index = build_index(root, pairs=False)
    by_path = {Path(e["path"]).name: e for e in index["runs"]}
    assert "perturbation" not in by_path[demo_runs["clean"].name]
    assert by_path[demo_runs["half"].name]["perturbation"]["spec"] == "resize:f=0.5"
    assert all(e["official"] is None for e in index["runs"])  # a subset: no registered fingerprint to compare with
    groups = cohorts(index["runs"])["demo"]
    assert [c.perturbation["spec"] if c.perturbation else None for c in groups][0] is None and groups[0].reference
    assert len(groups) == 3  # clean, resize:f=0.5, jpeg:q=70
    half = next(c for c in groups if c.perturbation and c.perturbation["spec"] == "resize:f=0.5")
    assert "images perturbed by resize:f=0.5 (ranked runs: none)" in half.why
    assert half.label.endswith("· perturbed: resize:f=0.5")
    jpeg = next(c for c in groups if c.perturbation and c.perturbation["name"])
    assert "perturbed: jpeg:q=70 (fakevlm_t7/jpeg70)" in jpeg.label


def test_a_clean_run_id_is_what_it_was_before_perturbations(demo_runs):
    manifest = RunDir(demo_runs["clean"]).manifest()
    assert demo_runs["clean"].name == f"test-n{LIMIT}-s0-{config_hash(manifest.config)[:8]}"


def test_a_perturbed_run_on_the_official_data_is_marked_official():
    from fdrbench.leaderboard.index import _official_flags

    official = fingerprints.committed(DemoTask())["demo"]["1"]["test"]
    entries = [
        {
            "task": "demo",
            "task_version": "1",
            "split": "test",
            "limit": None,
            "data_fingerprint": "ab" * 32,
            "perturbation": {"clean_fingerprint": fp},
        }
        for fp in (official, "cd" * 32)
    ]
    _official_flags(entries)
    assert [e["official"] for e in entries] == [True, False]


def test_the_judge_and_show_see_the_perturbation(demo_runs):
    from fdrbench.judge.run import _samples_by_id

    run = RunDir(demo_runs["half"])
    manifest = run.manifest()
    samples = _samples_by_id(manifest, run.task(manifest), None)
    sid = next(iter(records(demo_runs["half"])))
    assert list(samples[sid].load_image().size) == records(demo_runs["half"])[sid]["extra"]["size"]
    result = runner.invoke(app, ["show", str(demo_runs["jpeg"]), "--no-groups"])
    assert result.exit_code == 0 and "perturbation" in result.output and "jpeg:q=70 (fakevlm_t7/jpeg70)" in result.output
