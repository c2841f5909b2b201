"""Blind submissions: ``run --predict-only`` writes predictions without the truth; ``score-submission``
checks them against the organiser's labels, rejects a bad one with every reason, and files a normal run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fdrbench.blind.score import Scoring, score_submission
from fdrbench.blind.submission import SUBMISSION, SUBMISSION_MANIFEST, Limits
from fdrbench.fingerprints import public_fingerprint
from fdrbench.pipeline import RunConfig, run
from fdrbench.record import PREDICTION_FIELDS
from fdrbench.store import MANIFEST, SCORES, read_json
from fdrbench.submit import SubmissionRejected
from fdrbench.validate import validate_run

from .helpers.heldout import HeldOutDemo, build_heldout
from .helpers.plugins import install_entry_points
from .hostile.kit import invoke, snapshot

HELPERS = Path(__file__).resolve().parent / "helpers"
PEEKING = f"{HELPERS / 'heldout.py'}:PeekingDetector"
HASH = f"{HELPERS / 'toy_adapters.py'}:HashDetector"
BLIND = "saw label=None cls=None group={} meta=[] reference=[]"


@pytest.fixture(scope="module")
def copies(demo_root, tmp_path_factory) -> tuple[Path, Path]:
    """The held-out demo: (public release, organiser's labelled copy)."""
    root = tmp_path_factory.mktemp("heldout")
    build_heldout(demo_root, root / "public", root / "held")
    return root / "public", root / "held"


@pytest.fixture
def registered(tmp_path, monkeypatch):
    """``demo_heldout`` installed as a plugin task, as a benchmark's organiser would publish it."""
    install_entry_points(tmp_path / "plugin", monkeypatch, {"fdrbench.tasks": {"demo_heldout": "tests.helpers.heldout:HeldOutDemo"}})


def blind_run(data: Path, out: Path, model: str = PEEKING, **extra) -> Path:
    """A predict-only run through the command line; returns its folder."""
    args = ["run", "-m", model, "-t", "demo_heldout", "--data-dir", data, "--out", out, "--predict-only", "--no-progress"]
    for key, value in extra.items():
        args += [f"--{key.replace('_', '-')}", value]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "no truth was read" in result.output
    (folder,) = (out / "demo_heldout").glob("*/*")
    return folder


def lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / SUBMISSION).read_text().splitlines()]


def comparable(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "latency_s"} for row in rows]


# --------------------------------------------------------------------------- the participant's side


def test_a_blind_run_sees_no_truth_and_writes_none(registered, copies, tmp_path):
    public, held = copies
    folder = blind_run(public, tmp_path / "out")
    rows = lines(folder)
    assert len(rows) == 240 and all(list(row) == list(PREDICTION_FIELDS) for row in rows)  # no truth field
    assert {row["explanation"] for row in rows} == {BLIND}
    manifest = read_json(folder / SUBMISSION_MANIFEST)
    assert manifest["submission"] == {"role": "submission", "public_fingerprint": manifest["data_fingerprint"]}
    assert manifest["data_fingerprint"] == public_fingerprint(HeldOutDemo().load(public))
    assert manifest["status"] == "complete" and manifest["config"]["predict_only"] is True
    assert not (folder / MANIFEST).exists() and not (folder / SCORES).exists()

    # the same run on the organiser's labelled copy, and on a copy whose labels are all flipped,
    # writes the same predictions and the same fingerprint: nothing in a submission depends on the truth
    flipped = tmp_path / "flipped"
    shutil.copytree(held, flipped)
    labels = flipped / "test" / "labels.jsonl"
    swap = {"real": "full_synthetic", "full_synthetic": "real", "tampered": "real"}
    rows_out = []
    for row in map(json.loads, labels.read_text().splitlines()):
        row["cls"] = swap[row["cls"]]
        row["label"] = 0 if row["cls"] == "real" else 1
        rows_out.append(json.dumps(row))
    labels.write_text("\n".join(rows_out) + "\n")
    for data, out in ((held, "labelled"), (flipped, "flipped")):
        other = blind_run(data, tmp_path / out)
        assert comparable(lines(other)) == comparable(rows)
        assert read_json(other / SUBMISSION_MANIFEST)["data_fingerprint"] == manifest["data_fingerprint"]


def test_data_without_labels_needs_predict_only_and_the_whole_split(registered, copies, tmp_path):
    public, _ = copies
    result = invoke("run", "-m", PEEKING, "-t", "demo_heldout", "--data-dir", public, "--out", tmp_path, "--no-progress")
    assert result.exit_code == 2
    assert "this data holds no labels" in result.output and "--predict-only" in result.output
    result = invoke("run", "-m", PEEKING, "-t", "demo_heldout", "-d", public, "--out", tmp_path, "--predict-only", "--limit", "10")
    assert result.exit_code == 2 and "--limit is refused" in result.output
    assert not list(tmp_path.rglob(SUBMISSION))


