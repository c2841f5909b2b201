"""Class 1: a results folder never makes fdrbench import or call anything it names.

The stored manifest names its task; every reader (score, compare, judge, validate, the index
behind the leaderboard) re-creates it by registered name only and checks its options.
"""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import pytest

from fdrbench.errors import ResultsError
from fdrbench.run_task import task_for_run

from ..helpers.plugins import install_entry_points
from .kit import HASH, demo_run, edit_json, invoke, one_line_error, snapshot


def stored(task: str, options: dict) -> SimpleNamespace:
    """The parts of a stored manifest the task is re-created from."""
    return SimpleNamespace(task=task, task_info=SimpleNamespace(options=options, target=None, registered=None))


EVIL = """
from pathlib import Path
Path({marker!r}).write_text("imported")


class Evil:
    def __init__(self, **options):
        Path({marker!r}).write_text("called")
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return demo_run(tmp_path_factory.mktemp("made") / "results")


def plant(made, tmp_path, how):
    """A copy of a real run whose manifest names code of the attacker's; returns (run folder, marker)."""
    root = tmp_path / "results"
    run_dir = root / "demo" / made.parent.name / made.name
    shutil.copytree(made, run_dir)
    marker = tmp_path / "pwned"
    (run_dir / "evil.py").write_text(EVIL.format(marker=str(marker)))
    evil = f"{run_dir / 'evil.py'}:Evil"

    def edit(manifest):
        info = manifest["task_info"]
        if how == "task_is_a_file":
            manifest["task"] = evil
        elif how == "unknown_task_with_file_target":
            manifest["task"], info["target"], info["registered"] = "ghost", evil, False
        elif how == "task_is_a_callable":
            manifest["task"], info["options"] = "subprocess:run", {"args": ["touch", str(marker)]}
        elif how == "target_is_a_callable":
            info["target"] = "subprocess:run"
        elif how == "undeclared_options":
            info["options"] = {"args": ["touch", str(marker)]}

    edit_json(run_dir / "manifest.json", edit)
    return run_dir, marker


HOW = ["task_is_a_file", "unknown_task_with_file_target", "task_is_a_callable", "target_is_a_callable", "undeclared_options"]


@pytest.mark.parametrize("how", HOW)
def test_no_reader_imports_or_calls_what_a_run_names(made, tmp_path, how):
    run_dir, marker = plant(made, tmp_path, how)
    other = tmp_path / "other" / "demo" / "hashdet" / "copy"
    shutil.copytree(made, other)
    before = snapshot(tmp_path, skip=[tmp_path / "results"])
    predictions = (run_dir / "predictions.jsonl").read_bytes()

    one_line_error(invoke("score", run_dir), 2, str(run_dir))
    one_line_error(invoke("compare", run_dir, other), 2, str(run_dir))
    one_line_error(invoke("judge", run_dir, "--judge-model", "j", "--base-url", "http://127.0.0.1:9/v1", "--no-progress"), 2, str(run_dir))
    validated = invoke("validate", run_dir)
    assert validated.exit_code == 1 and "Traceback" not in validated.output
    assert "error   [task]" in validated.output or "error   [manifest]" in validated.output, validated.output
    rebuilt = invoke("leaderboard", "--results", tmp_path / "results", "--rebuild-index")
    assert rebuilt.exit_code == 0, rebuilt.output

    assert not marker.exists(), "code named by a results file was run"
    assert snapshot(tmp_path, skip=[tmp_path / "results"]) == before
    assert (run_dir / "predictions.jsonl").read_bytes() == predictions, "nothing computed was lost"


def test_a_task_given_by_path_is_marked_and_rescores_only_once_registered(demo_root, tmp_path, monkeypatch):
    task_file = tmp_path / "mine.py"
    task_file.write_text("from fdrbench.tasks.demo import DemoTask\n\n\nclass Mine(DemoTask):\n    name = 'mine'\n")
    out = tmp_path / "results"
    result = invoke(
        "run", "-m", HASH, "-t", f"{task_file}:Mine", "--data-dir", demo_root, "--limit", 6, "--out", out, "--no-progress", "--n-boot", 0
    )
    assert result.exit_code == 0, result.output
    (run_dir,) = [p.parent for p in out.glob("*/*/*/manifest.json")]
    assert json.loads((run_dir / "manifest.json").read_text())["task_info"]["registered"] is False
    one_line_error(invoke("score", run_dir), 2, "is not registered", "entry point", "'fdrbench.tasks'", "'mine'")
    install_entry_points(tmp_path / "site", monkeypatch, {"fdrbench.tasks": {"mine": "mine:Mine"}})
    monkeypatch.syspath_prepend(str(tmp_path))
    assert invoke("score", run_dir).exit_code == 0


def test_options_are_checked_against_the_declared_ones():
    with pytest.raises(ResultsError, match="declares no option"):
        task_for_run(stored("demo", {"cmd": "id"}), "run")
    with pytest.raises(ResultsError, match="must be a plain value"):
        task_for_run(stored("ddvqa", {"questions": {"__class__": "x"}}), "run")
    with pytest.raises(ResultsError, match="refuses the stored options"):
        task_for_run(stored("ddvqa", {"skip_missing": "perhaps"}), "run")
    # an option naming something on this machine (a model folder, a Hub dataset) is never taken from a stored run
    task = task_for_run(stored("mmfr_eval", {"clip_path": "/elsewhere/clip", "unannotated": "include"}), "run")
    assert task.option("clip_path") is None and task.option("unannotated") == "include"
    task = task_for_run(stored("sidset", {"hub": "attacker/data", "revision": "main"}), "run")
    assert task.hub_id() is None


def test_serving_from_inside_a_results_folder_imports_nothing_lying_there(tmp_path):
    """``fdrbench leaderboard`` started with a stranger's folder as the working directory: modules
    named like the app's own imports lie there, and none is imported (``python -m streamlit`` would)."""
    import subprocess
    import sys

    pytest.importorskip("streamlit")
    from fdrbench.leaderboard.launch import streamlit_command

    folder, marker = tmp_path / "results", tmp_path / "imported"
    folder.mkdir()
    for name in ("streamlit", "pandas", "plotly", "click", "fdrbench"):
        (folder / f"{name}.py").write_text(f"from pathlib import Path\nPath({str(marker)!r}).write_text({name!r})\n")
    python, entry = streamlit_command(8501, "127.0.0.1")[:2]
    done = subprocess.run([python, entry, "version"], cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("Streamlit, version") and not marker.exists()
    control = subprocess.run([sys.executable, "-m", "streamlit", "version"], cwd=folder, capture_output=True, text=True, timeout=120)
    assert marker.read_text() == "streamlit", control.stdout  # the hole this closes
