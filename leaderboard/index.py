"""``results/index.json``: the summary the leaderboard's overview reads instead of every run.

One entry per run folder, built from its ``manifest.json`` and ``scores.json`` only (identity,
data fingerprint, perturbation, overall and aggregate metrics per protocol, the two files' sha256), plus the
paired tests between runs that the rank ties need, which do read predictions and so are
computed once here (by ``fdrbench submit``) and not on every page view.

The file is deterministic (no timestamps, sorted) so it can be committed and reviewed. The app
checks it against the run folders by hashing their manifests and scores; when they differ it
rebuilds the summaries in memory, keeps the paired results whose runs did not change, and says
so. ``python -m fdrbench.leaderboard.index [RESULTS]`` or ``fdrbench leaderboard
--rebuild-index`` rebuilds it on disk.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdrbench.errors import FdrbenchError, ResultsError
from fdrbench.results import Manifest, RunDir, Scores, find_runs
from fdrbench.run_task import registered_task
from fdrbench.store import MANIFEST, SCORES, write_json_atomic

INDEX_NAME = "index.json"
SCHEMA = 1


def _sha256(path: Path) -> str | None:
    """The file's hash, or None when it is not a readable regular file."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    except OSError:
        return None


def summarise(results_root: Path, run_dir: Path) -> dict:
    """The index entry of one run folder, from its manifest and scores (read as the contract's types)."""
    import msgspec

    run = RunDir(run_dir)
    manifest_bytes = run.manifest_path.read_bytes()
    manifest = Manifest.from_json(manifest_bytes, where=str(run.manifest_path))
    if not run.scores_path.is_file():
        raise ResultsError(f"{run_dir}: no {SCORES} (the run has not been scored)")
    scores_bytes = run.scores_path.read_bytes()
    scores = Scores.from_json(scores_bytes, where=str(run.scores_path))
    info = manifest.task_info
    protocols = {
        name: {
            "description": block.protocol.description,
            "n": block.n,
            "n_failed": block.n_failed,
            "overall": msgspec.to_builtins(block.overall),
            "aggregates": msgspec.to_builtins(block.aggregates),
        }
        for name, block in scores.protocols.items()
    }
    entry = {
        "path": run_dir.relative_to(results_root).as_posix(),
        "task": manifest.task,
        "task_version": info.version,
        "model": manifest.model,
        "run_id": manifest.run_id,
        "status": manifest.status,
        "partial": scores.partial,
        "created": manifest.created,
        "split": info.split,
        "limit": info.limit,
        "n_samples": info.n_samples,
        "data_fingerprint": manifest.data_fingerprint,
        "adapter": manifest.adapter.target or manifest.adapter.name,
        "fdrbench_version": manifest.fdrbench.version,
        "commit": manifest.fdrbench.commit,
        # the task's own keys, then those its scores gained from generator metadata (generator_family, ...)
        "group_keys": list(dict.fromkeys([*info.group_keys, *(k for b in scores.protocols.values() for k in b.groups)])),
        "headline_metrics": list(scores.headline_metrics),
        "ci_level": scores.settings.ci_level,
        "n_boot": scores.settings.n_boot,
        "protocols": protocols,
        "sha256": {"manifest": hashlib.sha256(manifest_bytes).hexdigest(), "scores": hashlib.sha256(scores_bytes).hexdigest()},
    }
    pert = manifest.perturbation
    if pert is not None:  # a clean run's entry has no such key
        entry["perturbation"] = {"spec": pert.spec, "hash": pert.hash, "name": pert.name, "clean_fingerprint": pert.clean_fingerprint}
    return entry


def _official_flags(entries: list[dict]) -> None:
    """Mark each entry True/False when its task has a registered fingerprint for its split, else None
    (a perturbed run: when its clean fingerprint is the registered one)."""
    from fdrbench import fingerprints

    tasks: dict[str, Any] = {}
    for entry in entries:
        entry["official"] = None
        name = entry["task"]
        if name not in tasks:
            try:
                task = registered_task(name)
                tasks[name] = (task, fingerprints.committed(task))
            except FdrbenchError:
                tasks[name] = None
        if tasks[name] is None or entry.get("limit") is not None:
            continue
        task, table = tasks[name]
        expected = fingerprints.official(task, entry["task_version"], str(entry.get("split")), table)
        if expected:
            clean = (entry.get("perturbation") or {}).get("clean_fingerprint", entry.get("data_fingerprint"))
            entry["official"] = expected == clean


def perturbation_hash(entry: dict) -> str | None:
    """The hash of an entry's perturbation, None for a run on clean images."""
    return (entry.get("perturbation") or {}).get("hash")


PAIR_KEYS = ("protocol", "metric", "a", "a_sha", "b", "b_sha")


