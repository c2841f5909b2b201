"""``fdrbench reproduce``: the verdict rule, the registry files, comparability, and the command on real run folders.

The FakeClue runs are written by the normal pipeline with the ``fakevlm`` adapter's answers
scripted to the published confusion counts (tests/helpers/published_runs.py).
"""

from __future__ import annotations

import json
import math
import shutil
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fdrbench.cli import app
from fdrbench.errors import FdrbenchError, RegistryError
from fdrbench.reproduce.check import check_run, find_matching
from fdrbench.reproduce.match import target_problems, weights_match
from fdrbench.reproduce.registry import load_registry, read_file
from fdrbench.reproduce.verdict import DEVIATES, NOT_COMPARABLE, REPRODUCED, judge, worst
from fdrbench.results import RunDir

from .conftest import REPO
from .helpers.plugins import install_entry_points

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


# --------------------------------------------------------------------------- the verdict rule


def test_printed_inside_the_widened_interval_is_reproduced():
    # accuracy 4,928 / 5,000 = 0.9856 with the interval [0.9820, 0.9890]; printed 98.6 -> 0.986 +- 0.0005
    assert judge(0.986, 0.0005, 0.9856, [0.9820, 0.9890]).verdict == REPRODUCED
    # the interval [0.9800, 0.9855] reaches 0.986 only once widened by the half precision: 0.9855 + 0.0005
    assert judge(0.986, 0.0005, 0.9830, [0.9800, 0.9855]).verdict == REPRODUCED
    # and from below: printed 94.00 (half precision 0.00005) against [0.94005, 0.9500]
    assert judge(0.94, 0.00005, 0.945, [0.94005, 0.95]).verdict == REPRODUCED


def test_printed_outside_deviates_by_how_much_and_how_many_half_widths():
    # interval [0.9800, 0.9854] (half-width 0.0027), measured 0.9827, printed 0.986: 0.0033 below, 1.22 half-widths
    judged = judge(0.986, 0.0005, 0.9827, [0.9800, 0.9854])
    assert judged.verdict == DEVIATES
    assert judged.difference == pytest.approx(-0.0033)
    assert judged.half_widths == pytest.approx(0.0033 / 0.0027)
    # an all-correct run: every bootstrap replicate is 1, so the interval is [1, 1]; 99.9 is 0.0005 short of 0.9995
    flat = judge(0.999, 0.0005, 1.0, [1.0, 1.0])
    assert flat.verdict == DEVIATES and flat.difference == pytest.approx(0.001) and math.isinf(flat.half_widths)
    assert judge(1.0, 0.0005, 1.0, [1.0, 1.0]).verdict == REPRODUCED


def test_the_worst_entry_decides():
    assert worst([REPRODUCED, REPRODUCED]) == REPRODUCED
    assert worst([REPRODUCED, DEVIATES]) == DEVIATES
    assert worst([DEVIATES, NOT_COMPARABLE, REPRODUCED]) == NOT_COMPARABLE


# --------------------------------------------------------------------------- registry files

PAPER = """\
paper = "toy"
title = "A toy paper"
source = "nowhere"

[models.spectral]
adapter = "spectral"

[[targets]]
name = "toy-demo"
description = "the spectral baseline on the demo"
model = "spectral"
task = "demo"
task_version = "1"
split = "test"
protocol = "strict"

[[targets.entries]]
id = "toy/t1/acc"
table = "Table 1"
row = "Spectral"
metric = "accuracy"
printed = "94.00"
"""


def paper_error(text: str) -> str:
    with pytest.raises(RegistryError) as caught:
        read_file(text.encode(), "published/toy.toml")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("published/toy.toml: ")
    return message


