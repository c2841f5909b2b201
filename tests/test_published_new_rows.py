"""The published-number files of the DeepfakeJudge and FakeBench tasks agree with the tasks they name."""

from __future__ import annotations

import re

import pytest

from fdrbench.registry import TASKS

from .conftest import REPO

tomllib = pytest.importorskip("tomllib")
FILES = ("deepfakejudge.toml", "fakebench.toml")


def load(name: str) -> dict:
    return tomllib.loads((REPO / "tasks" / "published" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", FILES)
def test_every_entry_names_what_its_task_scores(name):
    paper = load(name)
    ids = set()
    for target in paper["targets"]:
        assert target["model"] in paper["models"], target["name"]
        task = TASKS.load_registered(target["task"])()
        assert target["task_version"] == task.version and target["split"] in task.splits
        protocol = task.protocols()[target["protocol"]]
        aggregates = {**task.aggregates, **protocol.aggregates}
        for entry in target["entries"]:
            assert entry["id"].startswith(f"{paper['paper']}/") and entry["id"] not in ids
            ids.add(entry["id"])
            assert entry["metric"] in protocol.metrics, entry["id"]
            assert re.fullmatch(r"-?\d+(\.\d+)?", entry["printed"]), entry["id"]
            for key in entry.get("group", {}):
                assert key in task.group_keys, entry["id"]
            if "aggregate" in entry:
                assert entry["aggregate"] in aggregates, entry["id"]


def test_the_inconsistent_thinking_row_is_not_a_target():
    rows = {e["row"] for t in load("deepfakejudge.toml")["targets"] for e in t["entries"]}
    assert "SIDA-13B" in rows and not any("Thinking" in row for row in rows)
