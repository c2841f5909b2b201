"""The results contract as code: a run folder's ``manifest.json``, ``predictions.jsonl`` and ``scores.json``.

:class:`Manifest` and :class:`Scores` (here) and :class:`~fdrbench.record.Truth` /
:class:`~fdrbench.record.Record` (one prediction line) are typed ``msgspec`` structs, chosen
over pydantic and hand-written dataclasses because decoding straight into them is faster than
``json.loads`` into dicts (50 runs of 20,000 lines read in seconds, see
``bench/results_bench.py``), because a type error names its field path, and because decoding
constructs nothing but these types. ``from_json(data, strict=True)`` checks types and the
contract's own rules (values in [0, 1], intervals ordered, masks that decode) and raises a
:class:`~fdrbench.errors.ResultsError` naming the file, the line where there is one, and the
field. :class:`RunDir` reads and writes a run folder; :meth:`RunDir.task` re-creates the run's
task from its registered name only; :func:`find_runs` lists the runs under a results root.
A perturbed run's manifest carries :class:`PerturbationInfo`. ``robustness.json``, a sweep of one
detector over a preset's conditions, is :class:`Robustness` (defined in
:mod:`fdrbench.robustness_schema`, imported from here); :func:`find_robustness` lists those files.
Every reader and writer of results goes through these types.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from fdrbench.contract import Contract, Entry, ScoreInfo, entry_problems
from fdrbench.errors import ResultsError
from fdrbench.generators import GeneratorsUsed
from fdrbench.record import Record, Truth
from fdrbench.robustness_schema import (
    ROBUSTNESS_DIR,
    Change,
    ConditionRun,
    MetricRobustness,
    ProtocolRobustness,
    Robustness,
    Stability,
)
from fdrbench.store import MANIFEST, PREDICTIONS, SCORES, iter_lines, load_records, prediction_files, write_json_atomic

if TYPE_CHECKING:  # pragma: no cover
    from fdrbench.api.task import Task

SCHEMA_VERSION = 1


# --------------------------------------------------------------------------- manifest.json


class TaskInfo(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str
    version: str
    label_space: str = "binary"
    group_keys: list[str] = msgspec.field(default_factory=list)
    aggregates: dict[str, Any] = msgspec.field(default_factory=dict)
    options: dict[str, Any]
    load_report: dict[str, Any] | None = None
    target: str | None = None
    #: False for a task given as ``file.py:Class``: its runs re-score once the class is registered
    registered: bool | None = None
    split: str
    limit: int | None
    n_samples: int
    data_dir: str | None = None


class AdapterInfo(msgspec.Struct):
    name: str
    target: str
    args: dict[str, Any]
    describe: dict[str, Any] = msgspec.field(default_factory=dict)


class RunSettings(msgspec.Struct, kw_only=True):
    seed: int
    batch_size: int = 8
    device: str = "cpu"
    world_size: int = 1
    max_failures: int | str | None = None
    n_boot: int
    protocols: list[str]


class CodeInfo(msgspec.Struct):
    version: str
    commit: str | None = None
    dirty: bool | None = None


class JudgeInfo(msgspec.Struct, kw_only=True):
    """The ``judge`` section a judged run's manifest holds: the settings that decide the judgements and the ledger."""

    judge_model: str
    rubric: dict[str, Any]
    temperature: float
    max_tokens: int
    max_attempts: int
    json_mode: bool
    images: bool
    image_max_side: int | None = None
    seed: int | None = None
    config_hash: str
    client: dict[str, Any] = msgspec.field(default_factory=dict)
    ledger: dict[str, Any] = msgspec.field(default_factory=dict)
    sessions: list[dict[str, Any]] = msgspec.field(default_factory=list)