def test_a_paper_file_reads_into_targets_and_entries():
    (target,) = read_file(PAPER.encode(), "toy.toml")
    (entry,) = target.entries
    assert (target.name, target.model.adapter, target.task, target.protocol) == ("toy-demo", "spectral", "demo", "strict")
    assert entry.value == 0.94 and entry.half_width == pytest.approx(0.00005) and entry.scope == "overall"
    with_scale = read_file(PAPER.replace('printed = "94.00"', 'printed = "0.37"\nscale = 1').encode(), "toy.toml")[0].entries[0]
    assert with_scale.value == 0.37 and with_scale.half_width == pytest.approx(0.005)
    grouped = PAPER.replace('printed = "94.00"', 'printed = "98.6"\ngroup = { generator = "gan" }')
    assert read_file(grouped.encode(), "toy.toml")[0].entries[0].scope == "groups.generator.gan"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('printed = "94.00"', "printed = 94.0"), "entry 'toy/t1/acc': field 'printed': expected str, got float"),
        (('metric = "accuracy"', 'metric = "acuracy"'), "entry 'toy/t1/acc': unknown metric 'acuracy'. Did you mean accuracy"),
        (('metric = "accuracy"', 'metric = "accuracy"\nmetirc = "x"'), "entry 'toy/t1/acc': object contains unknown field metirc"),
        (('printed = "94.00"', 'printed = "94,0"'), "entry 'toy/t1/acc': printed must be the number as printed"),
        (('printed = "94.00"', 'printed = "194.0"'), "entry 'toy/t1/acc': 194.0 at scale 100 is 1.94, outside the range of accuracy"),
        (('id = "toy/t1/acc"', 'id = "other/t1/acc"'), "entry 'other/t1/acc': an id is 'toy/...'"),
        (('model = "spectral"', 'model = "spectra"'), "target 'toy-demo': model 'spectra' is not in [models] (it has spectral)"),
        (('adapter = "spectral"', 'adapter = "nosuch"'), "target 'toy-demo': adapter 'nosuch' is not a registered adapter name"),
        (('task = "demo"', 'task = "nosuch"'), "target 'toy-demo': task 'nosuch' is not a registered task name"),
        (('name = "toy-demo"', 'name = "list"'), "target 'list': a target name is"),
        (('split = "test"', 'split = "test"\nn_samples = "all"'), "target 'toy-demo': field 'n_samples': expected int | null, got str"),
        (('printed = "94.00"', 'printed = "94.00"\ngroup = { a = "1", b = "2" }'), "entry 'toy/t1/acc': group names one key and value"),
        (("[models.spectral]", "[model.spectral]"), "object contains unknown field model"),
        (('source = "nowhere"', 'source = "nowhere'), "not valid TOML"),
    ],
)
def test_registry_file_errors_name_the_file_and_the_entry(change, expected):
    old, new = change
    assert old in PAPER
    assert expected in paper_error(PAPER.replace(old, new, 1))


def test_registry_packages_come_through_the_entry_point_group(tmp_path, monkeypatch):
    package = tmp_path / "plugin" / "toy_published"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "toy.toml").write_text(PAPER, encoding="utf-8")
    install_entry_points(tmp_path / "plugin", monkeypatch, {"fdrbench.published": {"toy": "toy_published"}})
    registry = load_registry()
    assert registry.target("toy-demo").file == "toy_published/toy.toml"
    assert "fakevlm-fakeclue" in registry.targets  # fdrbench's own files are still read
    clash = PAPER.replace('name = "toy-demo"', 'name = "other"')
    (package / "again.toml").write_text(clash, encoding="utf-8")
    with pytest.raises(RegistryError, match=r"^toy_published/toy.toml: entry 'toy/t1/acc' is also defined in toy_published/again.toml$"):
        load_registry()


def test_unknown_target_says_did_you_mean():
    result = invoke("reproduce", "fakevlm-fakeclu")
    assert result.exit_code == 2
    assert "unknown target 'fakevlm-fakeclu'. Did you mean 'fakevlm-fakeclue'" in result.output
    assert "fdrbench reproduce list" in result.output


