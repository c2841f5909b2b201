"""Adding a benchmark is one package and one registry line: the page's package, installed and run by name.

The files of ``toyfakes/``, its entry point and the commands that use it are read from
docs/adding-a-benchmark.md, so the page cannot drift from what works. The package is written
into a folder of its own and registered through a ``*.dist-info`` made here (what ``pip install``
of a package with that entry point writes); nothing in fdrbench is edited. Then every command
of the page runs on it by its registered name: ``data prepare`` (its own step), ``data check``,
recording its official fingerprint into the package, ``train``, ``run``, ``score``, ``validate``.
"""

from __future__ import annotations

import json
import re
import sys

import pytest
from typer.testing import CliRunner

from fdrbench import fingerprints
from fdrbench.cli import app
from fdrbench.record import Truth
from fdrbench.types import Prediction

from .conftest import HELPERS, REPO
from .helpers.doc_blocks import blocks, commands
from .helpers.plugins import install_entry_points
from .test_readme import sandbox_argv

PAGE = REPO / "docs" / "adding-a-benchmark.md"
PACKAGE = "toyfakes"


def page_package() -> dict[str, str]:
    """File name -> text of the package files the page shows."""
    return {b.file_name: b.text for b in blocks(PAGE) if b.file_name and b.file_name.startswith(f"{PACKAGE}/")}


def page_entry_points() -> dict[str, dict[str, str]]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    (block,) = [b for b in blocks(PAGE) if b.lang == "toml"]
    return tomllib.loads(block.text)["project"]["entry-points"]


def page_commands() -> list:
    (block,) = [b for b in blocks(PAGE) if b.marker == "syntax-only" and "test_adding_a_benchmark" in b.marker_arg]
    return commands(block)


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The page's package in ``tmp_path/site``, registered by its entry point; cwd a fresh folder."""
    site = tmp_path / "site"
    for name, text in page_package().items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, encoding="utf-8")
    install_entry_points(site, monkeypatch, page_entry_points(), dist="toyfakes")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield site
    for module in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[module]


def test_the_page_shows_every_part_of_a_benchmark_package():
    files = set(page_package())
    parts = {"__init__.py", "loader.py", "task.py", "paper.py", "prepare.py", "miniature.py"}
    assert files == {f"{PACKAGE}/{part}" for part in parts}
    assert page_entry_points() == {"fdrbench.tasks": {"toyfakes": "toyfakes:ToyFakes"}}


def test_a_benchmark_package_and_one_entry_point_work_by_name(installed, tmp_path):
    from toyfakes import miniature

    download = miniature.build(tmp_path / "download")
    listed = CliRunner().invoke(app, ["list", "tasks"])
    assert "toyfakes" in listed.output and "ToyFakes: noise images" in listed.output

    outputs = []
    for cmd in page_commands():
        words = [re.sub(r"\bDOWNLOAD\b", str(download), w) for w in cmd.words]
        if words[:3] == ["python", "-m", "fdrbench.fingerprints"]:
            fingerprints.main(words[3:])
            continue
        cmd.words = words
        result = CliRunner().invoke(app, sandbox_argv(cmd, installed.parent / "work"))
        assert result.exit_code == 0, f"`{cmd.text}` -> {result.exit_code}\n{result.output}\n{result.exception!r}"
        outputs.append(result.output)

    prepared, checked, *_, validated = outputs
    assert json.loads(prepared) == {"members": 12, "out": "toydata"}
    assert "split test: ok" in checked and "12 samples: 6 real, 6 fake" in checked and "missing images 0" in checked
    # the fingerprint was recorded into the package itself, and validate checked the run against it
    recorded = json.loads((installed / PACKAGE / "fingerprints.json").read_text())
    from toyfakes import ToyFakes

    assert recorded == {
        "toyfakes": {"1": {"test": fingerprints.compute(ToyFakes(), installed.parent / "work" / "toydata", "test", None, 0)}}
    }
    assert "official fingerprints (toyfakes v1, split test)" in validated

    (run_dir,) = (installed.parent / "work" / "results" / "toyfakes" / "spectral").iterdir()
    scores = json.loads((run_dir / "scores.json").read_text())
    assert set(scores["protocols"]) == {"strict", "paper"}
    strict, paper = scores["protocols"]["strict"], scores["protocols"]["paper"]
    assert strict["n"] == paper["n"] == 12 and set(strict["groups"]["generator"]) == {"blur", "upsample"}
    assert "AVG" in strict["aggregates"]
    # the baseline's answers open with "This image is ...", so the paper's rule reads every one of them
    assert paper["overall"]["failure_rate"]["value"] == 0
    assert paper["overall"]["accuracy"]["value"] == strict["overall"]["accuracy"]["value"]
    lines = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    truths = {line["sample_id"]: line["truth"]["label"] for line in lines}
    assert truths["blur_0_real.png"] == 0 and truths["blur_0_fake.png"] == 1  # is_real = 1 became label 0


def test_the_packages_own_rules_apply(installed):
    from toyfakes import ToyFakes

    task = ToyFakes()
    assert task.parse_answer("This image is fake: the edges are soft.", None) == 1
    assert task.parse_answer("I think this image is real.", None) is None
    reparse = task.protocols()["paper"].reparse
    truth = Truth(label=0)
    stated = reparse(Prediction(sample_id="x", label=1, raw_output="This image is real."), truth)
    assert (stated.label, stated.parse_ok) == (0, True)
    unparsed = reparse(Prediction(sample_id="x", label=1, raw_output="Real, I would say."), truth)
    assert (unparsed.label, unparsed.parse_ok) == (None, False)
    assert ToyFakes.fingerprints_file() is not None and str(ToyFakes.fingerprints_file()).startswith(str(installed / PACKAGE))


def test_a_bad_record_of_the_package_is_a_one_line_error(installed, tmp_path):
    from toyfakes import miniature

    download = miniature.build(tmp_path / "download")
    data = tmp_path / "data"
    runner = CliRunner()
    args = ["data", "prepare", "toyfakes", "--arg", f"archive={download / 'images.tar'}", "--arg", f"labels={download / 'labels.csv'}"]
    assert runner.invoke(app, [*args, "--arg", f"out={data}"]).exit_code == 0
    labels = (data / "labels.csv").read_text().splitlines()
    labels[3] = labels[3].replace(",1,", ",yes,")
    (data / "labels.csv").write_text("\n".join(labels) + "\n")
    model = f"{HELPERS / 'toy_adapters.py'}:HashDetector"
    result = runner.invoke(
        app, ["run", "--model", model, "--task", "toyfakes", "--data-dir", str(data), "--out", str(tmp_path / "r"), "--no-progress"]
    )
    assert result.exit_code == 2
    assert (
        "labels.csv" in result.output and "line 4" in result.output and "expected is_real 1 (real) or 0 (fake), got 'yes'" in result.output
    )
