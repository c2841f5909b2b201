"""What the Robustness page reads: every ``robustness.json`` under the results folder, and its tables and points.

Each file is read as the contract's type and checked to lie where it says it belongs
(:func:`fdrbench.validate_robustness.read_checked`); a file that fails is listed with its
reason and the rest are still shown. Files are grouped per benchmark, preset and clean data
(sweeps on other samples are not drawn together, as runs on other data are not ranked together),
and within a group each detector's newest file is shown. A file computed from scores that have
changed since is shown with a note (``fdrbench validate`` fails it). Kept free of Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fdrbench.leaderboard.tables import ci_text, shown
from fdrbench.results import Robustness, find_robustness

CLEAN = "clean"

#: what the page shows, in words both renderers (the app's view and the static site) print
ABOUT = (
    "Each detector's clean run against its runs on perturbed images (JPEG, resizing, noise, ...). "
    "Changes are paired differences on the same samples with bootstrap intervals; McNemar's test decides accuracy."
)
STABILITY = (
    "flip rate: share of samples whose verdict changed, among those with a verdict in both runs; lost: a verdict "
    "on the clean image, none on the perturbed one. ROUGE-L and CSS score each perturbed explanation against the "
    "same detector's clean explanation."
)


def change_caption(level: float) -> str:
    """How the drops table's change is computed, at confidence ``level`` (0.95)."""
    percent = int(round(100 * level))
    return (
        f"change = perturbed − clean on the samples both runs score, in percentage points, with its {percent}% paired "
        f"bootstrap interval; 'significant' at the {100 - percent}% level by the metric's paired test."
    )


@dataclass
class SweepFile:
    path: str  # relative to the results folder
    robustness: Robustness
    stale: list[str] = field(default_factory=list)

    @property
    def model(self) -> str:
        return self.robustness.model


@dataclass
class Group:
    """The newest sweep of each detector for one benchmark, preset and clean data."""

    task: str
    preset: str
    fingerprint: str
    files: list[SweepFile]

    @property
    def label(self) -> str:
        return f"{self.preset} · data {self.fingerprint[:10]} · {len(self.files)} detector(s)"

    def protocols(self) -> list[str]:
        names = {p for f in self.files for p in f.robustness.protocols}
        return sorted(names, key=lambda p: (p != "strict", p != "paper", p))

    def metrics(self, protocol: str) -> list[str]:
        """The metrics some detector has under ``protocol``, in file order (accuracy when none has any)."""
        out: list[str] = []
        for f in self.files:
            block = f.robustness.protocols.get(protocol)
            out.extend(m for m in (block.metrics if block else {}) if m not in out)
        return out or ["accuracy"]

    def conditions(self) -> list[str]:
        """Clean first, then every detector's conditions in preset order."""
        return [CLEAN, *dict.fromkeys(c for f in self.files for c in f.robustness.conditions())]


def load(root: Path, index_runs: list[dict]) -> tuple[list[SweepFile], list[dict]]:
    """(readable files, ``{"path", "reason"}`` of the files that are not)."""
    from fdrbench.errors import FdrbenchError
    from fdrbench.validate_robustness import read_checked

    scores_sha = {run["path"]: (run.get("sha256") or {}).get("scores") for run in index_runs}
    found, invalid = [], []
    for path in find_robustness(root):
        rel = path.relative_to(root).as_posix()
        try:
            robustness = read_checked(path)
        except (FdrbenchError, OSError) as exc:
            message = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
            invalid.append({"path": rel, "reason": message.removeprefix(f"{path}: ").replace(str(path), rel)})
            continue
        model_dir = Path(rel).parent.parent.as_posix()
        stale = [
            f"run {ref.run_id} ({ref.condition}) has changed since this file was computed"
            for ref in robustness.runs
            if scores_sha.get(f"{model_dir}/{ref.run_id}") != ref.scores_sha256
        ]
        found.append(SweepFile(rel, robustness, stale))
    return found, invalid


def groups(files: list[SweepFile]) -> dict[str, list[Group]]:
    """Per benchmark, its groups (preset and clean data), each with one file per detector: the newest."""
    by_key: dict[tuple[str, str, str], dict[str, SweepFile]] = {}
    for f in files:
        r = f.robustness
        newest = by_key.setdefault((r.task, r.preset, r.data_fingerprint), {})
        old = newest.get(r.model)
        if old is None or (r.created, f.path) > (old.robustness.created, old.path):
            newest[r.model] = f
    out: dict[str, list[Group]] = {}
    for (task, preset, fingerprint), chosen in sorted(by_key.items()):
        out.setdefault(task, []).append(Group(task, preset, fingerprint, [chosen[m] for m in sorted(chosen)]))
    return out


def points(group: Group, protocol: str, metric: str) -> list[dict]:
    """One point per detector and condition (clean first): the value and its interval."""
    out = []
    for f, entry in _metric_of(group, protocol, metric):
        rows = [(CLEAN, entry.clean.value, entry.clean.ci)]
        rows += [(name, entry.conditions[name].value, entry.conditions[name].ci) for name in f.robustness.conditions()]
        for condition, value, ci in rows:
            if value is not None:
                low, high = ci if ci else (value, value)
                out.append({"run": f.model, "condition": condition, "value": value, "low": low, "high": high})
    return out


def _metric_of(group: Group, protocol: str, metric: str):
    """(file, its entry of ``metric`` under ``protocol``) for each detector that has one."""
    for f in group.files:
        block = f.robustness.protocols.get(protocol)
        entry = block.metrics.get(metric) if block else None
        if entry is not None:
            yield f, entry


def drops_table(group: Group, protocol: str, metric: str) -> pd.DataFrame:
    """Every detector and condition: the value, the paired difference to clean with its interval and p-value."""
    rows = []
    for f, entry in _metric_of(group, protocol, metric):
        specs = {ref.condition: ref.spec for ref in f.robustness.runs}
        for name in f.robustness.conditions():
            change = entry.conditions[name]
            rows.append(
                {
                    "detector": f.model,
                    "condition": name,
                    "perturbation": specs.get(name),
                    "clean": shown(entry.clean.value, metric),
                    "perturbed": shown(change.value, metric),
                    "change": shown(change.diff, metric),
                    "CI of change": ci_text(change.diff_ci, metric),
                    "p": None if change.p_value is None else round(change.p_value, 4),
                    "test": change.test,
                    "significant": change.significant,
                    "n": change.n,
                }
            )
    return pd.DataFrame(rows)


def stability_table(group: Group, protocol: str) -> pd.DataFrame:
    """Every detector and condition: verdict flips and its explanations against its clean ones."""
    rows = []
    for f in group.files:
        block = f.robustness.protocols.get(protocol)
        for name, st in (block.stability if block else {}).items():
            rows.append(
                {
                    "detector": f.model,
                    "condition": name,
                    "verdicts compared": st.n,
                    "flipped": st.n_flipped,
                    "to real": st.to_real,
                    "to fake": st.to_fake,
                    "lost": st.n_lost,
                    "flip rate": shown(st.flip_rate.value),
                    "CI": ci_text(st.flip_rate.ci),
                    "ROUGE-L vs clean": shown(st.rouge_l.value, "rouge_l"),
                    "CSS vs clean": shown(st.css.value, "css"),
                    "not computed": "; ".join(sorted(set(st.unavailable.values()))),
                }
            )
    return pd.DataFrame(rows)
