"""The task of a stored run, re-created by registered name only, with its options checked.

Re-scoring, comparing, judging, validating and the leaderboard all need the task a run was made
on (its protocols, groups and parse rules). A results folder is untrusted, so nothing it names is
ever imported or called: ``manifest.task`` must be a registered task (built in, or an installed
package's ``fdrbench.tasks`` entry point), ``task_info.target`` is provenance only and must name
that same class, and ``task_info.options`` must be options the task declares, with plain values.
Options that name something on the user's machine or network (``Task.local_options``: a model
folder, a Hub dataset) are never taken from a stored run.

A run made with ``fdrbench run --task path/to/file.py:MyTask`` records ``task_info.registered:
false``; it re-scores once that class is registered under the run's task name.
"""

from __future__ import annotations

import math
from typing import Any

from fdrbench.api.task import Task
from fdrbench.errors import FdrbenchError, RegistryError, ResultsError
from fdrbench.registry import TASKS

ENTRY_POINT_GROUP = "fdrbench.tasks"


def _fail(where: object, reason: str) -> ResultsError:
    return ResultsError(f"{where}: {reason}" if where else reason)


def _plain_option(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, list) and all(v is None or isinstance(v, (str, bool, int)) for v in value)


def registered_task(name: object, where: object = None) -> Task:
    """A registered task with its default options; any other name is an error naming ``where``."""
    if TASKS.registered(name) is None:
        known = ", ".join(TASKS.names())
        raise _fail(
            where,
            f"unknown task {name!r}: a stored run must name a registered task (built in or an installed "
            f"'{ENTRY_POINT_GROUP}' entry point; known: {known}); nothing a results file names is imported",
        )
    try:
        task = TASKS.load_registered(str(name))()
    except (RegistryError, TypeError, ValueError) as exc:
        raise _fail(where, f"task {name!r} cannot be loaded: {exc}") from exc
    if not task.name:  # a registered class without a name of its own goes by its registered name
        task.name = str(name)
    return task


def task_options(task: Task, options: Any, where: object = None) -> dict[str, Any]:
    """The stored options the task may be re-created with: declared ones, plain values, none machine-local."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise _fail(where, f"task_info.options must be an object, got {type(options).__name__}")
    declared = set(task.accepted_options())
    unknown = sorted(str(k) for k in options if k not in declared)
    if unknown:
        raise _fail(where, f"task {task.name!r} declares no option(s) {unknown}; it accepts {sorted(declared) or 'none'}")
    for key, value in options.items():
        if not _plain_option(value):
            raise _fail(where, f"task option {key!r} must be a plain value (string, number, true/false, null), got {type(value).__name__}")
    return {k: v for k, v in options.items() if k not in task.local_options}


def _class_name(target: str) -> str:
    return target.rpartition(":")[2].rpartition(".")[2]


def task_for_run(manifest: Any, where: object = None) -> Task:
    """The task of a stored run (its :class:`~fdrbench.results.Manifest`); every refusal names ``where``."""
    name = manifest.task
    info = manifest.task_info
    target = info.target
    by_path = info.registered is False or (isinstance(target, str) and target.rpartition(":")[0].endswith(".py"))
    if by_path and TASKS.registered(name) is None:
        raise _fail(
            where,
            f"the run's task {name!r} was given as {target!r} when it was made, and is not registered; a stored run's "
            f"task is never imported from the path or module it names. Register that class as an entry point "
            f"(group '{ENTRY_POINT_GROUP}', name {name!r}) to re-score or publish the run",
        )
    task = registered_task(name, where)
    if isinstance(target, str) and target and _class_name(target) != type(task).__name__:
        raise _fail(
            where,
            f"task_info.target {target!r} does not name the class registered as task {name!r} "
            f"({type(task).__module__}:{type(task).__qualname__}); a stored run names its task by registered name only",
        )
    options = task_options(task, info.options, where)
    if not options:
        return task
    try:
        configured = type(task)(**options)
    except (FdrbenchError, TypeError, ValueError) as exc:  # a bad option value
        raise _fail(where, f"task {name!r} refuses the stored options ({exc})") from exc
    configured.name = task.name
    return configured
