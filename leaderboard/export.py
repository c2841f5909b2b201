"""``fdrbench leaderboard export``: the leaderboard as a static site, a folder of HTML and JSON.

The pages are the Streamlit app's tables and rankings (``tables``, ``ranking``, ``heatmap``,
``robustness``, ``reproduction``) rendered by :mod:`render_html` instead of Streamlit: one implementation, two
renderers. The exporter reads the index (manifests and scores), each run's ``scores.json`` and the
``robustness.json`` files, never a prediction file, so a large results folder exports in seconds. The site has no script
and no external reference; it works opened from disk with the network off.

The site is written to a staging folder beside ``--out`` and moved into place when complete,
so a failed export leaves the previous site as it was. ``--out`` must be empty, absent, or a
site this command wrote (it carries a marker file); it is never inside the results folder.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fdrbench.errors import FdrbenchError
from fdrbench.leaderboard import data, heatmap, tables
from fdrbench.leaderboard.index import load_index
from fdrbench.leaderboard.ranking import RULES, Cohort, cohorts, higher_is_better, incomplete, latest_per_model
from fdrbench.leaderboard.render_html import heat_svg, link, page, paragraph, table, text
from fdrbench.results import RunDir
from fdrbench.store import umask

MARKER = ".fdrbench-site"
RULE = "paired"


def slug(name: str) -> str:
    """A file name for a stored name: its safe characters and a hash, so distinct names never collide."""
    plain = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")[:48] or "x"
    return f"{plain}-{hashlib.sha256(str(name).encode()).hexdigest()[:10]}"


@dataclass
class Exported:
    out: Path
    pages: list[str] = field(default_factory=list)
    runs: int = 0
    seconds: float = 0.0


@dataclass
class Site:
    """What every page is built from: the index, the scores read once per run, and the navigation."""

    root: Path
    index: dict
    notes: list[str]
    scores: dict[str, dict | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def runs(self) -> list[dict]:
        return self.index.get("runs") or []

    def scores_of(self, run: dict) -> dict | None:
        if run["path"] not in self.scores:
            try:
                self.scores[run["path"]] = data.scores(self.root, run["path"])
            except FdrbenchError as exc:
                self.scores[run["path"]] = None
                self.problems.append(str(exc).splitlines()[0])
        return self.scores[run["path"]]

    def tasks(self) -> list[str]:
        return sorted({r["task"] for r in self.runs})

    def nav(self) -> list[tuple[str, str]]:
        items = [("index.html", "Overview"), ("generators.html", "Generators")]
        items += [(f"bench/{slug(t)}.html", t) for t in self.tasks()]
        items.append(("runs/index.html", "Runs"))
        if "robustness.html" in self.pages:
            items.append(("robustness.html", "Robustness"))
        if "reproduction.html" in self.pages:
            items.append(("reproduction.html", "Reproduction"))
        return items

    def run_href(self, run: dict, depth: int) -> str:
        return "../" * depth + f"runs/{slug(run['path'])}.html"


def _check_out(results: Path, out: Path) -> None:
    results, out = results.resolve(), out.resolve()
    if out == results or out.is_relative_to(results):
        raise FdrbenchError(f"--out {out} is inside the results folder {results}; write the site elsewhere")
    if out.exists() and not out.is_dir():
        raise FdrbenchError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise FdrbenchError(f"--out {out} is a folder with other files in it; give an empty or new folder, or a site exported before")


def export_site(results: Path, out: Path, show_progress: bool = False) -> Exported:
    """Write the static site of ``results`` into ``out``; returns what was written."""
    from fdrbench.progress import progress_bar

    started = time.perf_counter()
    results, out = Path(results), Path(out)
    if not results.is_dir():
        raise FdrbenchError(f"results folder {results} not found")
    _check_out(results, out)
    loaded = load_index(results)
    site = Site(results.resolve(), loaded.index, list(loaded.stale))
    builders = [("overview", _overview), ("generators", _generators), ("robustness", _robustness), ("reproduction", _reproduction)]
    builders += [(f"benchmark {t}", _benchmark_page(t)) for t in site.tasks()]
    builders += [("runs", _runs)]
    with progress_bar(len(builders), "export", unit="page", enabled=show_progress) as bar:
        for name, build in builders:
            bar.describe(f"export: {name}")
            build(site)
            bar.advance()
    site.files["data/index.json"] = json.dumps(site.index, indent=1, sort_keys=True)
    _write(site, out)
    return Exported(out, sorted([*site.files, *site.pages]), len(site.runs), time.perf_counter() - started)


def _put(site: Site, name: str, title: str, body: str) -> None:
    """A page to write; it is wrapped in the shell by :func:`_write`, once the navigation knows every page."""
    site.pages[name] = (title, body)


def _write(site: Site, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staging.chmod(0o777 & ~umask())  # a site is for reading: the mode mkdir gives, not mkdtemp's private one
    try:
        nav = site.nav()
        rendered = {name: page(title, body, nav, name.count("/")) for name, (title, body) in site.pages.items()}
        for name, content in {**site.files, **rendered}.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        (staging / MARKER).write_text("written by fdrbench leaderboard export\n")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# --------------------------------------------------------------------------- pages


def _notes(site: Site) -> str:
    parts = [paragraph(f"Index: {note}.", "warn") for note in site.notes]
    parts += [paragraph(f"Not shown: {problem}", "warn") for problem in dict.fromkeys(site.problems)]
    return "".join(parts)


def _metrics(runs: list[dict]) -> list[str]:
    return tables.headline_metrics(runs) or ["accuracy"]


def _overview(site: Site) -> None:
    runs = site.runs
    body = [
        paragraph(
            "Each detector's newest complete run per benchmark; values in percent with their confidence interval. "
            "Only runs on identical data (same task version and data fingerprint) are ranked together. "
            f"Rank = 1 + the number of detectors significantly better ({RULES[RULE]}); '=' marks a shared rank."
        )
    ]
    if not runs:
        body.append(paragraph("This results folder has no runs yet."))
    groups = cohorts(runs)
    pairs = site.index.get("pairs") or []
    summary: dict[str, dict[str, list[dict]]] = {}
    for protocol in tables.protocols_of(runs):
        body.append(f"<h2>Protocol {text(protocol)}</h2>")
        for position, metric in enumerate(_metrics(runs)):
            frame, ranked = tables.overview(site.index, protocol, metric, RULE)
            shown = tables.visible(frame)
            summary.setdefault(protocol, {})[metric] = json.loads(shown.to_json(orient="records"))
            direction = "higher is better" if higher_is_better(metric) else "lower is better"
            inner = [table(shown), paragraph(f"{metric}: {direction}.")]
            for task, ranked_rows in ranked.items():
                details = tables.tie_details(ranked_rows, pairs, protocol, metric, RULE)
                if not details.empty:
                    inner += [f"<h3>{text(task)}: pairs the rule does not separate</h3>", table(details)]
                for cohort in groups.get(task, [])[1:]:
                    inner += [
                        paragraph(f"{task}: not ranked with the table above ({len(cohort.runs)} run(s), {cohort.label}).", "warn"),
                        paragraph(cohort.why),
                        table(tables.cohort_runs(cohort, protocol, metric, pairs, RULE)),
                    ]
            opened = " open" if position == 0 else ""
            body.append(f"<details{opened}><summary>{text(metric)}</summary>{''.join(inner)}</details>")
    waiting = incomplete(runs)
    if waiting:
        body.append("<h2>Incomplete or partial runs (not ranked)</h2>")
        rows = [{"task": r["task"], "detector": r["model"], "run": r["run_id"], "status": r.get("status")} for r in waiting]
        body.append(table(_frame(rows)))
    site.files["data/overview.json"] = json.dumps(summary, indent=1, sort_keys=True, allow_nan=False, default=str)
    _put(site, "index.html", "Leaderboard overview", _notes(site) + "".join(body))


def _generators(site: Site) -> None:
    runs = [r for r in site.runs if heatmap.GROUP_KEY in (r.get("group_keys") or [])]
    body = [
        paragraph(
            "Detectors x generators across every benchmark (each benchmark's ranked runs, newest per detector). "
            "Hover over a cell for its confidence interval and sample count; the table below holds the same cells."
        )
    ]
    if not runs:
        body.append(paragraph("No run here splits its scores by generator."))
    for protocol in tables.protocols_of(runs):
        body.append(f"<h2>Protocol {text(protocol)}</h2>")
        for position, metric in enumerate(_metrics(runs)):
            order = "release date" if _has_dates(site, runs) else heatmap.ORDERS[0]
            heat = heatmap.build(runs, site.scores_of, protocol, metric, order=order)
            opened = " open" if position == 0 else ""
            body.append(f"<details{opened}><summary>{text(metric)}</summary>{heat_svg(heat)}{table(heatmap.table(heat))}</details>")
    _put(site, "generators.html", "Detectors by generator", "".join(body))


def _has_dates(site: Site, runs: list[dict]) -> bool:
    return any(heatmap.generator_facts(site.scores_of(r) or {}) for r in runs)


def _benchmark_page(task: str):
    def build(site: Site) -> None:
        runs = [r for r in site.runs if r["task"] == task]
        body = []
        for cohort in cohorts(runs).get(task, []):
            body.append(_cohort_section(site, cohort))
        if not body:
            body.append(paragraph("This benchmark has no complete run yet."))
        _put(site, f"bench/{slug(task)}.html", f"Benchmark {task}", "".join(body))

    return build


def _cohort_section(site: Site, cohort: Cohort) -> str:
    where = "ranked on the overview" if cohort.reference else "not comparable with the ranked runs"
    body = [f"<h2>Data {text(cohort.label)} ({where})</h2>"]
    if cohort.why:
        body.append(paragraph(cohort.why, "warn"))
    runs = sorted(cohort.runs, key=lambda r: (r["model"], r["run_id"]))
    run_links = {"run": {tables.run_label(r): site.run_href(r, 1) for r in runs}}
    newest = latest_per_model(runs)
    scores_by_run = {r["model"]: s for r in newest if (s := site.scores_of(r)) is not None}
    for protocol in tables.protocols_of(runs):
        body.append(f"<h3>Protocol {text(protocol)}</h3>")
        for description in sorted({(r["protocols"].get(protocol) or {}).get("description") for r in runs} - {None}):
            body.append(paragraph(description))
        names = sorted({m for r in runs for m in ((r["protocols"].get(protocol) or {}).get("overall") or {})})
        for family, metrics in tables.by_family(names).items():
            body.append(
                f"<details open><summary>{text(family)}</summary>{table(tables.metrics_table(runs, protocol, metrics), run_links)}</details>"
            )
        aggregates = tables.aggregates_table(runs, protocol, tables.headline_metrics(runs))
        if not aggregates.empty:
            body.append(f"<details><summary>Aggregates</summary>{table(aggregates, run_links)}</details>")
        keys = sorted({k for r in runs for k in r.get("group_keys") or []})
        headline = [m for m in tables.headline_metrics(runs) if m in names] or names
        for key in keys:
            for position, metric in enumerate(headline):
                heat = heatmap.build(newest, site.scores_of, protocol, metric, key=key)
                opened = " open" if position == 0 else ""
                body.append(
                    f"<details{opened}><summary>Per {text(key)}: {text(metric)}</summary>"
                    f"{table(tables.group_table(scores_by_run, protocol, key, metric))}{heat_svg(heat)}</details>"
                )
    return "".join(body)


def _runs(site: Site) -> None:
    rows = []
    for run in sorted(site.runs, key=lambda r: (r["task"], r["model"], r["run_id"])):
        rows.append(
            {
                "benchmark": run["task"],
                "detector": run["model"],
                "run": run["path"],
                "status": run.get("status"),
                "created": run.get("created"),
                "data": (run.get("data_fingerprint") or "")[:12],
            }
        )
        _run_page(site, run)
    links = {"run": {r["path"]: f"{slug(r['path'])}.html" for r in site.runs}}
    body = paragraph("Every run in the results folder, with where it came from.") + table(_frame(rows), links)
    _put(site, "runs/index.html", "Runs", body)


PROVENANCE = (
    ("benchmark", "task"),
    ("task version", "task_version"),
    ("split", "split"),
    ("subset (--limit)", "limit"),
    ("samples", "n_samples"),
    ("detector", "model"),
    ("run id", "run_id"),
    ("adapter", "adapter"),
    ("status", "status"),
    ("created", "created"),
    ("fdrbench version", "fdrbench_version"),
    ("fdrbench commit", "commit"),
    ("data fingerprint", "data_fingerprint"),
    ("confidence level", "ci_level"),
    ("bootstrap resamples", "n_boot"),
)


def _run_page(site: Site, run: dict) -> None:
    facts = [{"field": shown_as, "value": run.get(key)} for shown_as, key in PROVENANCE]
    facts += [{"field": f"sha256 of {name}", "value": digest} for name, digest in sorted((run.get("sha256") or {}).items())]
    task = run["task"]
    back = link(f"../bench/{slug(task)}.html", f"Benchmark {task}")
    body = [f"<h2>Provenance</h2>{table(_frame(facts))}", f"<p>{back}</p>"]
    try:
        manifest = RunDir(data.run_dir(site.root, run["path"])).manifest().to_json()
        stored = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
        body.append(f"<h2>manifest.json</h2><pre>{text(stored)}</pre>")
    except FdrbenchError as exc:
        body.append(paragraph(f"manifest.json cannot be read: {str(exc).splitlines()[0]}", "warn"))
    _put(site, f"runs/{slug(run['path'])}.html", f"Run {run['model']} · {run['run_id']}", "".join(body))


def _robustness(site: Site) -> None:
    """Every detector's sweeps, when the results folder holds any ``robustness.json``."""
    from fdrbench.leaderboard import export_robustness

    body = export_robustness.body(site.root, site.runs)
    if body is not None:
        _put(site, export_robustness.PAGE, "Robustness to perturbations", body)


def _reproduction(site: Site) -> None:
    """The published-vs-measured table, when some run can be checked against a registered target."""
    from fdrbench.leaderboard import reproduction

    try:
        published = reproduction.published_tasks()
    except FdrbenchError as exc:
        site.problems.append(f"the registry of published numbers cannot be read: {str(exc).splitlines()[0]}")
        return
    checked = [
        (run, result) for run in site.runs if run["task"] in published for result in reproduction.checks_for_run(site.root, run["path"])
    ]
    if not checked:
        return
    body = [paragraph(reproduction.RULE)]
    for run, error in reproduction.errors(checked):
        body.append(paragraph(f"{run['model']} · {run['run_id']} could not be checked: {error}", "warn"))
    body.append(table(reproduction.table(checked)))
    _put(site, "reproduction.html", "Published numbers, reproduced?", "".join(body))


def _frame(rows: list[dict]):
    import pandas as pd

    return pd.DataFrame(rows)
