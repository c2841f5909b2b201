"""Register entry points the way an installed plugin package does: a ``*.dist-info`` folder on ``sys.path``."""

from __future__ import annotations

from pathlib import Path

import pytest


def install_entry_points(
    root: Path, monkeypatch: pytest.MonkeyPatch, points: dict[str, dict[str, str]], dist: str = "fdrbench-test-plugin"
) -> Path:
    """Write ``<root>/<dist>-0.1.dist-info`` with ``points`` (group -> {name: target}) and put ``root`` on the path."""
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8")
    lines = []
    for group, entries in points.items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {target}" for name, target in entries.items())
        lines.append("")
    (info / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    return info
