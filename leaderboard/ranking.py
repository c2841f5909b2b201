"""Which runs may be ranked together, and their ranks with ties.

Runs are comparable only when they scored the same data: the same task version, the same
data fingerprint (which also differs for another split or a ``--limit`` subset) and the same
perturbation (``--perturb``; none for clean images). Each task's runs fall into cohorts of equal
fingerprints and perturbations; the *reference* cohort (clean images, then the official data
where a fingerprint is registered, the newest task version, the full split, the most runs) is
the one the overview ranks, and every other cohort is shown apart with the reason.

A detector's rank is 1 + the number of detectors that are *significantly* better on the
chosen metric: by a paired test where the index holds one (McNemar for accuracy, paired
bootstrap otherwise), else by non-overlapping confidence intervals. Detectors that share a
rank are tied and marked ``=``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

RULES = {
    "paired": "paired tests where computed, otherwise non-overlapping confidence intervals",
    "ci": "non-overlapping confidence intervals only",
}


def higher_is_better(metric: str) -> bool:
    """The metric record's direction; a metric no installed family defines is taken as higher-is-better."""
    from fdrbench.errors import RegistryError
    from fdrbench.metrics import get_metric

    try:
        return get_metric(metric).higher_is_better
    except RegistryError:
        return True


def complete(entry: dict) -> bool:
    return entry.get("status") == "complete" and not entry.get("partial")


@dataclass
class Cohort:
    """Complete runs of one task on identical data."""

    task: str
    task_version: str
    fingerprint: str
    split: str | None
    limit: int | None
    official: bool | None
    runs: list[dict] = field(default_factory=list)
    reference: bool = False
    why: str | None = None
    #: the runs' perturbation (spec, hash, name), None for clean images
    perturbation: dict | None = None

    @property
    def label(self) -> str:
        subset = f", {self.limit} samples" if self.limit is not None else ""
        return f"v{self.task_version} {self.split}{subset} · data {self.fingerprint[:10]}{perturbation_label(self.perturbation, ' · ')}"


def perturbation_label(perturbation: dict | None, prefix: str = "") -> str:
    """``perturbed: jpeg:q=70 (fakevlm_t7/jpeg70)`` for a perturbed cohort, nothing for clean images."""
    if not perturbation:
        return ""
    name = perturbation.get("name")
    return f"{prefix}perturbed: {perturbation.get('spec')}" + (f" ({name})" if name else "")


def _pert_hash(cohort: Cohort) -> str | None:
    return cohort.perturbation.get("hash") if cohort.perturbation else None


def _pert_text(cohort: Cohort) -> str:
    return perturbation_label(cohort.perturbation).removeprefix("perturbed: ") or "none"


def _reference_order(cohort: Cohort) -> tuple:
    newest = max((r.get("created") or "" for r in cohort.runs), default="")
    version = tuple(int(p) if p.isdigit() else 0 for p in str(cohort.task_version).split("."))
    return (cohort.perturbation is None, cohort.official is True, version, cohort.limit is None, len(cohort.runs), newest)


def reason(cohort: Cohort, ref: Cohort) -> str:
    """Why ``cohort`` is not ranked together with the reference cohort ``ref``."""
    parts = []
    if _pert_hash(cohort) != _pert_hash(ref):
        parts.append(f"images perturbed by {_pert_text(cohort)} (ranked runs: {_pert_text(ref)})")
    if cohort.task_version != ref.task_version:
        parts.append(f"task version {cohort.task_version} (ranked runs: {ref.task_version})")
    if cohort.split != ref.split:
        parts.append(f"split {cohort.split!r} (ranked runs: {ref.split!r})")
    if cohort.limit != ref.limit:
        mine = "the full split" if cohort.limit is None else f"a subset of {cohort.limit} samples"
        theirs = "the full split" if ref.limit is None else f"a subset of {ref.limit}"
        parts.append(f"{mine} (ranked runs: {theirs})")
    if not parts:
        parts.append("different annotations or sample list")
    if cohort.official is False:
        parts.append("not the official data of this task version")
    robustness = " The Robustness page sets perturbed runs against their clean runs." if cohort.perturbation else ""
    return (
        f"data fingerprint {cohort.fingerprint[:10]} differs from the ranked runs' {ref.fingerprint[:10]}: "
        + "; ".join(parts)
        + ". Scores on different data are not comparable, so these runs are ranked only among themselves."
        + robustness
    )


