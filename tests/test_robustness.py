"""``fdrbench robustness`` end to end on CPU (the spectral baseline on the demo under ``openfake_jpeg``), the
``robustness.json`` contract, its validation, and explanation stability on hand-made runs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from fdrbench.checks import print_reports
from fdrbench.errors import ResultsError
from fdrbench.perturb import preset
from fdrbench.protocols import strict_protocol
from fdrbench.record import Record
from fdrbench.results import ROBUSTNESS_DIR, Robustness, RunDir, find_robustness
from fdrbench.robustness import file_name
from fdrbench.scoring import build_frame
from fdrbench.stability import stability
from fdrbench.store import PREDICTIONS, SCORES, read_json
from fdrbench.validate import validate_path
from fdrbench.validate_robustness import validate_robustness

from .conftest import run_cli
from .helpers.robustness_results import LIMIT, N_BOOT, PRESET, robustness_sweep, sweep_command  # noqa: F401 - a fixture

CONDITIONS = ["jpeg90", "jpeg75", "jpeg50", "jpeg25"]


def the_file(root: Path) -> Path:
    (path,) = find_robustness(root)
    return path


def lines(run: Path) -> dict[str, dict]:
    return {r["sample_id"]: r for r in map(json.loads, (run / PREDICTIONS).read_text().splitlines())}


@pytest.fixture
def sweep_copy(robustness_sweep, tmp_path) -> Path:  # noqa: F811
    root = tmp_path / "results"
    shutil.copytree(robustness_sweep[0], root)
    return root


# --------------------------------------------------------------------------- end to end


def test_the_sweep_runs_every_condition_and_writes_the_file_beside_them(robustness_sweep):  # noqa: F811
    root, done = robustness_sweep
    path = the_file(root)
    model_dir = root / "demo" / "spectral"
    assert path.parent == model_dir / ROBUSTNESS_DIR
    robustness = Robustness.read(path)
    clean_id = robustness.runs[0].run_id
    assert path.name == file_name(PRESET, clean_id, [f"jpeg:q={q}" for q in (90, 75, 50, 25)])
    assert re.fullmatch(r"openfake_jpeg-[0-9a-f]{8}\.json", path.name)
    assert [r.condition for r in robustness.runs] == ["clean", *CONDITIONS] and robustness.conditions() == CONDITIONS
    assert [r.spec for r in robustness.runs] == [None, "jpeg:q=90", "jpeg:q=75", "jpeg:q=50", "jpeg:q=25"]
    for ref in robustness.runs:
        run = RunDir(model_dir / ref.run_id)
        assert run.manifest().status == "complete"
        assert (run.manifest().perturbation.spec if ref.spec else run.manifest().perturbation) == ref.spec
        assert f"{ref.condition}: {run.path} (run)" in done.stdout
    assert (robustness.task, robustness.model, robustness.preset, robustness.description) == (
        "demo",
        "spectral",
        PRESET,
        preset(PRESET).description,
    )
    assert robustness.settings.n_boot == N_BOOT and sorted(robustness.protocols) == ["paper", "strict"]
    assert "spectral on demo under openfake_jpeg - protocol 'strict'" in done.stdout and "stability against the clean run" in done.stdout
    assert f"robustness file: {path}" in done.stdout


def test_values_differences_and_flips_agree_with_the_runs(robustness_sweep):  # noqa: F811
    root, _ = robustness_sweep
    path = the_file(root)
    robustness = Robustness.read(path)
    model_dir = path.parent.parent
    clean = lines(model_dir / robustness.runs[0].run_id)
    strict = robustness.protocols["strict"]
    clean_scores = read_json(model_dir / robustness.runs[0].run_id / SCORES)["protocols"]["strict"]["overall"]
    assert strict.metrics["accuracy"].clean.value == clean_scores["accuracy"]["value"]
    right = lambda run: np.array([run[s]["label"] == run[s]["truth"]["label"] for s in sorted(clean)])  # noqa: E731
    for ref in robustness.runs[1:]:
        other = lines(model_dir / ref.run_id)
        assert other.keys() == clean.keys() and len(other) == LIMIT
        change = strict.metrics["accuracy"].conditions[ref.condition]
        own = read_json(model_dir / ref.run_id / SCORES)["protocols"]["strict"]["overall"]["accuracy"]
        assert (change.value, change.ci) == (own["value"], own["ci"])
        assert change.diff == pytest.approx(right(other).mean() - right(clean).mean())
        assert change.test == "McNemar" and change.n == LIMIT and 0 <= change.p_value <= 1
        assert change.significant == (change.p_value < 0.05)
        flips = [s for s in clean if clean[s]["label"] != other[s]["label"]]
        st = strict.stability[ref.condition]
        assert (st.n, st.n_flipped, st.n_lost) == (LIMIT, len(flips), 0)
        assert st.to_real == sum(clean[s]["label"] == 1 for s in flips) and st.to_fake == sum(clean[s]["label"] == 0 for s in flips)
        assert st.flip_rate.value == pytest.approx(len(flips) / LIMIT)
        assert st.flip_rate.ci[0] <= st.flip_rate.value <= st.flip_rate.ci[1]
    # the paper protocol of the demo reads no verdict out of the baseline's sentences: nothing to pair or compare
    paper = robustness.protocols["paper"]
    assert paper.metrics["accuracy"].conditions["jpeg25"].n == 0 and paper.metrics["accuracy"].conditions["jpeg25"].diff is None
    assert paper.stability["jpeg25"].unavailable == {
        "rouge_l": "the clean run gives no explanation to compare with",
        "css": "the clean run gives no explanation to compare with",
    }


def test_explanation_stability_against_the_clean_explanations(robustness_sweep):  # noqa: F811
    from rouge_score import rouge_scorer

    from fdrbench.metrics.embeddings import EncoderSpec, embed

    root, _ = robustness_sweep
    path = the_file(root)
    robustness = Robustness.read(path)
    clean = lines(path.parent.parent / robustness.runs[0].run_id)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    for ref in robustness.runs[1:]:
        other = lines(path.parent.parent / ref.run_id)
        ids = sorted(clean)
        st = robustness.protocols["strict"].stability[ref.condition]
        expected = np.mean([scorer.score(clean[s]["explanation"], other[s]["explanation"])["rougeL"].fmeasure for s in ids])
        assert st.rouge_l.value == pytest.approx(expected, abs=1e-9)
        assert st.n_explained == LIMIT
        a = embed([clean[s]["explanation"] for s in ids], EncoderSpec("minilm").resolved())
        b = embed([other[s]["explanation"] for s in ids], EncoderSpec("minilm").resolved())
        assert st.css.value == pytest.approx(float(np.mean(np.sum(a * b, axis=1))), abs=1e-6)
        unchanged = [s for s in ids if clean[s]["explanation"] == other[s]["explanation"]]
        assert st.rouge_l.value <= 1 and (len(unchanged) < LIMIT or st.rouge_l.value == pytest.approx(1.0))


def test_a_second_sweep_reuses_the_finished_runs_and_writes_the_same_file(sweep_copy):
    path = the_file(sweep_copy)
    before = read_json(path)
    manifests = {p: p.read_bytes() for p in sweep_copy.glob("demo/spectral/*/manifest.json")}
    done = run_cli(*sweep_command(sweep_copy))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("(reused)") == 5 and "(run)" not in done.stdout
    after = read_json(path)
    assert after.pop("created") >= before.pop("created") and after == before
    assert {p: p.read_bytes() for p in manifests} == manifests  # finished runs are left untouched


def test_validate_accepts_the_sweep_and_rejects_an_edited_file(sweep_copy, capsys):
    reports = validate_path(sweep_copy)
    assert all(r.ok for r in reports), [r.reasons() for r in reports]
    assert [r.run_dir for r in reports if r.run_dir.suffix == ".json"] == [the_file(sweep_copy)]
    assert print_reports(reports, [], echo=print) and "5 of 5 runs valid\n1 of 1 robustness files valid" in capsys.readouterr().out
    path = the_file(sweep_copy)
    data = read_json(path)
    data["protocols"]["strict"]["metrics"]["accuracy"]["conditions"]["jpeg25"]["diff"] = -0.37
    path.write_text(json.dumps(data))
    (reason,) = validate_robustness(path).reasons()
    assert reason.startswith(f"[robustness] {path.name} does not match the analysis of its runs: ")
    assert "protocols.strict.metrics.accuracy.conditions.jpeg25.diff: stored -0.37, recomputed" in reason


def test_validate_sees_a_run_that_changed_since(sweep_copy):
    path = the_file(sweep_copy)
    ref = Robustness.read(path).runs[2]
    scores = path.parent.parent / ref.run_id / SCORES
    scores.write_text(scores.read_text() + "\n")
    (message,) = validate_robustness(path).reasons()
    assert message.startswith(
        f"[robustness] condition 'jpeg75': run {ref.run_id!r}: its scores.json is not the one the file was computed from"
    )


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d["runs"][1].update(run_id="../../../etc"), "condition 'jpeg90': run '../../../etc' cannot be read"),
        (lambda d: d["runs"][1].update(run_id="robustness"), "names the robustness folder, not a run"),
        (lambda d: d["runs"][2].update(spec="jpeg:q=10"), "is perturbed by jpeg:q=75 (openfake_jpeg/jpeg75), not jpeg:q=10"),
        (lambda d: d["runs"].reverse(), "'runs' must start with the clean run"),
        (lambda d: d.update(model="other"), "'model' is 'other' but the file lies in the model folder 'spectral'"),
        (lambda d: d["protocols"]["strict"]["metrics"]["accuracy"]["clean"].update(value=95.0), "values are fractions, never percentages"),
        (lambda d: d["protocols"]["strict"]["stability"]["jpeg90"].update(n_flipped=999), "must be to_real + to_fake and at most n"),
        (lambda d: d["protocols"]["strict"]["stability"].pop("jpeg50"), "stability: conditions"),
        (lambda d: d.pop("runs"), "missing field 'runs'"),
    ],
)
def test_validate_names_what_is_wrong_with_a_hostile_file(sweep_copy, edit, expected):
    path = the_file(sweep_copy)
    data = read_json(path)
    edit(data)
    path.write_text(json.dumps(data))
    reasons = validate_robustness(path).reasons()
    assert reasons and any(expected in r for r in reasons), reasons
    assert all(r.startswith("[robustness] ") for r in reasons)


def test_portable_refuses_stray_files_and_local_paths(sweep_copy):
    path = the_file(sweep_copy)
    (path.parent / "notes.txt").write_text("x")
    data = read_json(path)
    data["readings"] = "/home/someone/private/notes"
    path.write_text(json.dumps(data))
    reasons = validate_robustness(path, portable=True, rederive=False).reasons()
    assert any("notes.txt: unexpected file in a robustness folder" in r for r in reasons)
    assert any(r.startswith("[portable]") and "readings" in r for r in reasons)


def test_bad_presets_and_options_stop_before_any_work(tmp_path):
    done = run_cli("robustness", "-m", "spectral", "-t", "demo", "--preset", "openfake", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "error: unknown perturbation preset 'openfake' (did you mean 'openfake_jpeg'?)" in done.stderr
    done = run_cli(*sweep_command(tmp_path), "--run-id", "robustness")
    assert done.returncode == 2 and "reserved for the folder of robustness sweeps" in done.stderr
    assert not any(tmp_path.rglob("manifest.json"))


# --------------------------------------------------------------------------- stability on hand-made runs


def _records(verdicts, explanations, truths=(1, 0, 1, 0)) -> list[Record]:
    out = []
    for i, (verdict, text, truth) in enumerate(zip(verdicts, explanations, truths, strict=True)):
        out.append(
            Record.from_json(
                {
                    "sample_id": f"s{i}",
                    "label": verdict,
                    "parse_ok": verdict is not None,
                    "explanation": text,
                    "truth": {"label": truth, "reference": {"text": "the dataset's own reference"}},
                }
            )
        )
    return out


def test_flips_losses_and_text_similarity_by_hand():
    protocol = strict_protocol(references=True)
    clean = build_frame(_records([1, 0, 1, 0], ["a red sky", "real photo", "odd hands here", None]), protocol)
    other = build_frame(_records([0, 0, None, 1], ["a red sky", "a real photo", "blurry", "fake now"]), protocol)
    st = stability(clean, other, n_boot=200, seed=0, level=0.95, scope="test")
    # s0 fake -> real (flip), s1 same, s2 lost its verdict, s3 real -> fake (flip)
    assert (st.n, st.n_flipped, st.to_real, st.to_fake, st.n_lost) == (3, 2, 1, 1, 1)
    assert st.flip_rate.value == pytest.approx(2 / 3)
    # ROUGE-L against the clean explanation: s0 identical (1), s1 "a real photo" vs "real photo" (LCS 2: P 2/3, R 1 -> F 0.8),
    # s2 has no explanation under strict (its verdict failed): 0; s3 has no clean explanation: left out
    assert st.n_explained == 3
    assert st.rouge_l.value == pytest.approx((1.0 + 0.8 + 0.0) / 3)
    assert st.css.value is not None and 0 < st.css.value < 1 and st.unavailable == {}


def test_stability_refuses_runs_on_other_truths():
    protocol = strict_protocol()
    clean = build_frame(_records([1, 0, 1, 0], [None] * 4), protocol)
    other = build_frame(_records([1, 0, 1, 0], [None] * 4, truths=(0, 0, 1, 0)), protocol)
    with pytest.raises(ResultsError, match="disagree on the truth"):
        stability(clean, other, n_boot=10, seed=0, level=0.95, scope="test")
