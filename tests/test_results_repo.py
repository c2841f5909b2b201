"""``fdrbench results init-repo``: the files it writes, and its CI workflow's steps run for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fdrbench import __version__
from fdrbench.bundle import pack, unpack
from fdrbench.leaderboard.index import update_index
from fdrbench.results_repo import WORKFLOW, init_repo

from .helpers.leaderboard_results import leaderboard_results  # noqa: F401 - a fixture
from .hostile.kit import invoke

GIT = shutil.which("git")


def workflow(folder: Path) -> dict:
    data = yaml.safe_load((folder / WORKFLOW).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads a bare `on` as true
    return data


def steps(folder: Path) -> dict[str, dict]:
    return {step.get("name", step.get("uses")): step for step in workflow(folder)["jobs"]["validate"]["steps"]}


def test_init_repo_writes_the_workflow_readme_and_attributes(tmp_path):
    written = init_repo(tmp_path / "repo", name="my benchmark")
    assert sorted(p.relative_to(tmp_path / "repo").as_posix() for p in written.files) == [".gitattributes", str(WORKFLOW), "README.md"]
    assert (tmp_path / "repo" / "results").is_dir()
    assert (tmp_path / "repo" / "README.md").read_text().startswith("# Results of my benchmark\n")
    flow = workflow(tmp_path / "repo")
    assert "pull_request" in flow["on"]
    install = steps(tmp_path / "repo")["Install fdrbench (CPU)"]["run"]
    assert f'"fdrbench[text]=={__version__}"' in install
    assert (
        steps(tmp_path / "repo")["Validate every run, re-score it, check the index"]["run"].strip()
        == "fdrbench validate results --portable"
    )
    (tmp_path / "repo" / "README.md").write_text("mine")
    again = init_repo(tmp_path / "repo")
    assert tmp_path / "repo" / "README.md" in again.skipped and (tmp_path / "repo" / "README.md").read_text() == "mine"
    result = invoke("results", "init-repo", tmp_path / "repo", "--force")
    assert result.exit_code == 0 and f"wrote {tmp_path / 'repo' / 'README.md'}" in result.output


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@localhost", "GIT_COMMITTER_NAME": "ci"}
    env["GIT_COMMITTER_EMAIL"] = "ci@localhost"
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout.strip()


def run_step(repo: Path, script: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """A step's ``run:`` script as the runner executes it (``bash -e``), with this fdrbench on the PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-e", "-c", script], cwd=repo, capture_output=True, text=True, env={**os.environ, "PATH": path, **(env or {})}, timeout=600
    )


@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_the_workflow_validates_a_pull_request_and_refuses_changes_to_published_runs(leaderboard_results, tmp_path):  # noqa: F811
    _, built = leaderboard_results
    repo = tmp_path / "repo"
    init_repo(repo)
    git(repo, "init", "-q", "-b", "main")
    bundle = tmp_path / "first.tar.gz"
    pack([built["spectral"]], bundle)
    unpack(bundle, repo / "results", index=update_index)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first run")
    base = git(repo, "rev-parse", "HEAD")
    check = steps(repo)["Runs already published are not changed"]
    assert "rescore" in check["if"]

    # a pull request that adds a run passes both steps
    git(repo, "checkout", "-q", "-b", "add")
    second = tmp_path / "second.tar.gz"
    pack([built["textonly"]], second)
    unpack(second, repo / "results", index=update_index)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "second run")
    result = run_step(repo, check["run"], {"BASE_SHA": base})
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_step(repo, steps(repo)["Validate every run, re-score it, check the index"]["run"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 of 2 runs valid" in result.stdout

    # one that edits a published run is refused, naming the file
    git(repo, "checkout", "-q", "-b", "edit", "main")
    (edited,) = (repo / "results").glob("demo/spectral/*/scores.json")
    edited.write_text(edited.read_text().replace('"n_boot": 100', '"n_boot": 101'))
    git(repo, "commit", "-qam", "edit a published run")
    result = run_step(repo, check["run"], {"BASE_SHA": base})
    assert result.returncode == 1
    assert "::error::this pull request changes or removes files of runs already published" in result.stdout
    assert edited.relative_to(repo).as_posix() in result.stdout
    result = run_step(repo, steps(repo)["Validate every run, re-score it, check the index"]["run"])
    assert result.returncode == 1 and "FAIL" in result.stdout
