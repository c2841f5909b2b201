"""Results folders for the leaderboard, validate and submit tests, made by the real pipeline.

``build_results`` runs small detectors on the demo benchmark (the spectral baseline, and the
deterministic toy adapters of ``toy_adapters.py``), then adds the cases the pages must handle:
a run on a subset (another data fingerprint), an incomplete run, hostile explanation text and
an image reference that tries to leave the data folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fdrbench.store import MANIFEST, PREDICTIONS, SCORES, read_json, write_json_atomic

HELPERS = Path(__file__).resolve().parent
TOYS = HELPERS / "toy_adapters.py"
HOSTILE = "<script>alert(1)</script> ![pixel](http://example.invalid/p.png) **bold** :red[red] $x^2$"
N_BOOT = 100


def run_toy(out: Path, model: str, name: str | None = None, limit: int | None = None, n_boot: int = N_BOOT) -> Path:
    """Run an adapter on the demo through the pipeline; returns the run folder."""
    from fdrbench.pipeline import RunConfig, run

    target = model if model == "spectral" else f"{TOYS}:{model}"
    config = RunConfig(model=target, task="demo", out=out, name=name, limit=limit, n_boot=n_boot, show_progress=False, device="cpu")
    return run(config).run_dir


def rewrite_predictions(run_dir: Path, edit) -> None:
    """Apply ``edit(record) -> record`` to every line of a run's predictions."""
    path = run_dir / PREDICTIONS
    records = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(edit(r)) + "\n" for r in records))


def build_results(root: Path) -> dict[str, Path]:
    """The leaderboard fixture: four detectors on the full test split and the special cases."""
    from fdrbench.leaderboard.index import update_index

    runs = {
        "spectral": run_toy(root, "spectral"),
        "hashdet": run_toy(root, "HashDetector"),
        "textonly": run_toy(root, "TextOnlyDetector"),
        "subset": run_toy(root, "HashDetector", name="hashdet-subset", limit=60),
    }

    def hostile(record: dict) -> dict:
        if record["sample_id"].endswith("_0000.png"):
            record["explanation"] = HOSTILE
        if record["sample_id"] == "gan/1_fake/gan_fake_0001.png":
            record["truth"]["image"] = "../../../../etc/passwd"
        return record

    rewrite_predictions(runs["hashdet"], hostile)
    incomplete = root / "demo" / "halfway" / "test-all-s0-00000000"
    shutil.copytree(runs["hashdet"], incomplete)
    manifest = read_json(incomplete / MANIFEST)
    manifest.update(model="halfway", run_id=incomplete.name, status="running")
    write_json_atomic(incomplete / MANIFEST, manifest)
    scores = read_json(incomplete / SCORES)
    scores.update(model="halfway", run_id=incomplete.name, partial=True)
    write_json_atomic(incomplete / SCORES, scores)
    runs["incomplete"] = incomplete
    update_index(root)
    return runs


@pytest.fixture(scope="session")
def leaderboard_results(tmp_path_factory: pytest.TempPathFactory, demo_root: Path, spectral_weights: Path) -> tuple[Path, dict[str, Path]]:
    """(results root, run folders by name), built once per session; tests must not modify it."""
    root = tmp_path_factory.mktemp("leaderboard") / "results"
    return root, build_results(root)