def test_a_blind_run_resumes(registered, copies, tmp_path):
    public, _ = copies
    folder = blind_run(public, tmp_path / "out")
    whole = (folder / SUBMISSION).read_text().splitlines(keepends=True)
    (folder / SUBMISSION).write_text("".join(whole[:100]) + whole[100][:20])  # killed mid-write
    again = blind_run(public, tmp_path / "out")
    assert again == folder
    rows = lines(folder)
    assert len(rows) == 240 and len({r["sample_id"] for r in rows}) == 240
    assert comparable(rows[:100]) == comparable([json.loads(line) for line in whole[:100]])


# --------------------------------------------------------------------------- the organiser's side


def test_an_accepted_submission_becomes_a_validated_run_scored_like_a_normal_one(registered, copies, tmp_path):
    public, held = copies
    folder = blind_run(public, tmp_path / "out")
    results = tmp_path / "results"
    filed = score_submission(folder / SUBMISSION, Scoring(task="demo_heldout", data_dir=held, results=results, n_boot=50))
    assert filed.run_dir == results / "demo_heldout" / "peeking" / folder.name
    assert validate_run(filed.run_dir, data_dir=held, portable=True).ok
    manifest = read_json(filed.run_dir / MANIFEST)
    submission = manifest["submission"]
    assert submission["role"] == "scored" and len(submission["sha256"]) == 64 and len(submission["manifest_sha256"]) == 64
    assert manifest["data_fingerprint"] != submission["public_fingerprint"]  # the labelled data's own fingerprint
    scored = read_json(filed.run_dir / SCORES)
    assert sorted(scored["protocols"]) == sorted(HeldOutDemo().protocols())  # every protocol of the task
    # a normal run of the same detector on the labelled copy has the same scores
    normal = run(RunConfig(model=PEEKING, task="demo_heldout", data_dir=held, out=tmp_path / "normal", n_boot=50, show_progress=False))
    reference = read_json(normal.run_dir / SCORES)
    for name, block in reference["protocols"].items():
        assert scored["protocols"][name]["overall"] == block["overall"], name
        assert scored["protocols"][name]["groups"] == block["groups"], name
    assert (results / "index.json").exists() or filed.index is None


def test_the_demo_works_as_a_blind_benchmark_from_the_command_line(demo_root, tmp_path):
    out, results = tmp_path / "submissions", tmp_path / "results"
    result = invoke("run", "-m", HASH, "-t", "demo", "--predict-only", "--out", out, "--no-progress")
    assert result.exit_code == 0, result.output
    (submission,) = out.glob(f"demo/hashdet/*/{SUBMISSION}")
    args = ("--task", "demo", "--data-dir", demo_root, "--results", results, "--n-boot", "20", "--no-progress")
    result = invoke("score-submission", submission, *args)
    assert result.exit_code == 0, result.output
    (run_dir,) = results.glob("demo/hashdet/*")
    assert f"filed {run_dir}" in result.output  # validated in full on the way in, as `fdrbench submit` files a run
    assert read_json(run_dir / MANIFEST)["submission"]["role"] == "scored"
    assert read_json(results / "index.json")["runs"][0]["path"] == run_dir.relative_to(results).as_posix()


def tamper(folder: Path, tmp_path: Path) -> Path:
    """A copy of a submission with one of every problem an organiser must catch."""
    bad = tmp_path / "tampered"
    shutil.copytree(folder, bad)
    rows = lines(bad)
    rows[0]["truth"] = {"label": 1}  # a field a submission does not have
    rows[1]["p_fake"] = 1.5
    rows[2]["cls"] = "banana"
    rows[3]["sample_id"] = rows[4]["sample_id"]  # twice, and rows[3]'s own id is then missing
    rows[5]["sample_id"] = "not-in-the-split"
    tampered = next(i for i, r in enumerate(rows) if r["mask"] is not None)
    rows[tampered]["mask"]["counts"].append(7)  # no longer decodable
    other = next(i for i, r in enumerate(rows) if r["mask"] is not None and i != tampered)
    rows[other]["mask"] = {"size": [3, 4], "counts": [12]}  # decodable, but not its image's size
    text = [json.dumps(r) for r in rows[:-2]]  # the last two samples are missing
    text.insert(7, "{not json")
    (bad / SUBMISSION).write_text("\n".join(text) + "\n")
    return bad


