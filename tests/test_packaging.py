"""adapters/ and tasks/ import as fdrbench.adapters / fdrbench.tasks from a wheel and an editable install."""

from __future__ import annotations

import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import fdrbench
import fdrbench.adapters
import fdrbench.tasks

from .conftest import REPO


def test_editable_install_maps_top_level_folders():
    assert Path(fdrbench.adapters.__file__).resolve().parent == REPO / "adapters"
    assert Path(fdrbench.tasks.__file__).resolve().parent == REPO / "tasks"
    assert Path(fdrbench.__file__).resolve().parent == REPO / "fdrbench"


@pytest.mark.slow
def test_built_wheel_contains_and_imports_both(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path / "dist"), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("fdrbench-*.whl")
    # -S: no site processing, so the editable install's import hook is not active; only the
    # wheel and the plain dependency folders are on the path, and the repository is not.
    deps = [p for p in {sysconfig.get_paths()["purelib"], *site.getsitepackages()} if Path(p).is_dir()]
    code = (
        "import fdrbench, fdrbench.adapters.baselines.spectral as s, fdrbench.tasks.demo as d, fdrbench.tasks.mmfr as m;"
        "import fdrbench.leaderboard.index as lb, fdrbench.fingerprints as fp;"
        "print(fdrbench.__file__); print(s.__file__); print(d.__file__); print(m.MMFREval.name); print(lb.__file__);"
        "print(','.join(sorted(fp.committed(d.DemoTask()))))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": ":".join([str(wheel), *deps]), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    assert all(line.startswith(str(wheel)) for line in lines[:3]), lines
    assert lines[3] == "mmfr_eval"
    assert lines[4].startswith(str(wheel)) and lines[5] == "demo"
    with zipfile.ZipFile(wheel) as archive:
        assert {"fdrbench/leaderboard/app.py", "fdrbench/leaderboard/views/explorer.py", "fdrbench/tasks/demo/fingerprints.json"} <= set(
            archive.namelist()
        )
        # the registry of published numbers: its files, and the entry point that hands them to the engine
        names = archive.namelist()
        assert {f"fdrbench/tasks/published/{p}.toml" for p in ("fakevlm", "fakereasoning", "sida", "sofake")} <= set(names)
        (points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        assert "fdrbench = fdrbench.tasks.published" in archive.read(points).decode()
