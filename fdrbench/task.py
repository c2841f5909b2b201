"""What a benchmark is to the engine: samples, label space, prompt, groups and scoring protocols.

A task module subclasses :class:`Task` and implements :meth:`Task.samples`; everything else
(splits, subsetting, duplicate checks, protocols) is shared here.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fdrbench.errors import DataError, FdrbenchError
from fdrbench.types import Prediction, Sample

DETECTION_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "real_accuracy",
    "fake_accuracy",
    "precision",
    "recall",
    "f1",
    "ap",
    "roc_auc",
    "ece",
    "brier",
    "failure_rate",
)
HEADLINE_METRICS = ("accuracy", "balanced_accuracy", "f1", "ap", "roc_auc", "ece", "failure_rate")


@dataclass(frozen=True)
class Aggregate:
    """A named summary over some groups of one key, e.g. MMFR's DM = mean of 8 generator sets.

    ``weighting`` is ``macro`` (plain mean of the member groups' metric values, as the papers
    compute their DM/GAN/AVG columns), ``size`` (each member weighted by its sample count) or
    ``fakes`` (weighted by its number of fake samples, LOKI's total). Empty ``members`` means
    every value of ``key`` present in the run.
    """

    key: str
    members: tuple[str, ...]
    weighting: Literal["macro", "size", "fakes"] = "macro"
    description: str = ""


@dataclass(frozen=True)
class Protocol:
    """How predictions become numbers: failure handling, F1 positive class, metric list, re-parsing.

    ``reparse`` lets a paper protocol re-derive the verdict from the stored raw output with the
    paper's own rule, so a protocol can be applied to any stored run without re-running a model;
    with ``reparse_truth`` it is called as ``reparse(prediction, truth)`` (rules that depend on
    the question asked). ``failure_policy``: ``wrong`` (a failed sample counts as wrong),
    ``exclude`` (left out of every metric but ``failure_rate``) or ``fallback`` (a failed sample
    keeps the label the re-parse gave it, e.g. a deterministic coin, and is still counted in
    ``failure_rate``). ``aggregates`` are added to (or replace) the task's for this protocol.
    """

    name: str
    description: str
    failure_policy: Literal["wrong", "exclude", "fallback"] = "wrong"
    positive_class: Literal["fake", "real"] = "fake"
    metrics: tuple[str, ...] = DETECTION_METRICS
    reparse: Callable[..., Prediction] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    reparse_truth: bool = False
    aggregates: Mapping[str, Aggregate] = field(default_factory=dict)

    def settings(self) -> dict:
        """The protocol as recorded in ``scores.json`` (everything but the callable)."""
        out = {
            "description": self.description,
            "failure_policy": self.failure_policy,
            "positive_class": self.positive_class,
            "metrics": list(self.metrics),
            "reparse": getattr(self.reparse, "__qualname__", None) if self.reparse else None,
            "options": dict(self.options),
        }
        if self.aggregates:
            out["aggregates"] = {
                k: {"key": a.key, "members": list(a.members), "weighting": a.weighting} for k, a in self.aggregates.items()
            }
        return out


STRICT_DESCRIPTION = (
    "fdrbench's common protocol: unparsed or failed outputs count as wrong and are reported as "
    "failure_rate; threshold-free metrics use p_fake and are null when the detector gives none; "
    "F1 with fake as the positive class."
)


class Task(ABC):
    """Base class of every benchmark. Subclasses set the class attributes and implement ``samples``."""

    name: str = ""
    version: str = "1"
    description: str = ""
    label_space: Literal["binary", "ternary"] = "binary"
    prompt: str = ""
    group_keys: tuple[str, ...] = ()
    aggregates: Mapping[str, Aggregate] = {}
    headline_metrics: tuple[str, ...] = HEADLINE_METRICS
    splits: tuple[str, ...] = ("test",)
    default_split: str = "test"
    download_hint: str = ""
    #: the samples carry reference explanations (text metrics join the strict protocol)
    has_reference_text: bool = False
    #: tampered samples carry ground-truth masks (localization metrics join the strict protocol)
    has_masks: bool = False

    def __init__(self, **options: Any):
        unknown = set(options) - set(self.option_names())
        if unknown:
            raise FdrbenchError(
                f"task {self.name!r} has no option(s) {sorted(unknown)}; it accepts {sorted(self.option_names()) or 'none'}"
            )
        self.options = dict(options)

    # ----------------------------------------------------------------- to implement

    @abstractmethod
    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        """Yield every sample of ``split`` from the data folder, converted to fdrbench's conventions."""

    def prompt_for(self, sample: Sample) -> str:
        """What a generative detector is asked about ``sample``: its own question if the dataset
        has one (LOKI, DD-VQA), else the task's prompt (the one its paper used)."""
        return sample.question or self.prompt

    def parse_answer(self, text: str | None, sample: Sample) -> int | None:
        """The verdict (fake = 1, real = 0, None) a free-text answer to :meth:`prompt_for` states.

        Tasks whose questions are not "real or fake?" (e.g. yes/no questions with either polarity)
        override this; adapters of general models call it instead of guessing.
        """
        from fdrbench.tasks.verdicts import generic_binary

        return generic_binary(text)

    def option_names(self) -> tuple[str, ...]:
        """Names accepted as ``--task-arg name=value``."""
        return ()

    #: options that name something on the user's machine or network (a model folder, a Hub dataset):
    #: recorded in a run, but never taken from a stored run when its task is re-created
    local_options: tuple[str, ...] = ()

    def protocols(self) -> dict[str, Protocol]:
        """Scoring presets; ``strict`` always, ``paper`` where the task's paper defines one."""
        from fdrbench.protocols import strict_protocol

        return {"strict": strict_protocol(self)}

    # ----------------------------------------------------------------- shared behaviour

    def default_data_dir(self) -> Path:
        """``$FDRBENCH_DATA/<task>`` if set, else the user cache folder."""
        from fdrbench.paths import data_root

        return data_root() / self.name

    def ensure_data(self, data_dir: Path) -> Path:
        """Return the folder to read, or raise an error that says how to get the data."""
        if not data_dir.exists():
            raise DataError(
                f"data folder for task {self.name!r} not found",
                path=data_dir,
                hint=self.download_hint or "pass --data-dir or set FDRBENCH_DATA",
            )
        return data_dir

    def load(
        self, data_dir: str | os.PathLike[str] | None = None, split: str | None = None, limit: int | None = None, seed: int = 0
    ) -> list[Sample]:
        """Samples of one split, checked for duplicate ids, optionally a seeded label-stratified subset."""
        split = split or self.default_split
        if split not in self.splits:
            raise FdrbenchError(f"task {self.name!r} has no split {split!r}; splits: {', '.join(self.splits)}")
        root = self.ensure_data(Path(data_dir) if data_dir else self.default_data_dir())
        samples = list(self.samples(root, split))
        seen: set[str] = set()
        for sample in samples:
            if sample.id in seen:
                raise DataError(f"duplicate sample id {sample.id!r} in split {split!r}", path=root)
            seen.add(sample.id)
        if not samples:
            raise DataError(f"split {split!r} of task {self.name!r} has no samples", path=root, hint=self.download_hint or None)
        return subsample(samples, limit, seed)

    def info(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "label_space": self.label_space,
            "group_keys": list(self.group_keys),
            "aggregates": {k: {"key": a.key, "members": list(a.members), "weighting": a.weighting} for k, a in self.aggregates.items()},
            "options": dict(self.options),
        }


def subsample(samples: list[Sample], limit: int | None, seed: int = 0) -> list[Sample]:
    """A deterministic subset of ``limit`` samples that keeps the label proportions.

    Many released annotation files are sorted by class or category, so "the first N" would be
    one class only. Order within each label is a seeded hash of the sample id; the subset is
    returned in the task's original order.
    """
    if limit is None or limit >= len(samples):
        return samples
    if limit <= 0:
        raise FdrbenchError(f"--limit must be positive, got {limit}")
    by_label: dict[int, list[int]] = {}
    for index, sample in enumerate(samples):
        by_label.setdefault(sample.label, []).append(index)
    total = len(samples)
    quotas = {lab: limit * len(idx) / total for lab, idx in by_label.items()}
    take = {lab: int(q) for lab, q in quotas.items()}
    for lab in sorted(quotas, key=lambda k: quotas[k] - take[k], reverse=True)[: limit - sum(take.values())]:
        take[lab] += 1

    def rank(i: int) -> str:
        return hashlib.sha256(f"{seed}:{samples[i].id}".encode()).hexdigest()

    chosen: set[int] = set()
    for lab, indices in by_label.items():
        chosen.update(sorted(indices, key=rank)[: take[lab]])
    return [samples[i] for i in sorted(chosen)]
