"""Shared fixtures: an isolated cache per session, the demo data built once, run helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers.published_runs import fakeclue_runs  # noqa: F401 - a session fixture: one set of runs for every module

REPO = Path(__file__).resolve().parent.parent
HELPERS = Path(__file__).resolve().parent / "helpers"


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test writes caches, demo data and weights under a temporary folder, never ~/.cache."""
    root = tmp_path_factory.mktemp("fdrbench-cache")
    old = {k: os.environ.get(k) for k in ("FDRBENCH_CACHE", "FDRBENCH_DATA")}
    os.environ["FDRBENCH_CACHE"] = str(root)
    os.environ.pop("FDRBENCH_DATA", None)
    yield root
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def demo_root(isolated_cache: Path) -> Path:
    """The demo benchmark, built once per session where the demo task looks for it."""
    from fdrbench.tasks.demo import DemoTask, synth

    root = DemoTask().default_data_dir()
    synth.build(root, show_progress=False)
    return root


@pytest.fixture(scope="session")
def spectral_weights(demo_root: Path) -> Path:
    """Spectral baseline fitted on the demo training split, at its default location."""
    from fdrbench.adapters.baselines.spectral import SpectralDetector, default_weights
    from fdrbench.detector import TrainContext
    from fdrbench.tasks.demo import DemoTask

    out = default_weights("demo")
    SpectralDetector.train(TrainContext(task=DemoTask(), data_dir=demo_root, split="train", out=out, show_progress=False))
    return out


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m fdrbench ARGS`` in a subprocess with this session's cache."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "fdrbench", *args], capture_output=True, text=True, env=full_env, cwd=cwd or REPO, timeout=timeout
    )