def test_shipped_registry_agrees_with_the_tasks_and_adapters():
    registry = load_registry()
    assert {"fakevlm-fakeclue", "fakevlm-loki", "fakevlm-ddvqa", "fakereasoning-mmfr", "sida-7b-sidset", "sida-13b-sidset"} <= set(
        registry.targets
    )
    assert any(t.task == "sofake_ood" for t in registry.targets.values())
    problems = [p for t in registry.targets.values() for p in target_problems(t)]
    assert not problems, problems
    mmfr = registry.target("fakereasoning-mmfr")
    assert {e.group[1] for e in mmfr.entries if e.group} == {
        "stablediffusion",
        "dalle3",
        "if",
        "midjourney",
        "kandinsky",
        "pixart",
        "flux",
        "gpt4o",
        "styleganxl",
        "gigagan",
    }
    assert {e.aggregate for e in mmfr.entries if e.aggregate} == {"DM", "GAN", "AVG"}


def test_the_docs_list_every_target():
    page = (REPO / "docs" / "reproducing.md").read_text(encoding="utf-8")
    for target in load_registry().targets.values():
        assert f"`{target.name}`" in page, target.name
        for entry in target.entries:
            assert entry.printed in page, entry.id


def test_list_prints_targets_and_entries():
    result = invoke("reproduce", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = {t["name"]: t for t in json.loads(result.output)["targets"]}
    acc = next(e for e in listed["fakevlm-fakeclue"]["entries"] if e["id"] == "fakevlm/t2/fakeclue/acc")
    assert acc["printed"] == "98.6" and acc["value"] == 0.986 and acc["half_width"] == pytest.approx(0.0005)
    table = invoke("reproduce", "list")
    assert table.exit_code == 0 and "fakereasoning/t3/avg" in table.output and "sida-13b-sidset" in table.output


def test_weights_match_by_id_or_by_a_folder_named_as_the_release():
    assert weights_match("lingcco/fakeVLM", "lingcco/fakeVLM") == (True, None)
    same, note = weights_match("lingcco/fakeVLM", "/models/fakeVLM/")
    assert same and "not compared" in note
    assert weights_match("saberzl/SIDA-7B", "/models/SIDA-13B")[0] is False
    assert weights_match("saberzl/SIDA-7B", None)[0] is False


# --------------------------------------------------------------------------- FakeClue runs, checked


def check(*args: str) -> tuple[int, dict]:
    result = invoke("reproduce", *args, "--json")
    return result.exit_code, json.loads(result.output)


def entries(report: dict) -> dict[str, dict]:
    return {e["id"]: e for e in report["entries"]}


def test_the_published_confusion_matrix_is_reproduced(fakeclue_runs):
    code, report = check("fakevlm-fakeclue", "--run", str(fakeclue_runs["reproduced"]))
    assert code == 0 and report["verdict"] == REPRODUCED and not report["reasons"]
    found = entries(report)
    acc, f1 = found["fakevlm/t2/fakeclue/acc"], found["fakevlm/t2/fakeclue/f1"]
    # 4,928 right of 5,000 plus the adapter's coin on the 4 unparsed fake images
    assert 4928 / 5000 <= acc["measured"] <= 4932 / 5000
    assert acc["ci"][0] < 0.986 < acc["ci"][1] and acc["verdict"] == REPRODUCED
    # real is the positive class: 2*1760 / (2*1760 + 20 + 48) = 0.98105 before the coins
    assert f1["measured"] == pytest.approx(2 * 1760 / (2 * 1760 + 20 + 48), abs=0.0015) and f1["verdict"] == REPRODUCED
    stored = RunDir(fakeclue_runs["reproduced"]).scores().protocols["paper"].overall
    assert acc["measured"] == stored["accuracy"].value and acc["ci"] == stored["accuracy"].ci  # read from scores.json


def test_fifty_flipped_verdicts_deviate(fakeclue_runs):
    code, report = check("fakevlm-fakeclue", "--run", str(fakeclue_runs["flipped"]))
    assert code == 1 and report["verdict"] == DEVIATES
    for entry in entries(report).values():
        assert entry["verdict"] == DEVIATES
        assert entry["difference"] < -0.009 and entry["ci_half_widths"] > 1
        assert entry["ci"][1] + entry["half_width"] < entry["published"]
    text = invoke("reproduce", "fakevlm-fakeclue", "--run", str(fakeclue_runs["flipped"]))
    assert text.exit_code == 1 and "points" in text.output and "CI half-widths" in text.output and "verdict: deviates" in text.output


def test_a_limit_subset_is_not_comparable(fakeclue_runs):
    code, report = check("fakevlm-fakeclue", "--run", str(fakeclue_runs["limit"]))
    assert code == 2 and report["verdict"] == NOT_COMPARABLE
    assert report["reasons"] == ["subset: the run scored a --limit subset of 500 samples, not the whole test split"]
    assert all(e["verdict"] == NOT_COMPARABLE and e["measured"] is None for e in report["entries"])


def test_the_text_target_checks_its_own_entries(fakeclue_runs):
    # the scripted explanations match the references nearly word for word: far above the printed ROUGE-L and CSS
    code, report = check("fakevlm-fakeclue-text", "--run", str(fakeclue_runs["reproduced"]))
    assert code == 1 and all(e["verdict"] == DEVIATES and e["difference"] > 0 for e in report["entries"])


def copy_run(run: Path, root: Path) -> Path:
    target = root / run.relative_to(run.parents[2])
    shutil.copytree(run, target)
    return target


def edit_manifest(run: Path, edit) -> None:
    folder = RunDir(run)
    manifest = folder.manifest()
    edit(manifest)
    folder.write_manifest(manifest)


def test_every_difference_is_named(fakeclue_runs, tmp_path):
    run = copy_run(fakeclue_runs["reproduced"], tmp_path / "results")

    def edit(manifest):
        manifest.task_info.version = "0"
        manifest.task_info.split = "train"
        manifest.task_info.n_samples = 4990
        manifest.task_info.options = {"reference": "explanation"}
        manifest.adapter.args = {"path": "someone/fakeVLM-finetune", "prompt": "task"}

    edit_manifest(run, edit)
    registry = load_registry()
    reasons = check_run(registry.target("fakevlm-fakeclue-text"), run).reasons
    assert reasons == [
        "task version: the run read fakeclue v0, the target is checked against v1",
        "split: the run scored 'train', the target needs 'test'",
        "subset: the run has 4990 samples, the test split has 5000",
        "task option reference: the run has 'explanation', the target needs 'answer'",
        "weights: the run used 'someone/fakeVLM-finetune', the target needs 'lingcco/fakeVLM'",
    ]
    ddvqa = check_run(registry.target("fakevlm-ddvqa"), run)
    assert ddvqa.reasons == ["task: the run is of 'fakeclue', the target needs 'ddvqa'"] and ddvqa.exit_code == 2
    edit_manifest(run, lambda m: setattr(m.adapter, "name", "hf_lmm"))
    assert "model: the run's adapter is 'hf_lmm', the target's is 'fakevlm'" in check_run(registry.target("fakevlm-fakeclue"), run).reasons


def test_a_local_weights_folder_named_as_the_release_is_compared_with_a_note(fakeclue_runs, tmp_path):
    run = copy_run(fakeclue_runs["reproduced"], tmp_path / "results")
    edit_manifest(run, lambda m: m.adapter.args.update(path="/models/fakeVLM"))
    result = check_run(load_registry().target("fakevlm-fakeclue"), run)
    assert result.verdict == REPRODUCED and any("/models/fakeVLM" in n for n in result.notes)


def test_missing_scores_are_recomputed_from_the_predictions(fakeclue_runs, tmp_path):
    run = copy_run(fakeclue_runs["reproduced"], tmp_path / "results")
    stored = check_run(load_registry().target("fakevlm-fakeclue"), run)
    RunDir(run).scores_path.unlink()
    target = load_registry().target("fakevlm-fakeclue")
    rescored = check_run(target, run)
    assert [(e.measured, e.ci, e.verdict) for e in rescored.entries] == [(e.measured, e.ci, e.verdict) for e in stored.entries]
    assert any("re-scored in memory" in n for n in rescored.notes)
    assert not RunDir(run).scores_path.exists()  # nothing written
    stale = check_run(target, run, rescore=False)
    assert stale.verdict == NOT_COMPARABLE and "no 95% interval" in stale.reasons[0]


def test_a_matching_complete_run_is_found_and_the_others_passed_over(fakeclue_runs, tmp_path):
    root = tmp_path / "results"
    chosen = copy_run(fakeclue_runs["reproduced"], root)
    copy_run(fakeclue_runs["limit"], root)
    found = find_matching(load_registry().target("fakevlm-fakeclue"), root)
    assert found.run == RunDir(chosen)
    assert [reasons for _, reasons in found.passed_over] == [
        ["subset: the run scored a --limit subset of 500 samples, not the whole test split"]
    ]
    result = invoke("reproduce", "fakevlm-fakeclue", "--results", str(root))
    assert result.exit_code == 0, result.output
    assert f"reusing the matching complete run {chosen}" in result.output and "verdict: reproduced" in result.output


def test_a_setting_the_target_fixes_cannot_be_changed():
    result = invoke("reproduce", "fakevlm-ddvqa", "--model-arg", "prompt=default", "--results", "nowhere")
    assert result.exit_code == 2 and "target 'fakevlm-ddvqa' fixes --model-arg prompt='task'" in result.output


# --------------------------------------------------------------------------- the run path, end to end

ORACLE = '''
from fdrbench.detector import Detector
from fdrbench.types import Prediction


class Oracle(Detector):
    """Reads the truth: right on every sample, so every bootstrap interval is [1, 1]."""

    name = "oracle"
    uses_device = False
    loads_images = True

    def predict(self, batch):
        return [Prediction(sample_id=s.id, label=s.label, cls=s.cls, p_fake=float(s.label)) for s in batch]
'''


def test_reproduce_runs_the_target_through_the_pipeline_then_reuses_the_run(tmp_path, monkeypatch, demo_root):
    plugin = tmp_path / "plugin"
    (plugin / "oracle_pkg" / "published").mkdir(parents=True)
    (plugin / "oracle_pkg" / "__init__.py").write_text(textwrap.dedent(ORACLE), encoding="utf-8")
    (plugin / "oracle_pkg" / "published" / "__init__.py").write_text("", encoding="utf-8")
    paper = PAPER.replace('adapter = "spectral"', 'adapter = "oracle"').replace('printed = "94.00"', 'printed = "100.0"')
    paper += '\n[[targets.entries]]\nid = "toy/t1/real"\ntable = "Table 1"\nrow = "Oracle"\nmetric = "real_accuracy"\nprinted = "99.9"\n'
    (plugin / "oracle_pkg" / "published" / "toy.toml").write_text(paper, encoding="utf-8")
    install_entry_points(
        plugin, monkeypatch, {"fdrbench.adapters": {"oracle": "oracle_pkg:Oracle"}, "fdrbench.published": {"toy": "oracle_pkg.published"}}
    )
    results = tmp_path / "results"
    first = invoke("reproduce", "toy-demo", "--results", str(results), "--device", "cpu", "--no-progress")
    # accuracy 100.0 lies in [1, 1]; 99.9 does not, even widened by 0.0005
    assert first.exit_code == 1, first.output
    (run,) = results.glob("demo/oracle/*")
    assert RunDir(run).manifest().status == "complete" and "reusing" not in first.output
    assert "reproduced" in first.output and "deviates" in first.output
    again = invoke("reproduce", "toy-demo", "--results", str(results), "--json")
    assert again.exit_code == 1
    report = json.loads(again.output)
    assert report["run"] == str(run) and entries(report)["toy/t1/acc"]["ci"] == [1.0, 1.0]


def test_a_broken_run_folder_is_an_error_not_a_verdict(tmp_path):
    (tmp_path / "run").mkdir()
    result = invoke("reproduce", "fakevlm-fakeclue", "--run", str(tmp_path / "run"))
    assert result.exit_code == 2 and "manifest not found" in result.output
    with pytest.raises(FdrbenchError):
        check_run(load_registry().target("fakevlm-fakeclue"), tmp_path / "missing")
