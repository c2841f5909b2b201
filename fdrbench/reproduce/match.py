"""Whether a run measures what a target's paper measured, and if not, why not.

A run is compared with a target only when it is a complete run of the same task at the same
task version, on the whole split (no ``--limit``, the split's full size, the released data's
fingerprint where one is registered), with the target's task options, through the target's
adapter with its weights and settings, and the task still defines the target's protocol. Every
difference found is one line of the "not comparable" verdict.

Nothing the run names is imported: the task is re-created from its registered name
(:meth:`fdrbench.results.RunDir.task`), and the adapter's defaults are read from the adapter the
*target* names, only once the run is known to have used that same registered name.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from fdrbench.api.task import Task
from fdrbench.errors import FdrbenchError
from fdrbench.reproduce.registry import Target
from fdrbench.results import Manifest, RunDir


@dataclass
class Comparison:
    """What :func:`compare` found: the reasons the run cannot be compared, notes, and the run's task."""

    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    task: Task | None = None

    @property
    def comparable(self) -> bool:
        return not self.reasons


def _same(a: Any, b: Any) -> bool:
    """Settings equal as values, or as the text a command line would give them (``true``, ``5``)."""
    return a == b or (a is not None and b is not None and str(a).lower() == str(b).lower())


def compare(target: Target, run: RunDir, manifest: Manifest) -> Comparison:
    """Every reason ``run`` (with its ``manifest``) is not comparable with ``target``; none if it is."""
    out = Comparison()
    info = manifest.task_info
    if manifest.status != "complete":
        out.reasons.append(f"the run is not complete (status {manifest.status!r})")
    if manifest.task != target.task:
        out.reasons.append(f"task: the run is of {manifest.task!r}, the target needs {target.task!r}")
        return out
    if info.version != target.task_version:
        out.reasons.append(
            f"task version: the run read {target.task} v{info.version}, the target is checked against v{target.task_version}"
        )
    if info.split != target.split:
        out.reasons.append(f"split: the run scored {info.split!r}, the target needs {target.split!r}")
    if info.limit is not None:
        out.reasons.append(f"subset: the run scored a --limit subset of {info.limit} samples, not the whole {target.split} split")
    elif target.n_samples is not None and info.n_samples != target.n_samples:
        out.reasons.append(f"subset: the run has {info.n_samples} samples, the {target.split} split has {target.n_samples}")
    _task_checks(target, run, manifest, out)
    _model_checks(target, manifest, out)
    return out


def _task_checks(target: Target, run: RunDir, manifest: Manifest, out: Comparison) -> None:
    from fdrbench import fingerprints

    try:
        task = run.task(manifest)
    except FdrbenchError as exc:
        out.reasons.append(f"task: {str(exc).splitlines()[0]}")
        return
    out.task = task
    for name, wanted in sorted(target.task_args.items()):
        if name not in task.option_names():
            out.reasons.append(f"task option {name}: {target.task} has no such option (the target needs {wanted!r})")
            continue
        given = task.option_value(name)
        if not _same(given, wanted):
            out.reasons.append(f"task option {name}: the run has {given!r}, the target needs {wanted!r}")
    if target.protocol not in task.protocols():
        out.reasons.append(f"protocol: {target.task} defines no protocol {target.protocol!r} (it has {', '.join(task.protocols())})")
    if manifest.task_info.limit is None and manifest.task_info.version == task.version:
        official = fingerprints.official(task, task.version, manifest.task_info.split)
        if official and official != manifest.data_fingerprint:
            out.reasons.append(f"data: the run's data fingerprint differs from the released {manifest.task_info.split} split's")


def _model_checks(target: Target, manifest: Manifest, out: Comparison) -> None:
    model = target.model
    if manifest.adapter.name != model.adapter:
        out.reasons.append(f"model: the run's adapter is {manifest.adapter.name!r}, the target's is {model.adapter!r}")
        return
    defaults = adapter_defaults(model.adapter)

    def setting(name: str) -> Any:
        if name in manifest.adapter.args:
            return manifest.adapter.args[name]
        if name in manifest.adapter.describe:
            return manifest.adapter.describe[name]
        return defaults.get(name)

    if model.weights_arg:
        given = setting(model.weights_arg)
        same, note = weights_match(str(model.weights), given)
        if not same:
            out.reasons.append(f"weights: the run used {given!r}, the target needs {model.weights!r}")
        elif note:
            out.notes.append(note)
    for name, wanted in sorted(model.args.items()):
        given = setting(name)
        if not _same(given, wanted):
            out.reasons.append(f"model setting {name}: the run has {given!r}, the target needs {wanted!r}")


def weights_match(expected: str, given: Any) -> tuple[bool, str | None]:
    """(same, note): the weights id itself, or a local folder named as the id's repository.

    A folder is not hashed against the release (the release's files are not known here), so a
    match by name says so in a note.
    """
    if not isinstance(given, str) or not given:
        return False, None
    if given == expected:
        return True, None
    repository = PurePath(expected).name
    if PurePath(given.rstrip("/\\")).name.lower() == repository.lower():
        return True, f"weights from {given!r}, named as {expected!r}: the files themselves were not compared with the release"
    return False, None


def adapter_defaults(name: str) -> dict[str, Any]:
    """The keyword defaults of the registered adapter ``name`` (a registered name only, never a path)."""
    from fdrbench.registry import ADAPTERS

    try:
        cls = ADAPTERS.load_registered(name)
        parameters = inspect.signature(cls).parameters.values()
    except (FdrbenchError, TypeError, ValueError):
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def target_problems(target: Target) -> list[str]:
    """What in a registered target disagrees with the task and adapter as they are now (for the
    registry's own tests and for authors of registry files): task version, options, protocol,
    metrics, groups, aggregates, adapter settings."""
    from fdrbench.registry import ADAPTERS, TASKS

    out: list[str] = []
    task = TASKS.load_registered(target.task)(**target.task_args)
    if task.version != target.task_version:
        out.append(f"{target.name}: {target.task} is now v{task.version}, the target says v{target.task_version}")
    protocols = task.protocols()
    if target.protocol not in protocols:
        return [*out, f"{target.name}: {target.task} has no protocol {target.protocol!r}"]
    protocol = protocols[target.protocol]
    aggregates = {**task.aggregates, **protocol.aggregates}
    for entry in target.entries:
        if entry.metric not in protocol.metrics:
            out.append(f"{entry.id}: protocol {target.protocol!r} does not compute {entry.metric}")
        if entry.group is not None and entry.group[0] not in task.group_keys:
            out.append(f"{entry.id}: {target.task} has no group key {entry.group[0]!r}")
        if entry.aggregate is not None and entry.aggregate not in aggregates:
            out.append(f"{entry.id}: no aggregate {entry.aggregate!r} (there are {', '.join(aggregates) or 'none'})")
    parameters = inspect.signature(ADAPTERS.load_registered(target.model.adapter)).parameters
    for name in target.model.run_args():
        if name not in parameters:
            out.append(f"{target.name}: adapter {target.model.adapter} has no setting {name!r}")
    return out
