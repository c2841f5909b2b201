"""Is a run folder fit to publish? No absolute local path or secret, no per-rank or stray files.

``fdrbench validate --portable`` (the check CI runs on ``results/``) reports each finding;
``fdrbench submit`` writes a copy that has none (:mod:`fdrbench.sanitise`). The files are
scanned as JSON text, whatever their shape, so a finding is reported even in a file that
fails the contract or in a field the contract does not know.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from fdrbench import sanitise
from fdrbench.store import MANIFEST, PREDICTIONS, SCORES

RUN_FILES = frozenset({MANIFEST, PREDICTIONS, SCORES})


def check_portable(run_dir: Path) -> Iterator[str]:
    """Every reason ``run_dir`` is not fit to commit (nothing when it is)."""
    for path in sorted(run_dir.iterdir()):
        if path.name not in RUN_FILES:
            yield f"{path.name}: unexpected file in a published run folder (only {', '.join(sorted(RUN_FILES))})"
    for name in (MANIFEST, SCORES):
        path = run_dir / name
        if path.is_file():
            try:
                obj = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            for found in sanitise.value_findings(obj):
                yield f"{name}: {found} (run `fdrbench submit`, which rewrites it)"
    path = run_dir / PREDICTIONS
    if not path.is_file():
        return
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        try:
            record = json.loads(raw) if raw.strip() else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if not isinstance(record, dict):
            continue
        truth = record.get("truth") if isinstance(record.get("truth"), dict) else {}
        fields = {"error": record.get("error"), "truth.image": truth.get("image"), "extra": record.get("extra")}
        for found in sanitise.value_findings(fields):
            yield f"{PREDICTIONS} line {number}: {found} (run `fdrbench submit`, which rewrites it)"
        for token in sanitise.SECRET_RE.finditer(raw.decode("utf-8", "replace")):
            yield f"{PREDICTIONS} line {number}: a secret-like token {token.group(0)[:6]}..."