def pair_key(pair: dict) -> tuple:
    return tuple(pair[k] for k in PAIR_KEYS)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def pair_ok(pair: object) -> bool:
    """A stored paired result the pages can use: its keys are strings and its numbers are numbers."""
    if not isinstance(pair, dict) or not all(isinstance(pair.get(k), str) for k in PAIR_KEYS):
        return False
    ci = pair.get("ci")
    return (
        isinstance(pair.get("separated"), (bool, type(None)))
        and isinstance(pair.get("test", ""), str)
        and all(pair.get(k) is None or _is_number(pair.get(k)) for k in ("diff", "p_value", "value_a", "value_b"))
        and (ci is None or (isinstance(ci, list) and len(ci) == 2 and all(_is_number(c) for c in ci)))
    )


def _wanted(entries: list[dict]) -> list[tuple[str, str, dict, dict]]:
    """(protocol, metric, run a, run b) whose ranking a paired test can decide.

    Only the runs the overview shows (each detector's newest in each cohort), only metrics both
    runs report as headline, and only pairs whose confidence intervals overlap: where they do
    not, the intervals already separate the two.
    """
    from fdrbench.leaderboard.ranking import ci_separated, cohorts, latest_per_model, metric_entry

    out = []
    for groups in cohorts(entries).values():
        for cohort in groups:
            shown = latest_per_model(cohort.runs)
            for a, b in itertools.combinations(sorted(shown, key=lambda r: r["path"]), 2):
                shared = sorted(set(a["protocols"]) & set(b["protocols"]))
                metrics = [m for m in a.get("headline_metrics") or [] if m in (b.get("headline_metrics") or [])]
                for protocol in shared:
                    for metric in metrics:
                        ea, eb = metric_entry(a, protocol, metric), metric_entry(b, protocol, metric)
                        if not ea or not eb or ea.get("value") is None or eb.get("value") is None or not ea.get("ci") or not eb.get("ci"):
                            continue
                        if not ci_separated(ea, eb):
                            out.append((protocol, metric, a, b))
    return out


def compute_pairs(results_root: Path, entries: list[dict], previous: list[dict] = (), compute: bool = True, progress: bool = False):
    """Paired results for every wanted pair: reused from ``previous`` when both runs are unchanged.

    Returns (pairs, missing): with ``compute`` False the pairs not in ``previous`` are listed in
    ``missing`` instead of computed (the app and the staleness check use this).
    """
    from fdrbench.progress import progress_bar

    known = {pair_key(p): p for p in previous or () if pair_ok(p)}
    wanted = _wanted(entries)
    frames: dict[tuple[str, str], Any] = {}
    pairs, missing = [], []
    todo = []
    for protocol, metric, a, b in wanted:
        key = (protocol, metric, a["path"], a["sha256"]["scores"], b["path"], b["sha256"]["scores"])
        if key in known:
            pairs.append(known[key])
        elif compute:
            todo.append((key, protocol, metric, a, b))
        else:
            missing.append(key)
    if todo:
        from fdrbench.metrics.registry import get_metric
        from fdrbench.paired import SharedSamples, compare_metric, load_scored, summary
        from fdrbench.scoring import prepare_metrics

        needed: dict[tuple[str, str], set[str]] = {}
        for _, protocol, metric, a, b in todo:
            for run in (a, b):
                needed.setdefault((run["path"], protocol), set()).add(metric)
        shared: dict[tuple, SharedSamples] = {}

        def frame(run: dict, protocol: str):
            """Loaded once per run and protocol, prepared, then without its raw records (memory)."""
            key = (run["path"], protocol)
            if key not in frames:
                scored = load_scored(results_root / run["path"], protocol)
                prepare_metrics(scored.frame, [get_metric(m) for m in sorted(needed[key])])
                scored.frame.records = []
                frames[key] = scored
            return frames[key]

        with progress_bar(len(todo), "paired tests", enabled=progress) as bar:
            for key, protocol, metric, a, b in todo:
                level = float(a.get("ci_level") or 0.95)
                n_boot = int(min(a.get("n_boot") or 1000, b.get("n_boot") or 1000))
                ids = {"protocol": protocol, "metric": metric, "a": key[2], "a_sha": key[3], "b": key[4], "b_sha": key[5]}
                cohort = (a["task"], a["task_version"], a["data_fingerprint"], perturbation_hash(a), protocol, n_boot, level)
                try:
                    fa, fb = frame(a, protocol), frame(b, protocol)
                    same = shared.setdefault(cohort, SharedSamples(n_boot, level=level))
                    if same.accepts(fa) and same.accepts(fb):
                        result = same.compare(metric, fa, fb)
                    else:
                        result = compare_metric(metric, fa, fb, n_boot=n_boot, level=level, interval=False, prepared=True)
                except FdrbenchError as exc:
                    # e.g. a protocol the installed task no longer defines: the rank falls back to CIs
                    pairs.append({**ids, "separated": None, "error": str(exc)})
                    bar.advance()
                    continue
                pairs.append({**ids, **summary(result), "n_boot": n_boot, "level": level})
                bar.advance()
    pairs.sort(key=pair_key)
    return pairs, missing