class SubmissionInfo(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A blind submission's part of a manifest (:mod:`fdrbench.blind`).

    ``role`` is ``"submission"`` in the participant's ``submission-manifest.json`` (made without
    the truth: ``data_fingerprint`` is then the public fingerprint, over sample ids and
    questions) and ``"scored"`` in the run folder the organiser made of it, which also records
    the hashes of the two files it was made from.
    """

    role: str
    public_fingerprint: str
    sha256: str | None = None
    manifest_sha256: str | None = None


class PerturbationInfo(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A perturbed run's ``perturbation``: what was applied (``fdrbench.perturb.describe``) and the
    two fingerprints its data fingerprint is checked through: the clean samples' and the stored truths'
    (they differ only where a geometric perturbation moved annotated regions)."""

    spec: str
    hash: str
    name: str | None = None
    seed: int | None = None
    random: bool = False
    geometric: bool = False
    libraries: dict[str, str] = msgspec.field(default_factory=dict)
    clean_fingerprint: str
    truths_fingerprint: str


class Manifest(Contract, kw_only=True):
    """``manifest.json``: what ran, on what data, with which code, settings and libraries."""

    FILE = MANIFEST
    WHAT = "manifest"

    schema_version: int
    task: str
    model: str
    run_id: str
    created: str
    updated: str | None = None
    status: str
    task_info: TaskInfo
    data_fingerprint: str
    adapter: AdapterInfo
    config: dict[str, Any]
    config_hash: str
    settings: RunSettings
    fdrbench: CodeInfo
    environment: dict[str, Any]
    sessions: list[dict[str, Any]] = msgspec.field(default_factory=list)
    timing: dict[str, Any] = msgspec.field(default_factory=dict)
    usage: dict[str, Any] = msgspec.field(default_factory=dict)
    prompt: str | None
    prompt_sha256: str | None
    abort_reason: str | None = None
    judge: JudgeInfo | None = None
    submission: SubmissionInfo | None = None
    perturbation: PerturbationInfo | None = None

    def problems(self) -> list[str]:
        out = []
        if self.submission is not None and self.submission.role not in ("submission", "scored"):
            out.append(f"submission.role must be 'submission' or 'scored', got {self.submission.role!r}")
        if self.status not in ("running", "complete"):
            out.append(f"'status' must be 'running' or 'complete', got {self.status!r}")
        if self.task_info.n_samples <= 0:
            out.append(f"task_info.n_samples must be positive, got {self.task_info.n_samples}")
        return out

    @property
    def label(self) -> str:
        return f"{self.model}/{self.run_id}"


# --------------------------------------------------------------------------- scores.json


class ProtocolInfo(msgspec.Struct, omit_defaults=True):
    description: str
    failure_policy: str
    positive_class: str
    metrics: list[str]
    reparse: str | None
    options: dict[str, Any]
    aggregates: dict[str, Any] | None = None
    samples: str | None = None
    version: str | None = None


class Block(msgspec.Struct, kw_only=True):
    protocol: ProtocolInfo
    n: int
    n_failed: int
    n_scored: int | None = None
    n_missing_p_fake: int | None = None
    overall: dict[str, Entry]
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    groups: dict[str, dict[str, dict[str, Entry]]]
    group_sizes: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)
    aggregates: dict[str, dict[str, Entry]]
    aggregate_members: dict[str, list[str]] = msgspec.field(default_factory=dict)

    def entries(self) -> Iterator[tuple[str, str, Entry]]:
        """(where, metric, entry) for every value of the block."""
        yield from (("overall", m, e) for m, e in self.overall.items())
        for key, members in self.groups.items():
            for value, metrics in members.items():
                yield from ((f"groups.{key}.{value}", m, e) for m, e in metrics.items())
        for name, metrics in self.aggregates.items():
            yield from ((f"aggregates.{name}", m, e) for m, e in metrics.items())


