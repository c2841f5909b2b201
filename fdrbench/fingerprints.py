"""Official data fingerprints: what a task's released data hashes to, per version and split.

``fdrbench validate`` must confirm that a run scored the task's current data, not a private
copy with edited labels or a different subset. The run's own fingerprint is recomputed from
the truths stored in its predictions; this module says what it should be:

1. with ``--data-dir``, by loading the task from that folder (same split, limit and seed);
2. else from the task's own ``official_fingerprints`` attribute, or the ``fingerprints.json``
   committed in the task's package (``Task.fingerprints_file()``), which hold full-split
   fingerprints per task version: ``{task: {version: {split: sha256}}}``;
3. else by loading the task from its default data folder, when the data is there or the task
   builds it itself.

Maintainers record an entry when a task version is released:
``python -m fdrbench.fingerprints TASK --data-dir D --split S --record`` writes it into the
task package's file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fdrbench.errors import FdrbenchError
from fdrbench.hashing import canonical_json
from fdrbench.record import Truth, fingerprint_items
from fdrbench.types import Sample


def fingerprint_truths(pairs: Iterable[tuple[str, Truth]]) -> str:
    """Hash of (sample id, annotations) pairs, independent of their order.

    Computed the same way from a task's loaded samples and from the truths stored in a run's
    predictions, so anyone can check that a run scored the data it claims to have scored.
    """
    digest = hashlib.sha256()
    for item in fingerprint_items(pairs):
        digest.update(canonical_json(item).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def fingerprint_samples(samples: Iterable[Sample]) -> str:
    return fingerprint_truths((s.id, Truth.of(s, include_mask=False)) for s in samples)


def public_fingerprint(samples: Iterable[Sample]) -> str:
    """Hash of what a blind run may know of its samples: their ids and questions, in id order.

    The same on the participant's side (the public release, or any copy with the truth ignored)
    and on the organiser's (the labelled copy), so a submission can be matched to the data it
    was made on without either side revealing or needing the labels.
    """
    digest = hashlib.sha256()
    for item in sorted([s.id, s.question] for s in samples):
        digest.update(canonical_json(item).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class Expected:
    """A fingerprint a run must match, and where it came from (shown to the user)."""

    fingerprint: str
    source: str


def read_fingerprints(source: Any) -> dict[str, dict[str, dict[str, str]]]:
    """A fingerprints file (a path, or a package resource, so it is found inside a zipped wheel
    too), ``{task: {version: {split: sha256}}}``; empty when there is none."""
    if source is None or not source.is_file():
        return {}
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FdrbenchError(f"{source}: the fingerprints file is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise FdrbenchError(f"{source}: the fingerprints file must map task -> version -> split -> sha256")
    return data


def committed(task: Any) -> dict[str, dict[str, dict[str, str]]]:
    """The fingerprints file committed in ``task``'s package, read (empty when it has none)."""
    return read_fingerprints(task.fingerprints_file())


def official(task: Any, version: str, split: str, table: dict | None = None) -> str | None:
    """The released full-split fingerprint of ``task`` (a Task) at ``version``, or None if unknown;
    ``table`` is :func:`committed` for the task, when the caller has read it already."""
    own = task.official_fingerprints
    found = (own.get(version) or {}).get(split)
    if found:
        return found
    table = committed(task) if table is None else table
    return ((table.get(task.name) or {}).get(version) or {}).get(split)


def compute(task: Any, data_dir: Path | None, split: str, limit: int | None, seed: int) -> str:
    """Fingerprint of the samples the task loads (``data_dir`` None: its default folder)."""
    return fingerprint_samples(task.load(data_dir, split, limit, seed))


def expected_for(manifest: Any, task: Any, data_dir: Path | None = None) -> list[Expected]:
    """Every fingerprint the run described by ``manifest`` must match (at least one, or an error).

    Raises FdrbenchError saying how to make the check possible when no source is available.
    """
    from fdrbench.errors import DataError

    split = manifest.task_info.split or task.default_split
    limit = manifest.task_info.limit
    seed = manifest.settings.seed
    out: list[Expected] = []
    if data_dir is not None:
        out.append(Expected(compute(task, Path(data_dir), split, limit, seed), f"the data at {data_dir}"))
    registered = official(task, task.version, split) if limit is None else None
    if registered:
        out.append(Expected(registered, f"the official fingerprints ({task.name} v{task.version}, split {split})"))
    if out:
        return out
    try:
        return [Expected(compute(task, None, split, limit, seed), f"the data in {task.default_data_dir()}")]
    except DataError as exc:
        subset = f", limit {limit}" if limit is not None else ""
        raise FdrbenchError(
            f"cannot check the data fingerprint: no official fingerprint is registered for {task.name} v{task.version} "
            f"split {split}{subset}, and the data is not available ({str(exc).splitlines()[0]}); pass --data-dir"
        ) from exc


def record(task_name: str, version: str, split: str, fingerprint: str, path: Path) -> Path:
    """Add or replace one entry of a fingerprints file, keeping the file sorted and stable for review."""
    table = read_fingerprints(path)
    table.setdefault(task_name, {}).setdefault(version, {})[split] = fingerprint
    ordered = {t: {v: dict(sorted(s.items())) for v, s in sorted(vs.items())} for t, vs in sorted(table.items())}
    path.write_text(json.dumps(ordered, indent=2) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    """Print (and with ``--record`` commit into its package's fingerprints.json) the fingerprint of a task split."""
    from fdrbench.registry import TASKS

    parser = argparse.ArgumentParser(prog="python -m fdrbench.fingerprints", description=main.__doc__)
    parser.add_argument("task")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--split", default=None)
    parser.add_argument("--record", action="store_true", help="write the value into the task package's fingerprints.json")
    args = parser.parse_args(argv)
    task = TASKS.load(args.task)()
    split = args.split or task.default_split
    value = compute(task, args.data_dir, split, None, 0)
    print(f"{task.name} v{task.version} {split}: {value}")
    if args.record:
        target = task.fingerprints_file()
        if target is None:
            raise SystemExit(f"error: task {task.name!r} is not defined in a package; there is no fingerprints.json to record into")
        print(f"recorded in {record(task.name, task.version, split, value, Path(str(target)))}")


if __name__ == "__main__":  # pragma: no cover
    main()
