"""Hosting: the Dockerfile (parsed; its sources exist; its command serves locally) and the Space's entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from .conftest import REPO
from .helpers.leaderboard_results import leaderboard_results  # noqa: F401 - a fixture
from .test_leaderboard_browser import serving

DOCKERFILE = REPO / "Dockerfile"
SPACE = REPO / "deploy" / "space"
INSTRUCTIONS = {"FROM", "WORKDIR", "COPY", "RUN", "USER", "ENV", "EXPOSE", "HEALTHCHECK", "CMD", "ARG", "LABEL"}


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    out, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            word, _, rest = pending.strip().partition(" ")
            out.append((word, rest.strip()))
            pending = ""
    assert not pending, "the Dockerfile ends in a continuation line"
    return out


def test_dockerfile_parses_and_copies_only_what_exists():
    found = instructions()
    assert found[0][0] == "FROM" and "slim" in found[0][1]
    assert {word for word, _ in found} <= INSTRUCTIONS
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip()}
    for word, args in found:
        if word == "COPY":
            *sources, _ = args.split()
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: not in the build context"
                assert source not in ignored
    assert ("USER", "viewer") in found  # the server does not run as root
    assert any(word == "RUN" and "a-w /results" in args for word, args in found)  # the baked results are read-only
    assert any(word == "RUN" and '".[leaderboard]"' in args for word, args in found)


def cmd() -> list[str]:
    return json.loads(next(args for word, args in instructions() if word == "CMD"))


@pytest.mark.slow
def test_the_command_the_image_runs_serves_the_app(leaderboard_results, tmp_path):  # noqa: F811
    root, _ = leaderboard_results
    command = cmd()
    assert command[:2] == ["fdrbench", "leaderboard"]

    def here(port: int) -> list[str]:  # the image's paths and address, as they are on this machine
        swap = {"/results": str(root), "0.0.0.0": "127.0.0.1", "8501": str(port)}
        return [swap.get(a, a) for a in command[1:]]

    with serving(root, tmp_path, here) as url, urllib.request.urlopen(f"{url}/", timeout=5) as response:
        assert response.status == 200 and b"<html" in response.read().lower()


def front_matter() -> dict[str, str]:
    text = (SPACE / "README.md").read_text()
    assert text.startswith("---\n")
    block = text.split("---\n", 2)[1]
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in block.splitlines() if line.strip())}


def test_space_configuration_names_an_entry_point_that_exists():
    meta = front_matter()
    assert meta["sdk"] == "streamlit" and (SPACE / meta["app_file"]).is_file()
    assert "fdrbench[leaderboard]" in (SPACE / "requirements.txt").read_text().split()


def test_space_entry_point_serves_the_leaderboard_in_apptest(monkeypatch, leaderboard_results):  # noqa: F811
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from fdrbench.leaderboard.launch import RESULTS_ENV

    root, _ = leaderboard_results
    monkeypatch.setenv(RESULTS_ENV, str(root))
    app = AppTest.from_file(str(SPACE / "app.py"), default_timeout=60)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.header[0].value == "Leaderboard overview"
    assert app.sidebar.caption[0].value == "5 runs on 1 benchmarks"


def test_space_refuses_a_revision_that_is_not_a_commit(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FDRBENCH_RESULTS")}
    env.update(FDRBENCH_RESULTS_DATASET="org/results", FDRBENCH_RESULTS_REVISION="main")
    done = subprocess.run([sys.executable, str(SPACE / "app.py")], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 1 and "40-character commit hash" in done.stderr
