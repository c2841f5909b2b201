"""``fdrbench validate`` of ``robustness.json`` files: a results root's, or one given by its path.

A robustness file is untrusted like a run folder. It is checked, one report per file:

* ``robustness`` - it follows the contract (:class:`fdrbench.results.Robustness`); it lies in
  ``<task>/<model>/robustness/`` and names that task and model; every run it names (by run id,
  a plain folder name) is a complete run folder beside it, of that task and model, under the
  perturbation the file says (none for the clean run), on the clean run's samples; the runs'
  ``scores.json`` are the ones it was computed from (their sha256); and computing it again from
  those runs gives the same file (all but its ``created`` time).
* ``portable`` - (``--portable``) no absolute local path or secret, and nothing but robustness
  files in its folder.

The runs themselves are validated as runs. :func:`read_checked` is the lighter reading the
leaderboard uses: the contract and the file's place, without recomputing anything.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fdrbench.checks import Check, Report, diff_json
from fdrbench.errors import FdrbenchError, ResultsError
from fdrbench.results import ROBUSTNESS_DIR, ConditionRun, Robustness

CHECKS = ("robustness", "portable")


def place_problems(path: Path, robustness: Robustness) -> list[str]:
    """Where the file lies against what it says it is: ``<task>/<model>/robustness/<name>.json``."""
    path = Path(path)
    out = []
    if path.parent.name != ROBUSTNESS_DIR:
        out.append(f"a robustness file belongs in a '{ROBUSTNESS_DIR}' folder beside the runs, not in {path.parent.name!r}")
    if robustness.model != path.parent.parent.name:
        out.append(f"'model' is {robustness.model!r} but the file lies in the model folder {path.parent.parent.name!r}")
    if robustness.task != path.parent.parent.parent.name:
        out.append(f"'task' is {robustness.task!r} but the file lies in the task folder {path.parent.parent.parent.name!r}")
    return out


def read_checked(path: Path) -> Robustness:
    """The file as the contract's type, refused (ResultsError, one line) when malformed or misplaced."""
    robustness = Robustness.read(Path(path))
    found = place_problems(path, robustness)
    if found:
        raise ResultsError(f"{path}: {found[0]}")
    return robustness


def _run_problems(path: Path, robustness: Robustness, ref: ConditionRun) -> list[str]:
    """Problems of one run the file names, against what the file says about it."""
    from fdrbench.robustness import run_dir

    try:
        run = run_dir(path.parent.parent, ref.run_id)
        manifest = run.manifest()
    except FdrbenchError as exc:
        return [f"condition {ref.condition!r}: run {ref.run_id!r} cannot be read ({str(exc).splitlines()[0]})"]
    where = f"condition {ref.condition!r}: run {ref.run_id!r}"
    out = []
    if (manifest.task, manifest.model, manifest.status) != (robustness.task, robustness.model, "complete"):
        out.append(
            f"{where} is {manifest.model} on {manifest.task} ({manifest.status}); the file is about a complete run of {robustness.model} on {robustness.task}"
        )
    info = manifest.perturbation
    said = (ref.spec, ref.hash, ref.name)
    held = (info.spec, info.hash, info.name) if info else (None, None, None)
    if said != held:
        out.append(
            f"{where} is perturbed by {held[0] or 'nothing'} ({held[2] or 'no preset member'}), not {ref.spec or 'nothing'} as the file says"
        )
    clean = info.clean_fingerprint if info else manifest.data_fingerprint
    if clean != robustness.data_fingerprint:
        out.append(
            f"{where} was made on other samples (clean fingerprint {clean[:16]}..., the file's {robustness.data_fingerprint[:16]}...)"
        )
    try:
        sha = hashlib.sha256(run.scores_path.read_bytes()).hexdigest()
    except OSError:
        sha = None
    if sha != ref.scores_sha256:
        out.append(
            f"{where}: its scores.json is not the one the file was computed from (re-run the same `fdrbench robustness` "
            "command: it reuses the finished runs and writes the file again)"
        )
    return out


def _rederive(path: Path, robustness: Robustness, check: Check) -> None:
    from fdrbench.robustness import analyse, sweep_of

    try:
        fresh = analyse(sweep_of(path, robustness), robustness.created, list(robustness.protocols))
    except (FdrbenchError, KeyError, TypeError, ValueError) as exc:
        check.fail(f"computing the file again from its runs failed: {str(exc).splitlines()[0]}")
        return
    stored = json.loads(Path(path).read_text(encoding="utf-8"))
    for difference in diff_json(stored, json.loads(json.dumps(fresh.to_json())), file=path.name, maker="the analysis of its runs"):
        check.fail(f"{path.name} does not match the analysis of its runs: {difference}")


def _portable_problems(path: Path) -> list[str]:
    from fdrbench import sanitise

    out = [
        f"{other.name}: unexpected file in a robustness folder (only <preset>-<hash>.json files)"
        for other in sorted(path.parent.iterdir())
        if other.suffix != ".json" or not other.is_file()
    ]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return out
    out.extend(f"{path.name}: {found}" for found in sanitise.value_findings(data))
    return out


def validate_robustness(path: Path, portable: bool = False, rederive: bool = True) -> Report:
    """Every check on one robustness file (never raises for a bad file)."""
    path = Path(path)
    report = Report(path)
    with Check(report, "robustness") as check:
        try:
            robustness = Robustness.read(path)
        except ResultsError as exc:
            check.fail(f"{path.name}: {str(exc).partition(': ')[2] or exc}")
            robustness = None
        if robustness is not None:
            for problem in place_problems(path, robustness):
                check.fail(f"{path.name}: {problem}")
            for ref in robustness.runs:
                for problem in _run_problems(path, robustness, ref):
                    check.fail(problem)
            if check.count == 0 and rederive:
                _rederive(path, robustness, check)
    if portable:
        with Check(report, "portable") as check:
            for problem in _portable_problems(path):
                check.fail(problem)
    return report
