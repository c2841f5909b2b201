"""A robustness sweep of the spectral baseline on a demo subset, made by the real command (``fdrbench robustness``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ..conftest import run_cli

PRESET = "openfake_jpeg"
LIMIT = 12
N_BOOT = 50


def sweep_command(out: Path, *extra: str) -> list[str]:
    return [
        "robustness",
        "--model",
        "spectral",
        "--task",
        "demo",
        "--preset",
        PRESET,
        "--limit",
        str(LIMIT),
        "--n-boot",
        str(N_BOOT),
        "--out",
        str(out),
        "--no-progress",
        *extra,
    ]


@pytest.fixture(scope="session")
def robustness_sweep(
    tmp_path_factory: pytest.TempPathFactory, demo_root: Path, spectral_weights: Path
) -> tuple[Path, subprocess.CompletedProcess]:
    """(results root, the command's outcome), made once per session; tests must not modify it."""
    root = tmp_path_factory.mktemp("robustness") / "results"
    done = run_cli(*sweep_command(root))
    assert done.returncode == 0, done.stderr[-3000:]
    return root, done