def build_index(results_root: Path, previous: dict | None = None, pairs: bool = True, progress: bool = False) -> dict:
    """The index of every run under ``results_root``; paired tests computed unless ``pairs`` is False."""
    results_root = Path(results_root)
    entries, unreadable = [], []
    for run in find_runs(results_root):
        try:
            entries.append(summarise(results_root, run.path))
        except (FdrbenchError, OSError) as exc:
            unreadable.append({"path": run.path.relative_to(results_root).as_posix(), "reason": str(exc), "sha256": _hashes(run.path)})
    _official_flags(entries)
    stored_pairs = (previous or {}).get("pairs")
    found, missing = compute_pairs(
        results_root, entries, stored_pairs if isinstance(stored_pairs, list) else [], compute=pairs, progress=progress
    )
    index = {"schema": SCHEMA, "runs": entries, "unreadable": unreadable, "pairs": found}
    if missing:
        index["missing_pairs"] = len(missing)
    return index


def read_index(results_root: Path) -> dict | None:
    path = Path(results_root) / INDEX_NAME
    if not path.is_file():
        return None
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return index if isinstance(index, dict) and index.get("schema") == SCHEMA else None


def write_index(results_root: Path, index: dict) -> Path:
    path = Path(results_root) / INDEX_NAME
    write_json_atomic(path, index)
    return path


def update_index(results_root: Path, progress: bool = False) -> Path:
    """Rebuild ``index.json`` on disk, reusing the paired results of unchanged runs."""
    return write_index(results_root, build_index(results_root, read_index(results_root), pairs=True, progress=progress))


def _hashes(run_dir: Path) -> dict[str, str | None]:
    return {"manifest": _sha256(run_dir / MANIFEST), "scores": _sha256(run_dir / SCORES) if (run_dir / SCORES).is_file() else None}


def current_hashes(results_root: Path) -> dict[str, dict[str, str | None]]:
    """``{run path: {"manifest": sha, "scores": sha or None}}`` for every run folder."""
    return {run.path.relative_to(results_root).as_posix(): _hashes(run.path) for run in find_runs(results_root)}


@dataclass
class Loaded:
    """The index the app shows, and why it is not the file on disk when it is not."""

    index: dict
    stale: list[str] = field(default_factory=list)


def load_index(results_root: Path) -> Loaded:
    """The index of the run folders as they are, with the paired results ``index.json`` holds for them.

    Reads only ``index.json``, manifests and scores (never predictions). The run entries are always
    rebuilt from the run folders (an index file is untrusted and may be stale); only its paired
    results are reused, for runs whose scores are unchanged. Missing paired results are left out
    and those ranks fall back to confidence intervals.
    """
    results_root = Path(results_root)
    stored = read_index(results_root)
    index = build_index(results_root, stored, pairs=False)
    notes = []
    if stored is None:
        notes.append("no index.json")
    elif any(json.loads(json.dumps(index.get(key))) != stored.get(key) for key in ("runs", "unreadable", "pairs")):
        notes.append("index.json is out of date with the run folders")
    if index.get("missing_pairs"):
        notes.append(f"{index['missing_pairs']} paired tests are not computed, so those ties use confidence intervals")
    return Loaded(index, notes)


def index_problems(results_root: Path) -> list[str]:
    """Why ``index.json`` is not an exact, complete index of the run folders (empty when it is)."""
    stored = read_index(results_root)
    if stored is None:
        return [f"{Path(results_root) / INDEX_NAME} is missing or unreadable; rebuild it with `fdrbench leaderboard --rebuild-index`"]
    fresh = build_index(results_root, stored, pairs=False)
    problems = []
    if fresh.get("missing_pairs"):
        problems.append(f"{fresh['missing_pairs']} paired tests are missing from the index")
    for key in ("runs", "unreadable", "pairs"):
        if json.loads(json.dumps(fresh.get(key))) != stored.get(key):
            problems.append(f"index.json '{key}' does not match the run folders")
    if problems:
        problems.append("rebuild it with `fdrbench leaderboard --rebuild-index` (or submit runs with `fdrbench submit`)")
    return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fdrbench.leaderboard.index", description="Rebuild results/index.json.")
    parser.add_argument("results", nargs="?", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    print(f"wrote {update_index(args.results, progress=True)}")


if __name__ == "__main__":  # pragma: no cover
    main()
