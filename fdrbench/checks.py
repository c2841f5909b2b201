"""The outcome of checking a run folder or a robustness file: problems per check (capped), passes, skips and
notes; JSON diffs; the printed outcome.

:mod:`fdrbench.validate` and :mod:`fdrbench.validate_robustness` run the checks; this module is what they
report into.
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


def diff_json(stored: object, fresh: object, path: str = "", file: str = "scores.json", maker: str = "scoring") -> list[str]:
    """Paths where two JSON values differ (floats compared with a relative tolerance of 1e-6);
    ``file`` and ``maker`` name the stored file and what recomputed it, in the messages."""
    here = path or "<root>"
    if isinstance(stored, dict) and isinstance(fresh, dict):
        out = []
        for key in sorted(set(stored) | set(fresh), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in fresh:
                out.append(f"{sub}: in {file} but not produced by {maker}")
            elif key not in stored:
                out.append(f"{sub}: missing from {file}")
            else:
                out.extend(diff_json(stored[key], fresh[key], sub, file, maker))
        return out
    if isinstance(stored, list) and isinstance(fresh, list):
        if len(stored) != len(fresh):
            return [f"{here}: stored {json.dumps(stored)[:60]}, recomputed {json.dumps(fresh)[:60]}"]
        return [d for i, (a, b) in enumerate(zip(stored, fresh, strict=True)) for d in diff_json(a, b, f"{path}[{i}]", file, maker)]
    if _is_number(stored) and _is_number(fresh):
        if abs(float(stored) - float(fresh)) <= _REL_TOL * max(1.0, abs(float(fresh))):
            return []
        return [f"{here}: stored {stored!r}, recomputed {fresh!r}"]
    if stored != fresh or type(stored) is not type(fresh):
        return [f"{here}: stored {json.dumps(stored)[:60]}, recomputed {json.dumps(fresh)[:60]}"]
    return []


def print_reports(reports: list[Report], root_problems: list[str], echo=print) -> bool:
    """Human-readable outcome; returns True when everything passed."""
    for report in reports:
        echo(f"{'OK  ' if report.ok else 'FAIL'} {report.run_dir}")
        for name in report.passed:
            echo(f"  ok      {name}")
        for name, why in report.skipped.items():
            echo(f"  skipped {name}: {why}")
        for reason in report.reasons():
            echo(f"  error   {reason}")
        for note in report.notes:
            echo(f"  note    {note}")
    for problem in root_problems:
        echo(f"FAIL index: {problem}")
    ok = all(r.ok for r in reports) and not root_problems
    files = [r for r in reports if r.run_dir.suffix == ".json"]  # robustness files; the rest are run folders
    runs = [r for r in reports if r not in files]
    if len(reports) > 1:
        echo(f"{sum(r.ok for r in runs)} of {len(runs)} runs valid")
    if files:
        echo(f"{sum(r.ok for r in files)} of {len(files)} robustness files valid")
    return ok
