"""``fdrbench leaderboard``: what it starts, where it binds, and the committed results it serves."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from fdrbench.cli import app
from fdrbench.leaderboard.index import INDEX_NAME, index_problems, read_index
from fdrbench.leaderboard.launch import APP, DATA_DIRS_ENV, RESULTS_ENV, STREAMLIT_MAIN
from fdrbench.validate import find_runs, validate_run

from .conftest import REPO


@pytest.fixture
def exec_calls(monkeypatch):
    calls = []
    monkeypatch.setattr(os, "execve", lambda path, argv, env: calls.append((path, argv, env)))
    return calls


def test_serves_the_app_on_localhost_by_default(exec_calls, tmp_path):
    result = CliRunner().invoke(app, ["leaderboard", "--results", str(tmp_path), "--port", "8765", "--data-dir", "demo=/data/demo"])
    assert result.exit_code == 0, result.output
    ((path, argv, env),) = exec_calls
    assert path == sys.executable
    assert argv[1:4] == [str(STREAMLIT_MAIN), "run", str(APP)]
    options = dict(zip(argv[4::2], argv[5::2], strict=True))
    assert options["--server.address"] == "127.0.0.1"
    assert options["--server.port"] == "8765"
    assert options["--browser.gatherUsageStats"] == "false"
    assert env[RESULTS_ENV] == str(tmp_path.resolve())
    assert json.loads(env[DATA_DIRS_ENV]) == {"demo": "/data/demo"}


def test_address_can_be_opened_on_request(exec_calls, tmp_path):
    CliRunner().invoke(app, ["leaderboard", "--results", str(tmp_path), "--address", "0.0.0.0"])
    argv = exec_calls[0][1]
    assert argv[argv.index("--server.address") + 1] == "0.0.0.0"


def test_bad_arguments_are_clear_errors(exec_calls, tmp_path):
    missing = CliRunner().invoke(app, ["leaderboard", "--results", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "results folder" in missing.output and "not found" in missing.output
    bad = CliRunner().invoke(app, ["leaderboard", "--results", str(tmp_path), "--data-dir", "demo"])
    assert bad.exit_code == 2 and "--data-dir takes TASK=PATH, got 'demo'" in bad.output
    assert exec_calls == []


def test_rebuild_index(tmp_path):
    result = CliRunner().invoke(app, ["leaderboard", "--results", str(tmp_path), "--rebuild-index"])
    assert result.exit_code == 0, result.output
    assert read_index(tmp_path) == {"schema": 1, "runs": [], "unreadable": [], "pairs": []}
    assert (tmp_path / INDEX_NAME).is_file()


def test_cli_help_does_not_import_the_app_libraries():
    code = "import sys, fdrbench.cli; print(sorted(m for m in ('streamlit', 'pandas', 'plotly') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_committed_results_are_valid_and_indexed():
    """The CI check of results/: every run validates, publishable, and the index is current."""
    runs = [run.path for run in find_runs(REPO / "results")]
    assert len(runs) >= 2
    for run_dir in runs:
        report = validate_run(run_dir, portable=True)
        assert report.ok, report.reasons()
    assert index_problems(REPO / "results") == []


def test_docs_leaderboard_and_submission_commands_exist():
    part = (REPO / "docs" / "leaderboard.md").read_text(encoding="utf-8")
    commands = set(re.findall(r"`fdrbench (\w+)", part)) | set(re.findall(r"^fdrbench (\w+)", part, re.M))
    assert {"leaderboard", "validate", "submit", "run", "score", "train"} <= commands
    for command in commands:
        result = CliRunner().invoke(app, [command, "--help"])
        assert result.exit_code == 0, (command, result.output)
