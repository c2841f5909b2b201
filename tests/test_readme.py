"""The README's promises: its adapter example runs as shown, and its commands exist."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from fdrbench.cli import app

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_adapter_example_runs_as_documented(demo_root, tmp_path):
    block = README.split("`my_detector.py`:", 1)[1]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)
    (tmp_path / "my_detector.py").write_text(code)
    command = re.search(r"fdrbench run --model my_detector.py:BrightnessDetector[^\n]*", block).group(0).split()[1:]
    command = [arg.replace("my_detector.py", str(tmp_path / "my_detector.py")) for arg in command]
    result = CliRunner().invoke(app, [*command, "--limit", "20", "--out", str(tmp_path / "out"), "--no-progress", "--n-boot", "50"])
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "out" / "demo" / "brightness").iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["adapter"]["describe"] == {"name": "brightness", "threshold": 0.4}


def test_readme_commands_are_make_targets():
    makefile = (REPO / "Makefile").read_text()
    for target in re.findall(r"^make (\w+)", README, re.M):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "make test" in (REPO / ".ci" / "run").read_text()
