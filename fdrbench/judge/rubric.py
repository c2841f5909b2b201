"""Versioned rubrics: loading, hashing, and validating what a judge answers.

A rubric is a JSON file (shipped ones live in ``rubrics/<name>.v<version>.json``) naming its
criteria, each scored on the same integer scale, the instructions and the answer format. Its
SHA-256 (of the file's bytes) goes into the manifest and into every cache key, so an edited
rubric never mixes with judgements made under another text.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fdrbench.errors import FdrbenchError

ALIASES = {"ref": "reference"}
_FILE = re.compile(r"^(?P<name>[a-z0-9_]+)\.v(?P<version>\d+)\.json$")


class JudgeOutputError(ValueError):
    """A judge answer that is not valid JSON or does not follow the rubric's scale."""


@dataclass(frozen=True)
class Criterion:
    key: str
    title: str
    question: str
    levels: dict[str, str]


@dataclass(frozen=True)
class Rubric:
    name: str
    version: str
    title: str
    uses: dict[str, bool]
    minimum: int
    maximum: int
    system: str
    task: str
    criteria: tuple[Criterion, ...]
    answer_format: str
    sha256: str
    source: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def max_total(self) -> int:
        return self.maximum * len(self.criteria)

    def normalise(self, scores: dict[str, int]) -> float:
        """Total rescaled to [0, 1]: (total - minimum total) / (range of totals)."""
        low = self.minimum * len(self.criteria)
        return (sum(scores.values()) - low) / (self.max_total - low)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "source": self.source,
            "criteria": [c.key for c in self.criteria],
        }

    def parse(self, text: str) -> tuple[dict[str, int], dict[str, str]]:
        """``(scores, reasons)`` from a judge answer; raises :class:`JudgeOutputError` naming the problem."""
        body = text.strip()
        fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", body, re.S)
        if fenced:
            body = fenced.group(1)
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise JudgeOutputError(f"the reply is not valid JSON ({exc.msg})") from exc
        if isinstance(data, dict) and isinstance(data.get("criteria") or data.get("scores"), dict):
            data = data.get("criteria") or data.get("scores")
        if not isinstance(data, dict):
            raise JudgeOutputError("the reply must be a JSON object with one entry per criterion")
        scores: dict[str, int] = {}
        reasons: dict[str, str] = {}
        for criterion in self.criteria:
            entry = data.get(criterion.key)
            value = entry.get("score") if isinstance(entry, dict) else entry
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or float(value) != int(value):
                raise JudgeOutputError(f"criterion {criterion.key!r} needs an integer score, got {json.dumps(value)}")
            if not self.minimum <= int(value) <= self.maximum:
                raise JudgeOutputError(f"criterion {criterion.key!r} scored {value}, outside {self.minimum}-{self.maximum}")
            scores[criterion.key] = int(value)
            if isinstance(entry, dict) and isinstance(entry.get("reason"), str):
                reasons[criterion.key] = entry["reason"]
        return scores, reasons


def _build(data: Any, sha: str, source: str) -> Rubric:
    try:
        criteria = tuple(Criterion(c["key"], c["title"], c["question"], dict(c["levels"])) for c in data["criteria"])
        rubric = Rubric(
            name=str(data["name"]),
            version=str(data["version"]),
            title=str(data["title"]),
            uses={k: bool(v) for k, v in dict(data.get("uses") or {}).items()},
            minimum=int(data["min"]),
            maximum=int(data["max"]),
            system=str(data["system"]),
            task=str(data["task"]),
            criteria=criteria,
            answer_format=str(data["answer_format"]),
            sha256=sha,
            source=source,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FdrbenchError(
            f"rubric {source}: malformed ({type(exc).__name__}: {exc}); see fdrbench/judge/rubrics/ for the format"
        ) from exc
    keys = [c.key for c in criteria]
    if not criteria or len(set(keys)) != len(keys):
        raise FdrbenchError(f"rubric {source}: needs at least one criterion and unique criterion keys")
    if rubric.minimum >= rubric.maximum:
        raise FdrbenchError(f"rubric {source}: 'min' must be below 'max'")
    return rubric


def _from_bytes(raw: bytes, source: str) -> Rubric:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FdrbenchError(f"rubric {source}: not valid JSON ({exc})") from exc
    return _build(data, hashlib.sha256(raw).hexdigest(), source)


def shipped() -> dict[tuple[str, int], str]:
    """``{(name, version): file name}`` of the rubrics that ship with fdrbench."""
    out = {}
    for entry in resources.files("fdrbench.judge.rubrics").iterdir():
        match = _FILE.match(entry.name)
        if match:
            out[(match["name"], int(match["version"]))] = entry.name
    return out


def load_rubric(spec: str) -> Rubric:
    """A rubric by name (latest version), ``name@version``, or path to a JSON file."""
    path = Path(spec).expanduser()
    if spec.endswith(".json") and path.is_file():
        return _from_bytes(path.read_bytes(), str(path))
    name, _, version = spec.partition("@")
    name = ALIASES.get(name, name)
    available = shipped()
    versions = sorted(v for n, v in available if n == name)
    if not versions:
        names = sorted({n for n, _ in available})
        raise FdrbenchError(f"unknown rubric {spec!r}; shipped rubrics: {', '.join(names)} (or give a path to a rubric .json file)")
    chosen = int(version) if version.isdigit() else versions[-1]
    if (name, chosen) not in available:
        raise FdrbenchError(f"rubric {name!r} has no version {version!r}; versions: {', '.join(map(str, versions))}")
    file = available[(name, chosen)]
    raw = resources.files("fdrbench.judge.rubrics").joinpath(file).read_bytes()
    return _from_bytes(raw, f"fdrbench/judge/rubrics/{file}")
