"""``robustness.json`` as a type: one detector's sweep of a perturbation preset against its clean run.

Written by ``fdrbench robustness`` beside the runs it summarises (:data:`ROBUSTNESS_DIR`), read by
``fdrbench validate`` and the leaderboard's Robustness page; imported from :mod:`fdrbench.results`.
Runs are named by run id only: the folders are ``<results>/<task>/<model>/<run_id>``, next to the
``robustness`` folder, so a file can never point a reader anywhere else.
"""

from __future__ import annotations

import msgspec

from fdrbench.contract import Contract, Entry, ScoreInfo, entry_problems

ROBUSTNESS_DIR = "robustness"  # <results>/<task>/<model>/robustness/<preset>-<hash>.json, beside the runs


class ConditionRun(msgspec.Struct, kw_only=True):
    """One condition of a sweep: the run folder beside the file (by run id) and the scores it was read from."""

    condition: str  # "clean", or the preset member's short name
    name: str | None = None  # the member's full name, preset/member
    spec: str | None = None  # the canonical spec (None: the clean run)
    hash: str | None = None
    run_id: str
    scores_sha256: str


class Change(msgspec.Struct, kw_only=True):
    """A headline metric under one condition: the run's own value and the paired difference to clean."""

    value: float | None
    ci: list[float] | None
    n: int
    diff: float | None
    diff_ci: list[float] | None
    p_value: float | None
    test: str
    significant: bool


class MetricRobustness(msgspec.Struct):
    clean: Entry
    conditions: dict[str, Change]


class Stability(msgspec.Struct, kw_only=True):
    """How a condition changes the detector's own answers: verdict flips, and its explanation
    scored against its clean explanation (ROUGE-L, CSS)."""

    n: int  # shared samples with a verdict in both runs
    n_flipped: int
    to_real: int
    to_fake: int
    n_lost: int  # a verdict on the clean image, none on the perturbed one
    flip_rate: Entry
    n_explained: int  # samples with a clean explanation
    rouge_l: Entry
    css: Entry
    unavailable: dict[str, str] = msgspec.field(default_factory=dict)


class ProtocolRobustness(msgspec.Struct):
    metrics: dict[str, MetricRobustness]
    stability: dict[str, Stability]


class Robustness(Contract, kw_only=True):
    """``robustness.json``: one detector's headline metrics under a preset's conditions against its
    clean run, paired differences, and the stability of its verdicts and explanations."""

    FILE = "robustness.json"
    WHAT = "robustness file"

    schema_version: int
    task: str
    task_version: str
    model: str
    preset: str
    description: str
    readings: str = ""
    data_fingerprint: str  # of the clean samples, shared by every condition
    created: str
    settings: ScoreInfo
    headline_metrics: list[str]
    runs: list[ConditionRun]  # the clean run first, then the members in the preset's order
    protocols: dict[str, ProtocolRobustness]

    def conditions(self) -> list[str]:
        return [r.condition for r in self.runs[1:]]

    def problems(self) -> list[str]:
        from fdrbench.errors import RegistryError
        from fdrbench.metrics.registry import get_metric

        out = []
        if not self.runs or self.runs[0].condition != "clean" or self.runs[0].spec is not None:
            out.append("'runs' must start with the clean run (condition 'clean', no spec)")
        names = self.conditions()
        if len(set(names)) != len(names) or "clean" in names or any(r.spec is None for r in self.runs[1:]):
            out.append("'runs' after the first must be perturbed conditions with distinct names")
        for pname, block in self.protocols.items():
            for metric, entry in block.metrics.items():
                try:
                    bounded = get_metric(metric).bounded
                except RegistryError:
                    bounded = True
                where = f"protocols.{pname}.metrics.{metric}"
                out.extend(entry_problems(entry.clean, f"{where}.clean", bounded))
                if sorted(entry.conditions) != sorted(names):
                    out.append(f"{where}: conditions {sorted(entry.conditions)} are not the runs' {sorted(names)}")
                for name, change in entry.conditions.items():
                    out.extend(entry_problems(Entry(change.value, change.ci), f"{where}.conditions.{name}", bounded))
                    out.extend(_change_problems(change, f"{where}.conditions.{name}", bounded))
            if sorted(block.stability) != sorted(names):
                out.append(f"protocols.{pname}.stability: conditions {sorted(block.stability)} are not the runs' {sorted(names)}")
            for name, st in block.stability.items():
                where = f"protocols.{pname}.stability.{name}"
                for field in ("flip_rate", "rouge_l", "css"):
                    out.extend(entry_problems(getattr(st, field), f"{where}.{field}", True))
                if min(st.n, st.n_flipped, st.to_real, st.to_fake, st.n_lost, st.n_explained) < 0:
                    out.append(f"{where}: counts must not be negative")
                if st.n_flipped > st.n or st.to_real + st.to_fake != st.n_flipped:
                    out.append(f"{where}: n_flipped {st.n_flipped} must be to_real + to_fake and at most n {st.n}")
        return out


def _change_problems(change: Change, where: str, bounded: bool) -> list[str]:
    out = []
    top = 1.0 if bounded else float("inf")
    for name, value in (("diff", change.diff), *(("diff_ci", v) for v in change.diff_ci or ())):
        if value is not None and (value != value or abs(value) > top):
            out.append(f"{where}.{name} {value} is outside [-{top:g}, {top:g}]")
    if change.diff_ci is not None and (len(change.diff_ci) != 2 or change.diff_ci[0] > change.diff_ci[1]):
        out.append(f"{where}.diff_ci {change.diff_ci} is not an interval")
    if change.p_value is not None and not 0.0 <= change.p_value <= 1.0:
        out.append(f"{where}.p_value {change.p_value} is not in [0, 1]")
    if change.n < 0:
        out.append(f"{where}.n must not be negative")
    return out
