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


#: a condition name that is markup, given to the sweep's first perturbed condition by :func:`make_hostile`
HOSTILE_CONDITION = "<b>x</b>"


def make_hostile(path: Path, description: str) -> None:
    """Rewrite the robustness file at ``path`` as a stranger might: ``description`` and the first
    perturbed condition's name (``jpeg90``, in every table that holds it) replaced by markup."""
    import json

    data = json.loads(path.read_text())
    data["description"] = description
    data["runs"][1]["condition"] = HOSTILE_CONDITION
    for block in data["protocols"].values():
        for entry in block["metrics"].values():
            entry["conditions"][HOSTILE_CONDITION] = entry["conditions"].pop("jpeg90")
        block["stability"][HOSTILE_CONDITION] = block["stability"].pop("jpeg90")
    path.write_text(json.dumps(data))
