"""The registry of published numbers: what a paper printed, and the run that should give it back.

The engine names no model and no dataset, so the registry is data handed to it: every package
listed in the entry-point group ``fdrbench.published`` holds ``*.toml`` files, one per paper
(fdrbench's own are in ``fdrbench.tasks.published``; a plugin package adds its own the same way)::

    [project.entry-points."fdrbench.published"]
    my_pkg = "my_pkg.published"

One file, one paper::

    paper = "short-id"                    # the first part of every entry id
    title = "The paper's title"
    source = "arXiv 1234.56789v2"         # where the numbers are printed

    [models.my-model]                      # the models the targets run, by a key of this file
    adapter = "my_adapter"                 # a registered adapter name
    weights = "org/weights"                # the weights id ...
    weights_arg = "path"                   # ... and the adapter setting that takes it
    args = { prompt = "task" }             # settings a comparable run must have (as --model-arg)
    needs = "one GPU with 16 GB"           # what running it takes

    [[targets]]                            # what one `fdrbench reproduce NAME` checks
    name = "my-model-my-task"
    description = "My model on my task (Table 2)"
    model = "my-model"
    task = "my_task"                       # a registered task name, its version, split and options
    task_version = "1"
    split = "test"
    task_args = { questions = "all" }
    protocol = "paper"
    n_samples = 5000                       # the full split's size, when known
    scale = 100                            # printed values are percentages (1: fractions)
    needs = "the my_task test images (HF org/data)"

    [[targets.entries]]
    id = "short-id/t2/my-task/acc"         # unique over the whole registry
    table = "Table 2"
    row = "My model"
    column = "Acc"
    metric = "accuracy"                    # a fdrbench metric name
    printed = "98.6"                       # exactly as printed: its digits give the precision
    # group = { category = "animal" }      # a per-group number, or
    # aggregate = "AVG"                    # a named aggregate of the task or protocol
    # scale = 1                            # overrides the target's
    # note = "why this number may not come back"

``printed`` is a string so that "94.00" keeps its two decimals: the value compared is
``printed / scale`` (98.6 -> 0.986) and half the printed precision is the tolerance added to
the measured interval (0.05 / 100 = 0.0005). Errors name the file and the entry.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from importlib.metadata import entry_points
from typing import Any

import msgspec

from fdrbench.errors import RegistryError
from fdrbench.record import validation_message

GROUP = "fdrbench.published"
#: words the command itself uses, never a target's name
RESERVED = ("list",)
_PRINTED = re.compile(r"^-?\d+(\.\d+)?$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*(/[A-Za-z0-9][A-Za-z0-9._+-]*)+$")


# --------------------------------------------------------------------------- the file format


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class ModelSpec(_Strict, kw_only=True):
    adapter: str
    weights: str | None = None
    weights_arg: str | None = None
    args: dict[str, Any] = {}
    needs: str = ""


class EntrySpec(_Strict, kw_only=True):
    id: str
    table: str
    row: str
    column: str = ""
    metric: str
    printed: str
    group: dict[str, str] | None = None
    aggregate: str | None = None
    scale: float | None = None
    note: str = ""


class TargetSpec(_Strict, kw_only=True):
    name: str
    description: str
    model: str
    task: str
    task_version: str
    split: str
    task_args: dict[str, Any] = {}
    protocol: str
    n_samples: int | None = None
    scale: float = 100.0
    needs: str = ""
    note: str = ""
    entries: list[EntrySpec]


class PaperFile(_Strict, kw_only=True):
    paper: str
    title: str
    source: str
    models: dict[str, ModelSpec]
    targets: list[TargetSpec]


# --------------------------------------------------------------------------- what the engine uses


@dataclass(frozen=True)
class Model:
    key: str
    adapter: str
    weights: str | None
    weights_arg: str | None
    args: dict[str, Any]
    needs: str

    def run_args(self) -> dict[str, Any]:
        """The ``--model-arg`` settings a run of this model is made with."""
        weights = {self.weights_arg: self.weights} if self.weights_arg and self.weights else {}
        return {**weights, **self.args}


@dataclass(frozen=True)
class Entry:
    """One printed number, with everything that says how to measure it."""

    id: str
    target: str
    table: str
    row: str
    column: str
    metric: str
    printed: str
    scale: float
    group: tuple[str, str] | None
    aggregate: str | None
    note: str

    @property
    def value(self) -> float:
        """The printed number as a fraction (or in the metric's own unit when ``scale`` is 1)."""
        return float(Decimal(self.printed) / Decimal(repr(self.scale)))

    @property
    def half_width(self) -> float:
        """Half the printed precision, on the value's scale: "98.6" at scale 100 -> 0.0005."""
        decimals = len(self.printed.partition(".")[2])
        return float(Decimal(1).scaleb(-decimals) / 2 / Decimal(repr(self.scale)))

    @property
    def scope(self) -> str:
        """Where the number lives in a protocol block: ``overall``, ``groups.KEY.VALUE`` or ``aggregates.NAME``."""
        if self.group:
            return f"groups.{self.group[0]}.{self.group[1]}"
        return f"aggregates.{self.aggregate}" if self.aggregate else "overall"

    @property
    def label(self) -> str:
        return " · ".join(p for p in (self.table, self.row, self.column) if p)


@dataclass(frozen=True)
class Target:
    """The entries one ``fdrbench reproduce NAME`` checks: one model, one task split, one protocol."""

    name: str
    description: str
    paper: str
    title: str
    source: str
    file: str
    model: Model
    task: str
    task_version: str
    split: str
    task_args: dict[str, Any]
    protocol: str
    n_samples: int | None
    needs: str
    note: str
    entries: tuple[Entry, ...] = field(default_factory=tuple)


@dataclass
class Registry:
    targets: dict[str, Target]

    def target(self, name: str) -> Target:
        if name in self.targets:
            return self.targets[name]
        close = difflib.get_close_matches(name, list(self.targets), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise RegistryError(f"unknown target {name!r}.{hint} `fdrbench reproduce list` shows them all")

    def entries(self) -> list[Entry]:
        return [e for t in self.targets.values() for e in t.entries]

    def for_run(self, task: str, adapter: str) -> list[Target]:
        """The targets a run of ``adapter`` on ``task`` can be checked against."""
        return [t for t in self.targets.values() if t.task == task and t.model.adapter == adapter]


# --------------------------------------------------------------------------- reading


def sources() -> list[tuple[str, Any]]:
    """(package, resource folder) of every registered package of published numbers."""
    seen: dict[str, Any] = {}
    for ep in entry_points(group=GROUP):
        if ep.attr:
            raise RegistryError(f"entry point {ep.name} = {ep.value} in group {GROUP!r} must name a package, not an attribute")
        if ep.module in seen:
            continue
        try:
            seen[ep.module] = resources.files(ep.module)
        except ModuleNotFoundError as exc:
            raise RegistryError(f"entry point {ep.name} = {ep.value} in group {GROUP!r}: no package {ep.module!r}") from exc
    return sorted(seen.items())


def load_registry() -> Registry:
    """Every target of every registered file, checked; an error names the file and the entry."""
    targets: dict[str, Target] = {}
    ids: dict[str, str] = {}
    for package, folder in sources():
        for resource in sorted((r for r in folder.iterdir() if r.name.endswith(".toml")), key=lambda r: r.name):
            shown = f"{package.replace('.', '/')}/{resource.name}"
            for target in read_file(resource.read_bytes(), shown):
                if target.name in targets:
                    raise RegistryError(f"{shown}: target {target.name!r} is also defined in {targets[target.name].file}")
                for entry in target.entries:
                    if entry.id in ids:
                        raise RegistryError(f"{shown}: entry {entry.id!r} is also defined in {ids[entry.id]}")
                    ids[entry.id] = shown
                targets[target.name] = target
    return Registry(targets)


def read_file(data: bytes, shown: str) -> list[Target]:
    """The targets of one paper file (``shown`` is how errors name it)."""
    try:
        spec = msgspec.toml.decode(data, type=PaperFile)
    except msgspec.ValidationError as exc:
        where = _where(exc, data)
        message = validation_message(exc)
        if where:  # inside a named target or entry, the field is named from there
            message = re.sub(r"'targets\[\d+\](\.entries\[\d+\])?\.?", "'", message).replace("field '': ", "")
        raise RegistryError(f"{shown}: {where}{message}") from exc
    except msgspec.DecodeError as exc:
        raise RegistryError(f"{shown}: not valid TOML ({exc})") from exc
    return [_target(spec, t, shown) for t in spec.targets]


def _where(exc: msgspec.ValidationError, data: bytes) -> str:
    """``entry 'ID': `` (or ``target 'NAME': ``) for an error inside one, read from the raw file."""
    match = re.search(r"\$\.targets\[(\d+)\](?:\.entries\[(\d+)\])?", str(exc))
    if match is None:
        return ""
    try:
        raw = msgspec.toml.decode(data)
        target = raw["targets"][int(match.group(1))]
        if match.group(2) is None:
            return f"target {target.get('name', '#' + match.group(1))!r}: "
        entry = target["entries"][int(match.group(2))]
        return f"entry {entry.get('id', '#' + match.group(2))!r}: "
    except (msgspec.DecodeError, KeyError, IndexError, TypeError, AttributeError):
        return ""


def _target(paper: PaperFile, spec: TargetSpec, shown: str) -> Target:
    from fdrbench.registry import ADAPTERS, TASKS

    where = f"{shown}: target {spec.name!r}"
    if not _NAME.match(spec.name) or spec.name in RESERVED:
        raise RegistryError(f"{where}: a target name is letters, digits, '.', '_' and '-', and not {', '.join(RESERVED)}")
    model = paper.models.get(spec.model)
    if model is None:
        raise RegistryError(f"{where}: model {spec.model!r} is not in [models] (it has {', '.join(sorted(paper.models)) or 'none'})")
    if ADAPTERS.registered(model.adapter) is None:
        raise RegistryError(f"{where}: adapter {model.adapter!r} is not a registered adapter name")
    if TASKS.registered(spec.task) is None:
        raise RegistryError(f"{where}: task {spec.task!r} is not a registered task name")
    if (model.weights is None) != (model.weights_arg is None):
        raise RegistryError(f"{where}: model {spec.model!r} needs both weights and weights_arg, or neither")
    if spec.scale <= 0 or (spec.n_samples is not None and spec.n_samples <= 0):
        raise RegistryError(f"{where}: scale and n_samples must be positive")
    if not spec.entries:
        raise RegistryError(f"{where}: no entries")
    entries = tuple(_entry(paper, spec, e, shown) for e in spec.entries)
    return Target(
        name=spec.name,
        description=spec.description,
        paper=paper.paper,
        title=paper.title,
        source=paper.source,
        file=shown,
        model=Model(spec.model, model.adapter, model.weights, model.weights_arg, dict(model.args), model.needs),
        task=spec.task,
        task_version=spec.task_version,
        split=spec.split,
        task_args=dict(spec.task_args),
        protocol=spec.protocol,
        n_samples=spec.n_samples,
        needs=spec.needs,
        note=spec.note,
        entries=entries,
    )


def _entry(paper: PaperFile, target: TargetSpec, spec: EntrySpec, shown: str) -> Entry:
    from fdrbench.metrics.registry import get_metric

    where = f"{shown}: entry {spec.id!r}"
    if not _ID.match(spec.id) or not spec.id.startswith(paper.paper + "/"):
        raise RegistryError(f"{where}: an id is '{paper.paper}/...' (its paper, then '/'-separated parts)")
    if not _PRINTED.match(spec.printed):
        raise RegistryError(f'{where}: printed must be the number as printed, e.g. "98.6", got {spec.printed!r}')
    if spec.group is not None and (len(spec.group) != 1 or spec.aggregate is not None):
        raise RegistryError(f'{where}: group names one key and value ({{ key = "value" }}), and excludes aggregate')
    scale = target.scale if spec.scale is None else spec.scale
    if scale <= 0:
        raise RegistryError(f"{where}: scale must be positive")
    try:
        metric = get_metric(spec.metric)
    except RegistryError as exc:
        raise RegistryError(f"{where}: {exc}") from exc
    group = next(iter(spec.group.items())) if spec.group else None
    entry = Entry(
        spec.id, target.name, spec.table, spec.row, spec.column, spec.metric, spec.printed, scale, group, spec.aggregate, spec.note
    )
    if entry.value < 0 or (metric.bounded and entry.value > 1):
        raise RegistryError(f"{where}: {spec.printed} at scale {scale:g} is {entry.value:g}, outside the range of {spec.metric}")
    return entry
