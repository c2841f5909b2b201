"""Each built-in benchmark family is one package under tasks/, in one shape, and holds all of itself.

The shape (docs/adding-a-benchmark.md): ``__init__`` exports the task classes the registry line
names, ``loader`` reads the release, ``task`` declares the classes, ``paper`` holds the paper's
rule and protocol, ``prepare`` the prepare step, ``miniature`` the test builder, and
``fingerprints.json`` the official fingerprints. What families share is in ``tasks/common``.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

from fdrbench.registry import TASKS

from .conftest import REPO

#: the benchmarks whose release ships annotation files (a loader module, a paper module, a miniature)
FAMILIES = ("ddvqa", "demo", "fakeclue", "loki", "mmfr", "sidset", "sofake")
#: every package under tasks/ that registers tasks: the above, the newer benchmarks and your-own-data tasks
ALL_FAMILIES = (*FAMILIES, "commfor", "dfj", "fakebench", "folder", "hf_images", "manifest_task", "openfake", "synthscars")
BUILT_IN = [e for e in TASKS.entries() if e.source == "fdrbench"]


def family_of(target: str) -> str:
    module, _, _ = target.partition(":")
    prefix, _, family = module.rpartition(".")
    assert prefix == "fdrbench.tasks", f"{target}: a built-in task is registered by its family package"
    return family


def test_each_family_is_a_package_and_nothing_of_a_benchmark_lies_outside_it():
    tasks = REPO / "tasks"
    assert all((tasks / family / "__init__.py").is_file() for family in (*FAMILIES, "common"))
    # what used to be spread over tasks/ now lives in the families or in tasks/common
    dissolved = ["paper_protocols.py", "verdicts.py", "loading.py", "parquet.py", "masks.py", "demo_synth.py", "fingerprints.json"]
    dissolved += ["prepare_mmfr.py", "prepare_ddvqa.py", "ddvqa_release.py", *(f"{family}.py" for family in FAMILIES)]
    assert not [name for name in dissolved if (tasks / name).exists()]
    assert {family_of(e.target) for e in BUILT_IN} == set(ALL_FAMILIES)
    packages = {p.name for p in tasks.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert packages == {*ALL_FAMILIES, "common", "published"}
    assert sorted(p.name for p in tasks.iterdir() if p.is_file()) == ["__init__.py"]


@pytest.mark.parametrize("family", [f for f in ALL_FAMILIES if f != "demo"])
def test_every_family_has_its_task_module_and_miniature(family):
    assert {"__init__.py", "task.py", "miniature.py"} <= {p.name for p in (REPO / "tasks" / family).iterdir()}


@pytest.mark.parametrize("entry", BUILT_IN, ids=lambda e: e.name)
def test_a_registered_task_is_exported_by_its_family(entry):
    family = family_of(entry.target)
    cls = TASKS.load_registered(entry.name)
    assert cls.name == entry.name
    if "description" in vars(cls):
        assert entry.summary == cls.description  # `fdrbench list` reads it through the re-export
    if (REPO / "tasks" / family).is_dir():
        assert cls.__module__ == f"fdrbench.tasks.{family}.task"
        assert str(cls.fingerprints_file()) == str(REPO / "tasks" / family / "fingerprints.json")
    else:  # a small benchmark may be one module with the same parts as sections
        assert cls.__module__ == f"fdrbench.tasks.{family}" and (REPO / "tasks" / f"{family}.py").is_file()


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "demo"])
def test_a_released_benchmark_has_every_part(family):
    folder = REPO / "tasks" / family
    assert {"__init__.py", "loader.py", "task.py", "paper.py", "miniature.py"} <= {p.name for p in folder.iterdir()}
    miniature = importlib.import_module(f"fdrbench.tasks.{family}.miniature")
    builders = [
        name
        for name, fn in inspect.getmembers(miniature, inspect.isfunction)
        if name.startswith("build") and fn.__module__ == miniature.__name__
    ]
    assert builders, f"tasks/{family}/miniature.py has no build function"


def test_a_paper_protocol_comes_from_a_family():
    """Every paper preset's re-parse rule is a family's own (DD-VQA's is FakeVLM's, from FakeClue's
    family), or the engine's generic class re-parse built from a family's rule."""
    homes = {}
    for entry in BUILT_IN:
        paper = TASKS.load_registered(entry.name)().protocols().get("paper")
        if paper is not None and paper.reparse is not None:  # a preset may keep the task's own parse
            homes[entry.name] = paper.reparse.__module__
    assert set(homes) >= {"ddvqa", "demo", "fakeclue", "loki", "mmfr_eval", "sidset", "sofake_ood"}
    assert homes["ddvqa"] == homes["fakeclue"] == "fdrbench.tasks.fakeclue.paper"
    assert homes["sofake_ood"] == "fdrbench.verdicts"  # class_reparse(sofake_answer, ...)
    assert all(h == "fdrbench.verdicts" or (h.startswith("fdrbench.tasks.") and h.endswith(".paper")) for h in homes.values()), homes


def test_the_demo_is_its_own_miniature(demo_root):
    from fdrbench.tasks.demo import DemoTask, synth

    assert synth.is_current(demo_root)
    assert {s.cls for s in DemoTask().load(demo_root, "test")} == {"real", "full_synthetic", "tampered"}