def cohorts(entries: Iterable[dict]) -> dict[str, list[Cohort]]:
    """Complete runs grouped per task into cohorts; the reference cohort first."""
    by_task: dict[str, dict[tuple, Cohort]] = {}
    for entry in entries:
        if not complete(entry):
            continue
        pert = entry.get("perturbation") if isinstance(entry.get("perturbation"), dict) else None
        key = (str(entry.get("task_version")), str(entry.get("data_fingerprint")), str((pert or {}).get("hash")))
        groups = by_task.setdefault(entry["task"], {})
        if key not in groups:
            groups[key] = Cohort(
                entry["task"], key[0], key[1], entry.get("split"), entry.get("limit"), entry.get("official"), perturbation=pert
            )
        groups[key].runs.append(entry)
    out = {}
    for task in sorted(by_task):
        ordered = sorted(by_task[task].values(), key=_reference_order, reverse=True)
        ordered[0].reference = True
        for other in ordered[1:]:
            other.why = reason(other, ordered[0])
        out[task] = ordered
    return out


def incomplete(entries: Iterable[dict]) -> list[dict]:
    return [e for e in entries if not complete(e)]


def latest_per_model(runs: Iterable[dict]) -> list[dict]:
    """One run per detector: its newest (the overview shows one row per detector)."""
    best: dict[str, dict] = {}
    for run in runs:
        old = best.get(run["model"])
        if old is None or (run.get("created") or "", run["run_id"]) > (old.get("created") or "", old["run_id"]):
            best[run["model"]] = run
    return [best[m] for m in sorted(best)]


def metric_entry(run: dict, protocol: str, metric: str) -> dict | None:
    return (((run.get("protocols") or {}).get(protocol) or {}).get("overall") or {}).get(metric)


def ci_separated(a: dict | None, b: dict | None) -> bool:
    """True when both intervals exist and do not overlap."""
    if not a or not b or not a.get("ci") or not b.get("ci"):
        return False
    return a["ci"][0] > b["ci"][1] or b["ci"][0] > a["ci"][1]


def pair_lookup(pairs: Iterable[dict], protocol: str, metric: str) -> dict[frozenset, dict]:
    """Paired results of one protocol and metric, keyed by the two runs' (path, scores hash)."""
    out = {}
    for pair in pairs:
        if pair.get("protocol") == protocol and pair.get("metric") == metric:
            out[frozenset({(pair["a"], pair["a_sha"]), (pair["b"], pair["b_sha"])})] = pair
    return out


def _key(run: dict) -> tuple[str, str]:
    return (run["path"], (run.get("sha256") or {}).get("scores", ""))


@dataclass
class Ranked:
    run: dict
    value: float | None
    ci: list[float] | None
    rank: int | None
    tied: bool
    #: models not separated from this one, with the rule that said so
    not_separated: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.rank is None:
            return "—"
        return f"={self.rank}" if self.tied else str(self.rank)


def rank_runs(runs: list[dict], protocol: str, metric: str, pairs: Iterable[dict] = (), rule: str = "paired") -> list[Ranked]:
    """Ranks with ties (see the module docstring); runs without a value come last, unranked."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    lookup = pair_lookup(pairs, protocol, metric) if rule == "paired" else {}
    up = higher_is_better(metric)
    rows = []
    for run in runs:
        entry = metric_entry(run, protocol, metric) or {}
        rows.append(Ranked(run, entry.get("value"), entry.get("ci"), None, False))
    valued = [r for r in rows if r.value is not None]

    def separated(x: Ranked, y: Ranked) -> bool:
        pair = lookup.get(frozenset({_key(x.run), _key(y.run)}))
        if pair is not None and pair.get("separated") is not None:
            return bool(pair.get("separated"))
        return ci_separated({"ci": x.ci}, {"ci": y.ci})

    for row in valued:
        better = 0
        for other in valued:
            if other is row:
                continue
            if not separated(row, other):
                row.not_separated.append(other.run["model"])
            elif (other.value > row.value) if up else (other.value < row.value):
                better += 1
        row.rank = 1 + better
    for row in valued:
        row.tied = any(o is not row and o.rank == row.rank for o in valued)
    valued.sort(key=lambda r: (r.rank, -r.value if up else r.value, r.run["model"]))
    return valued + [r for r in rows if r.value is None]