def test_a_tampered_submission_is_rejected_with_every_reason_and_nothing_changes(registered, copies, tmp_path):
    public, held = copies
    folder = blind_run(public, tmp_path / "out")
    bad = tamper(folder, tmp_path)
    results = tmp_path / "results"
    (results / "demo" / "kept" / "run").mkdir(parents=True)
    (results / "demo" / "kept" / "run" / "note.txt").write_text("already here")
    before = snapshot(tmp_path, skip=[tmp_path / "out", tmp_path / "tampered", tmp_path / "plugin"])
    with pytest.raises(SubmissionRejected) as caught:
        score_submission(bad / SUBMISSION, Scoring(task="demo_heldout", data_dir=held, results=results, n_boot=20))
    text = "\n".join(caught.value.report.reasons())
    for needle in (
        "unknown field 'truth' (a submission line holds the prediction fields only)",
        "p_fake must be in [0, 1], got 1.5",
        "'cls' 'banana' is not one of",
        "appears again (first on line",
        "sample id 'not-in-the-split' is not in the task's split",
        "not valid JSON",
        "of the split's 240 samples have no line",
        "is not a valid run-length mask",
        "the mask is 3x4 (h x w), its image is",
    ):
        assert needle in text, (needle, text)
    assert snapshot(tmp_path, skip=[tmp_path / "out", tmp_path / "tampered", tmp_path / "plugin"]) == before


def test_a_submission_for_other_data_or_without_its_manifest_is_rejected(registered, copies, tmp_path):
    public, held = copies
    folder = blind_run(public, tmp_path / "out")
    scoring = Scoring(task="demo_heldout", data_dir=held, results=tmp_path / "results", n_boot=20)
    manifest = read_json(folder / SUBMISSION_MANIFEST)
    manifest["submission"]["public_fingerprint"] = "0" * 64
    manifest["task_info"]["version"] = "0"
    manifest["status"] = "running"
    (folder / SUBMISSION_MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(SubmissionRejected) as caught:
        score_submission(folder / SUBMISSION, scoring)
    text = "\n".join(caught.value.report.reasons())
    assert "the submission was made on other samples" in text
    assert "version '0'; the current version is '1'" in text
    assert "did not finish" in text
    (folder / SUBMISSION_MANIFEST).unlink()
    with pytest.raises(SubmissionRejected) as caught:
        score_submission(folder / SUBMISSION, scoring)
    assert "submission-manifest.json is missing" in "\n".join(caught.value.report.reasons())
    assert not (tmp_path / "results").exists()


def test_size_limits(registered, copies, tmp_path):
    public, held = copies
    folder = blind_run(public, tmp_path / "out")
    scoring = Scoring(task="demo_heldout", data_dir=held, results=tmp_path / "results", n_boot=20, limits=Limits(max_line_bytes=100))
    with pytest.raises(SubmissionRejected) as caught:
        score_submission(folder / SUBMISSION, scoring)
    assert "more than the 100 a line may have" in "\n".join(caught.value.report.reasons())
    scoring.limits = Limits(max_bytes=1000)
    with pytest.raises(SubmissionRejected) as caught:
        score_submission(folder / SUBMISSION, scoring)
    assert "more than the 1,000 accepted" in "\n".join(caught.value.report.reasons())


def test_the_cli_lists_every_reason_and_exits_1(registered, copies, tmp_path):
    public, held = copies
    bad = tamper(blind_run(public, tmp_path / "out"), tmp_path)
    result = invoke(
        "score-submission", bad / SUBMISSION, "--task", "demo_heldout", "-d", held, "--results", tmp_path / "r", "--no-progress"
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"error: the submission at {bad / SUBMISSION} was rejected:")
    assert result.output.count("  - [") >= 8
    assert not (tmp_path / "r").exists()
    unlabelled = invoke("score-submission", bad / SUBMISSION, "--task", "demo_heldout", "--data-dir", public)
    assert unlabelled.exit_code == 2 and "holds no labels" in unlabelled.output


def test_a_task_is_held_to_what_it_declares_about_its_labels(copies):
    from fdrbench.errors import DataError

    public, held = copies

    class SaysLabelled(HeldOutDemo):
        def has_labels(self, data_dir, split):
            return True

    class SaysHeldOut(HeldOutDemo):
        def has_labels(self, data_dir, split):
            return False

    with pytest.raises(DataError, match="holds labels, but this sample has none"):
        SaysLabelled().load(public)
    with pytest.raises(DataError, match=r"is held out \(no labels\), but this sample has one"):
        SaysHeldOut().load(held)
    (sample,) = [s for s in HeldOutDemo().load(public) if s.id == "s0000"]
    assert sample.label is None
    with pytest.raises(DataError, match="this sample has no label"):
        sample.truth()
    # what a blind detector sees of a labelled sample: no label, class, groups, reference, mask or metadata
    full = next(s for s in HeldOutDemo().load(held) if s.mask is not None)
    view = HeldOutDemo().blind_sample(full)
    assert (view.id, view.image, view.question) == (full.id, full.image, full.question)
    assert (view.label, view.cls, view.group, view.mask, view.meta, view.reference.all_texts()) == (None, None, {}, None, {}, [])