class Scores(Contract, kw_only=True):
    """``scores.json``: every protocol's values with their intervals, per group and aggregate."""

    FILE = SCORES
    WHAT = "scores file"

    task: str
    task_version: str
    model: str
    run_id: str
    data_fingerprint: str | None
    n_expected: int
    partial: bool
    settings: ScoreInfo
    headline_metrics: list[str] = msgspec.field(default_factory=list)
    protocols: dict[str, Block]
    #: the generator metadata the derived groups were computed with (tasks with a generator table)
    generators: GeneratorsUsed | None = None

    def problems(self) -> list[str]:
        from fdrbench.errors import RegistryError
        from fdrbench.metrics.registry import get_metric

        out = []
        if self.generators is not None:
            out.extend(f"generators.known.{name}: {p}" for name, g in self.generators.known.items() for p in g.problems())
        if not self.protocols:
            out.append("'protocols' is empty")
        for name, block in self.protocols.items():
            where = f"protocols.{name}"
            if not 0 <= block.n_failed <= block.n:
                out.append(f"{where}: n_failed {block.n_failed} is not between 0 and n {block.n}")
            for scope, metric, entry in block.entries():
                try:
                    bounded = get_metric(metric).bounded
                except RegistryError:
                    bounded = True
                out.extend(entry_problems(entry, f"{where}.{scope}.{metric}", bounded))
        return out


# --------------------------------------------------------------------------- the run folder


class RunDir:
    """One run folder, ``<results>/<task>/<model>/<run_id>/``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunDir) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def scores_path(self) -> Path:
        return self.path / SCORES

    @property
    def predictions_path(self) -> Path:
        return self.path / PREDICTIONS

    def is_run(self) -> bool:
        return self.manifest_path.is_file()

    def manifest(self, strict: bool = True) -> Manifest:
        if not self.path.is_dir():
            raise ResultsError(f"{self.path} is not a run folder")
        return Manifest.read(self.manifest_path, strict=strict)

    def scores(self, strict: bool = True) -> Scores | None:
        """The scores, or None when the run has not been scored yet."""
        return Scores.read(self.scores_path, strict=strict) if self.scores_path.is_file() else None

    def records(self) -> tuple[dict[str, Record], int]:
        """Every prediction file merged into ``{sample_id: Record}``, and the count of superseded duplicates."""
        return load_records(self.path)

    def lines(self) -> Iterator[tuple[Path, int, bytes]]:
        """(file, line number, raw line) of every complete line of every prediction file."""
        for path in prediction_files(self.path):
            for number, raw in iter_lines(path):
                yield path, number, raw

    def truths(self) -> dict[str, Truth]:
        return {sid: record.truth for sid, record in self.records()[0].items()}

    def write_manifest(self, manifest: Manifest) -> None:
        write_json_atomic(self.manifest_path, manifest.to_json())

    def write_scores(self, scores: Scores) -> None:
        write_json_atomic(self.scores_path, scores.to_json())

    def task(self, manifest: Manifest | None = None) -> Task:
        """The run's task, re-created from its registered name only (never from a stored target or
        path), its stored options checked against the task's declared options first: the one rule,
        :func:`fdrbench.run_task.task_for_run`."""
        from fdrbench.run_task import task_for_run

        return task_for_run(manifest or self.manifest(), where=self.path)


def find_runs(root: str | Path) -> list[RunDir]:
    """Run folders under a results root (``<task>/<model>/<run_id>/manifest.json``), sorted."""
    found = sorted(p.parent for p in Path(root).glob(f"*/*/*/{MANIFEST}") if not any(part.startswith(".") for part in p.parts[-4:-1]))
    return [RunDir(p) for p in found]


def find_robustness(root: str | Path) -> list[Path]:
    """``robustness.json`` files under a results root (``<task>/<model>/robustness/*.json``), sorted."""
    found = Path(root).glob(f"*/*/{ROBUSTNESS_DIR}/*.json")
    return sorted(p for p in found if not any(part.startswith(".") for part in p.parts[-4:]))


def read_json_object(path: Path) -> dict:
    """A JSON object from a file, for code that must show a file that fails the contract."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object")
    return data


__all__ = [
    "ROBUSTNESS_DIR",
    "Change",
    "ConditionRun",
    "Entry",
    "Manifest",
    "MetricRobustness",
    "PerturbationInfo",
    "ProtocolRobustness",
    "Record",
    "Robustness",
    "RunDir",
    "SCHEMA_VERSION",
    "ScoreInfo",
    "Scores",
    "Stability",
    "Truth",
    "find_robustness",
    "find_runs",
]
