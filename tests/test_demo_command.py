"""``fdrbench demo``: offline, builds what it needs, writes a complete run and prints the table."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from fdrbench.adapters.baselines.spectral import default_weights
from fdrbench.cli import app


def test_demo_end_to_end(demo_root, tmp_path):
    weights = default_weights("demo")
    if weights.exists():
        weights.unlink()  # the demo fits the baseline itself when no fitted weights exist
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--no-progress", "--n-boot", "200"])
    assert result.exit_code == 0, result.output
    assert "spectral on demo" in result.output and "generator=tampered" in result.output
    assert weights.is_file()
    (run_dir,) = list((tmp_path / "demo" / "spectral").iterdir())
    scores = json.loads((run_dir / "scores.json").read_text())
    overall = scores["protocols"]["strict"]["overall"]
    assert overall["accuracy"]["value"] > 0.75
    assert overall["ap"]["value"] > 0.85
    assert overall["failure_rate"]["value"] == 0.0
    assert set(scores["protocols"]["strict"]["aggregates"]) == {"synthetic", "AVG"}
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["adapter"]["describe"]["trained_on"]["split"] == "train"
    assert manifest["prompt"] is None, "the spectral baseline reads no prompt"
    assert manifest["config"]["model_identity"]["weights_sha256"] == manifest["adapter"]["describe"]["weights_sha256"]
