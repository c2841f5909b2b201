"""What a benchmark is to the engine: samples, label space, prompt, groups, protocols, and its hooks.

A task module subclasses :class:`Task` and implements :meth:`Task.samples`; every other hook
the engine calls is declared here with its default (parsing answers, declared options, scoring
protocols, the load report, the judge's rubric, official fingerprints, the ``data prepare``
step, the generator table), so a task overrides only what differs. Every task also accepts the
scoring options in :data:`SCORING_OPTIONS` (``released_after``), which change how its runs are
sliced, never its samples. The scoring types (``Protocol``, ``Aggregate``,
the metric lists) come from :mod:`fdrbench.protocols`, which knows nothing of tasks.
"""

from __future__ import annotations

import hashlib
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fdrbench.errors import DataError, FdrbenchError
from fdrbench.generators import RELEASED_AFTER, GeneratorTable, check_cutoff
from fdrbench.protocols import HEADLINE_METRICS, Aggregate, Protocol, strict_protocol
from fdrbench.types import Sample
from fdrbench.verdicts import generic_binary, generic_ternary

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

#: the file, in a task's package, that holds the official fingerprints of its tasks
FINGERPRINTS_FILE = "fingerprints.json"

#: options every task accepts, read by the score stage (they slice a run's scores, not its samples)
SCORING_OPTIONS = (RELEASED_AFTER,)


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
    #: released full-split fingerprints, ``{version: {split: sha256}}``, beside those in :meth:`fingerprints_file`
    official_fingerprints: Mapping[str, Mapping[str, str]] = {}

    def __init__(self, **options: Any):
        unknown = set(options) - set(self.accepted_options())
        if unknown:
            raise FdrbenchError(
                f"task {self.name!r} has no option(s) {sorted(unknown)}; it accepts {sorted(self.accepted_options()) or 'none'}"
            )
        if options.get(RELEASED_AFTER) not in (None, ""):
            options = {**options, RELEASED_AFTER: check_cutoff(options[RELEASED_AFTER])}
        self.options = dict(options)

    # ----------------------------------------------------------------- to implement

    @abstractmethod
    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        """Yield every sample of ``split`` from the data folder, converted to fdrbench's conventions."""

    def prompt_for(self, sample: Sample) -> str:
        """What a generative detector is asked about ``sample``: its own question if the dataset
        has one (yes/no questions, per-question VQA), else the task's prompt (the one its paper used)."""
        return sample.question or self.prompt

    def parse_answer(self, text: str | None, sample: Sample) -> int | None:
        """The verdict (fake = 1, real = 0, None) a free-text answer to :meth:`prompt_for` states.

        Tasks whose questions are not "real or fake?" (e.g. yes/no questions with either polarity)
        override this; adapters of general models call it instead of guessing.
        """
        return generic_binary(text)

    def parse_class(self, text: str | None, sample: Sample) -> str | None:
        """The three-way class (``real``, ``full_synthetic``, ``tampered``) an answer states, or None.

        Read by adapters of general models on ternary tasks; the default is the engine's generic
        rule, which also supplies the binary verdict when :meth:`parse_answer` finds none.
        """
        return generic_ternary(text)[1]

    def option_names(self) -> tuple[str, ...]:
        """The task's own names accepted as ``--task-arg name=value`` (and checked when a stored run's task is re-made)."""
        return ()

    def accepted_options(self) -> tuple[str, ...]:
        """Every option name the task takes: its own and the :data:`SCORING_OPTIONS`. Not a hook."""
        return (*self.option_names(), *(name for name in SCORING_OPTIONS if name not in self.option_names()))

    def generator_table(self) -> GeneratorTable | None:
        """Which group key names each sample's generator and what each name means (family, release
        date, ...), for the derived ``generator_family`` and released-after slices of the scores;
        None (the default) when the task has no generator metadata."""
        return None

    def option_value(self, name: str) -> Any:
        """The value option ``name`` takes in this task: as given, else the task's default (None when
        it declares none). Read when a stored run's settings are compared with a published number's."""
        return self.options.get(name)

    #: options that name something on the user's machine or network (a model folder, a Hub dataset):
    #: recorded in a run, but never taken from a stored run when its task is re-created
    local_options: tuple[str, ...] = ()

    def protocols(self) -> dict[str, Protocol]:
        """Scoring presets; ``strict`` always, ``paper`` where the task's paper defines one."""
        return {"strict": strict_protocol(self.label_space, self.has_reference_text, self.has_masks)}

    def load_report(self) -> dict:
        """What the last :meth:`load` skipped or noticed, ``{"counts": {kind: n}, "examples": {kind: [...]}}``."""
        return {"counts": {}, "examples": {}}

    def judge_rubric(self, references: list) -> str | None:
        """The rubric ``fdrbench judge --rubric auto`` uses for this task's runs (a shipped rubric name
        or a ``.json`` path), given the runs' stored references; None lets the judge choose by the
        references (the reference-explanation rubric when there are reference texts)."""
        return None

    def has_labels(self, data_dir: Path, split: str) -> bool:
        """Whether the data folder holds the labels of ``split``. A held-out benchmark's public
        release does not: its samples come with ``label`` None, they can only be predicted
        (``fdrbench run --predict-only`` writes a submission), and the organiser, who keeps the
        labelled copy, scores the submission (``fdrbench score-submission``)."""
        return True

    def blind_sample(self, sample: Sample) -> Sample:
        """What a detector may see of ``sample`` in a blind run: its id, image and question, and
        nothing of its truth (label, class, groups, reference, mask) or metadata (a dataset's
        metadata can hold the answer). A task whose prompt or verdict rule reads metadata that
        is part of the public question overrides this to keep those keys."""
        return Sample(id=sample.id, label=None, image=sample.image, image_ref=sample.image_ref, question=sample.question)

    @classmethod
    def fingerprints_file(cls) -> Traversable | None:
        """Where this task's official fingerprints are committed: ``fingerprints.json`` in the package
        that defines the class, ``{task name: {version: {split: sha256}}}`` (a benchmark package keeps
        its own; ``python -m fdrbench.fingerprints TASK --record`` writes it). None for a class that
        is not in a package (a file given as ``--task file.py:Class``)."""
        package = getattr(sys.modules.get(cls.__module__), "__package__", None)
        return resources.files(package).joinpath(FINGERPRINTS_FILE) if package else None

    def prepare(self, **args: Any) -> dict:
        """``fdrbench data prepare TASK --arg k=v``: the steps after downloading (joining archives,
        placing frames); returns a JSON-ready summary. Tasks without such a step keep this default."""
        raise FdrbenchError(f"task {self.name!r} has no prepare step; its data is used as downloaded")

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
        labelled = self.has_labels(root, split)
        seen: set[str] = set()
        for sample in samples:
            if sample.id in seen:
                raise DataError(f"duplicate sample id {sample.id!r} in split {split!r}", path=root)
            seen.add(sample.id)
            if labelled and sample.label is None:
                raise DataError(
                    f"split {split!r} of task {self.name!r} holds labels, but this sample has none", path=root, record=sample.id
                )
            if not labelled and sample.label is not None:
                raise DataError(
                    f"split {split!r} of task {self.name!r} is held out (no labels), but this sample has one", path=root, record=sample.id
                )
        if not samples:
            raise DataError(f"split {split!r} of task {self.name!r} has no samples", path=root, hint=self.download_hint or None)
        return subsample(samples, limit, seed)

    def info(self) -> dict:
        """The task as recorded in a run's manifest (``task_info``)."""
        out = {
            "name": self.name,
            "version": self.version,
            "label_space": self.label_space,
            "group_keys": list(self.group_keys),
            "aggregates": {k: a.settings() for k, a in self.aggregates.items()},
            "options": dict(self.options),
        }
        report = self.load_report()
        if report.get("counts"):
            out["load_report"] = report
        return out


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
