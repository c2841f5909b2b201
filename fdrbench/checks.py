"""The outcome of checking a run folder: problems per check (capped), passes, skips and notes; JSON diffs.

:mod:`fdrbench.validate` runs the checks; this module is what they report into.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

MAX_MESSAGES = 12
#: embedding-based scores (CSS, BERTScore) move by ~1e-8 with the batch a text is encoded in, so a
#: re-score is compared to 1e-6 - far below the 0.1-point precision anything is reported at
_REL_TOL = 1e-6


@dataclass
class Problem:
    check: str
    message: str


@dataclass
class Report:
    """The outcome of validating one run folder."""

    run_dir: Path
    problems: list[Problem] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def reasons(self) -> list[str]:
        return [f"[{p.check}] {p.message}" for p in self.problems]

    def to_dict(self) -> dict:
        return {
            "run_dir": str(self.run_dir),
            "ok": self.ok,
            "passed": self.passed,
            "problems": [{"check": p.check, "message": p.message} for p in self.problems],
            "skipped": self.skipped,
            "notes": self.notes,
        }


class Check:
    """Collects the problems of one check, capped so a broken file does not flood the report."""

    def __init__(self, report: Report, name: str):
        self.report = report
        self.name = name
        self.count = 0

    def fail(self, message: str) -> None:
        self.count += 1
        if self.count <= MAX_MESSAGES:
            self.report.problems.append(Problem(self.name, message))

    def __enter__(self) -> Check:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.count > MAX_MESSAGES:
            self.report.problems.append(Problem(self.name, f"... and {self.count - MAX_MESSAGES} more problems of this kind"))
        if self.count == 0 and exc[0] is None:
            self.report.passed.append(self.name)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def diff_json(stored: object, fresh: object, path: str = "") -> list[str]:
    """Paths where two JSON values differ (floats compared with a relative tolerance of 1e-6)."""
    here = path or "<root>"
    if isinstance(stored, dict) and isinstance(fresh, dict):
        out = []
        for key in sorted(set(stored) | set(fresh), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in fresh:
                out.append(f"{sub}: in scores.json but not produced by scoring")
            elif key not in stored:
                out.append(f"{sub}: missing from scores.json")
            else:
                out.extend(diff_json(stored[key], fresh[key], sub))
        return out
    if isinstance(stored, list) and isinstance(fresh, list):
        if len(stored) != len(fresh):
            return [f"{here}: stored {json.dumps(stored)[:60]}, recomputed {json.dumps(fresh)[:60]}"]
        return [d for i, (a, b) in enumerate(zip(stored, fresh, strict=True)) for d in diff_json(a, b, f"{path}[{i}]")]
    if _is_number(stored) and _is_number(fresh):
        if abs(float(stored) - float(fresh)) <= _REL_TOL * max(1.0, abs(float(fresh))):
            return []
        return [f"{here}: stored {stored!r}, recomputed {fresh!r}"]
    if stored != fresh or type(stored) is not type(fresh):
        return [f"{here}: stored {json.dumps(stored)[:60]}, recomputed {json.dumps(fresh)[:60]}"]
    return []
