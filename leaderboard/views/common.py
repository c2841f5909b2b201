"""What every page shares: the app context, cached loaders and safe text helpers.

Loaders are cached on the identity of the files they read (hashes for the index, size and
modification time for predictions), so a page reflects the folder as it is on each rerun
without re-reading what did not change.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from fdrbench.leaderboard import data
from fdrbench.leaderboard.index import INDEX_NAME, current_hashes, load_index
from fdrbench.leaderboard.launch import DATA_DIRS_ENV, RESULTS_ENV

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&=^])")


def escape_markdown(text: object) -> str:
    """``text`` with every character Markdown (or Streamlit's directives) would interpret escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


@dataclass
class Context:
    root: Path
    data_dirs: dict[str, str]
    index: dict
    stale: list[str]

    @property
    def runs(self) -> list[dict]:
        return self.index.get("runs") or []

    def tasks(self) -> list[str]:
        return sorted({r["task"] for r in self.runs})

    def runs_of(self, task: str) -> list[dict]:
        return sorted((r for r in self.runs if r["task"] == task), key=lambda r: (r["model"], r["run_id"]))

    def find(self, path: str) -> dict | None:
        return next((r for r in self.runs if r["path"] == path), None)


@st.cache_data(show_spinner=False, max_entries=8)
def _index(root: str, stamp: str) -> tuple[dict, list[str]]:
    loaded = load_index(Path(root))
    return loaded.index, loaded.stale


def _stamp(root: Path) -> str:
    digest = hashlib.sha256()
    index_file = root / INDEX_NAME
    if index_file.is_file():
        digest.update(index_file.read_bytes())
    for path, hashes in sorted(current_hashes(root).items()):
        digest.update(f"{path}:{hashes['manifest']}:{hashes['scores']}\n".encode())
    return digest.hexdigest()


def context() -> Context:
    """The results folder and data folders the launcher set, and the index of that folder."""
    root = Path(os.environ.get(RESULTS_ENV) or "results").resolve()
    dirs = data.data_dirs_from_env(os.environ.get(DATA_DIRS_ENV))
    if not root.is_dir():
        return Context(root, dirs, {"runs": [], "pairs": [], "unreadable": []}, [f"results folder {root} not found"])
    index, stale = _index(str(root), _stamp(root))
    return Context(root, dirs, index, stale)


@st.cache_data(show_spinner=False, max_entries=64)
def scores(root: str, path: str, sha: str) -> dict:
    return data.scores(Path(root), path)


def run_scores(ctx: Context, run: dict) -> dict:
    return scores(str(ctx.root), run["path"], run["sha256"]["scores"])


@st.cache_data(show_spinner=False, max_entries=256)
def _reproduction(root: str, path: str, manifest_sha: str, scores_sha: str) -> list[dict]:
    from fdrbench.leaderboard.reproduction import checks_for_run

    return checks_for_run(Path(root), path)


@st.cache_data(show_spinner=False, ttl=300)
def _published_tasks() -> set[str]:
    from fdrbench.leaderboard.reproduction import published_tasks

    return published_tasks()


def reproduction_checks(ctx: Context, runs: list[dict]) -> list[tuple[dict, dict]]:
    """(run, check) for every published target each of ``runs`` can be checked against (cached on
    the run's files); raises the registry's error when it cannot be read."""
    tasks = _published_tasks()
    out = []
    for run in runs:
        if run["task"] in tasks:
            hashes = run.get("sha256") or {}
            out.extend((run, result) for result in _reproduction(str(ctx.root), run["path"], hashes.get("manifest"), hashes.get("scores")))
    return out


@st.cache_data(show_spinner="Loading predictions…", max_entries=16)
def _predictions(root: str, path: str, stamp: str) -> pd.DataFrame:
    return data.predictions_table(Path(root), path)


def predictions(ctx: Context, run: dict) -> pd.DataFrame:
    return _predictions(str(ctx.root), run["path"], data.predictions_stamp(ctx.root, run["path"]))


@st.cache_data(show_spinner="Computing curves…", max_entries=32)
def _curves(root: str, path: str, protocol: str, stamp: str) -> dict | None:
    return data.curves(Path(root), path, protocol)


def curves(ctx: Context, run: dict, protocol: str) -> dict | None:
    return _curves(str(ctx.root), run["path"], protocol, data.predictions_stamp(ctx.root, run["path"]))


def pick_run(label: str, runs: list[dict], key: str, default_path: str | None = None) -> dict:
    """A selectbox over runs (plain-text labels) that remembers the choice under ``key``."""
    from fdrbench.leaderboard.tables import run_label

    paths = [r["path"] for r in runs]
    index = paths.index(default_path) if default_path in paths else 0
    chosen = st.selectbox(label, paths, index=index, key=key, format_func=lambda p: run_label(runs[paths.index(p)]))
    return runs[paths.index(chosen)]


def empty_results(ctx: Context) -> bool:
    """Say so and return True when there is nothing to show."""
    if ctx.runs:
        return False
    st.info(f"No runs under {ctx.root} yet. Submit one with:")  # the operator chose this folder
    st.code(f"fdrbench submit RUN_DIR --results {ctx.root}", language=None)
    return True


def one_line(exc: BaseException) -> str:
    """An error as the one line a page shows: fdrbench's own message, else its type and first line."""
    from fdrbench.errors import FdrbenchError

    text = str(exc) if isinstance(exc, FdrbenchError) else f"{type(exc).__name__}: {exc}"
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def problem(title: str, exc: BaseException) -> None:
    """A fixed title and the error as plain text (``st.text``): a page never shows a traceback or
    renders what a results file wrote."""
    st.error(escape_markdown(title))
    st.text(one_line(exc))


@st.cache_data(show_spinner=False, max_entries=8)
def _robustness(root: str, stamp: str, runs_stamp: str, _runs: list[dict]):
    from fdrbench.leaderboard.robustness import load

    return load(Path(root), _runs)


def robustness_files(ctx: Context):
    """The readable robustness files and the unreadable ones with their reasons (cached on the files' stamps)."""
    from fdrbench.results import find_robustness

    parts = []
    for path in find_robustness(ctx.root):
        try:
            stat = path.stat()
        except OSError:
            continue
        parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    runs_stamp = "|".join(f"{r['path']}:{(r.get('sha256') or {}).get('scores')}" for r in ctx.runs)
    return _robustness(str(ctx.root), "|".join(parts), runs_stamp, ctx.runs)
