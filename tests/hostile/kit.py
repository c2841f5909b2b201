"""What every hostile-input test needs: the CLI, snapshots of the tree around a folder, small runs.

Each test builds its hostile files itself, runs fdrbench through the command line (typer's
CliRunner) or a public function, and checks the promise of its class: a one-line error (or a
per-sample error), the exit code, nothing changed outside the folder under attack, and nothing
already computed lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from typer.testing import CliRunner

from fdrbench.cli import app

from ..conftest import HELPERS

HOSTILE_HELPERS = Path(__file__).resolve().parent / "detectors.py"
HASH = f"{HELPERS / 'toy_adapters.py'}:HashDetector"
runner = CliRunner()


def invoke(*args: object):
    """``fdrbench ARGS`` in-process; exceptions are caught so a traceback shows up as a failure."""
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, code: int = 2, *needles: str) -> str:
    """Assert ``result`` failed with exit ``code`` and one ``error:`` line (an optional hint line may
    follow) that names every needle, and no traceback; returns that line."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    others = [line for line in result.output.splitlines() if line.strip() and not line.startswith(("error:", "  hint:"))]
    assert not others, result.output
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def snapshot(root: Path, skip: Iterable[Path] = ()) -> dict[str, tuple]:
    """Every entry under ``root`` except the ``skip`` folders, without following links: kind and content."""
    root = Path(root)
    skipped = {Path(p) for p in skip}
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d not in skipped]
        for name in [*dirnames, *filenames]:
            path = here / name
            if path in skipped:
                continue
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                entry: tuple = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                entry = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                entry = ("folder",)
            out[path.relative_to(root).as_posix()] = entry
    return out


def run_demo(out: Path, *extra: object, model: str = HASH, limit: int = 12, batch: int = 4, n_boot: int = 20):
    """``fdrbench run`` of ``model`` on a seeded subset of the demo, any number of failed samples
    allowed; returns the CLI result."""
    common = ("--limit", limit, "-b", batch, "--out", out, "--no-progress", "--n-boot", n_boot, "--max-failures", "none")
    return invoke("run", "-m", model, "-t", "demo", *common, *extra)


def run_folder(out: Path) -> Path:
    """The one run folder under a results root."""
    (run_dir,) = [p.parent for p in Path(out).glob("*/*/*/manifest.json")]
    return run_dir


def demo_run(out: Path, *extra: object, model: str = HASH, limit: int = 12) -> Path:
    """A small complete run on the demo benchmark through the CLI; returns its folder."""
    result = run_demo(out, *extra, model=model, limit=limit)
    assert result.exit_code == 0, result.output
    return run_folder(out)


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def edit_json(path: Path, edit) -> None:
    """Rewrite a JSON file as a stranger would (as is: fdrbench's own writers blank secrets)."""
    obj = json.loads(path.read_text(encoding="utf-8"))
    edit(obj)
    path.write_text(json.dumps(obj, indent=1), encoding="utf-8")
