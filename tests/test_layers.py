"""The layers, enforced: the import graph of fdrbench/, tasks/, adapters/ and leaderboard/, read with ``ast``.

Every import counts, wherever it is written: at the top of a module, inside a function (the lazy
imports that keep ``fdrbench --help`` fast) and inside ``if TYPE_CHECKING:`` blocks. A cycle that
only type hints close is still a cycle in the design, so type-checking imports count as edges.
An import of ``pkg.mod`` is an edge to ``pkg.mod`` (not to ``pkg``'s ``__init__``); ``from pkg
import name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg``. Relative imports
are resolved against the importing module.

The rules (docs/architecture.md explains each):

1. no cycle among modules;
2. ``fdrbench.metrics`` imports nothing of fdrbench above it (only the base: errors, types, paths, pathsafe, redact, progress);
3. the engine (``fdrbench`` minus the mapped ``adapters``, ``tasks`` and ``leaderboard``) reaches
   them only through the registry, except the commands on :data:`ENGINE_STARTS`;
4. ``fdrbench.tasks`` never imports ``fdrbench.adapters``;
5. no engine module is longer than 400 lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from .conftest import REPO

ROOTS = {
    "fdrbench": REPO / "fdrbench",
    "fdrbench.adapters": REPO / "adapters",
    "fdrbench.tasks": REPO / "tasks",
    "fdrbench.leaderboard": REPO / "leaderboard",
}
MAPPED = ("fdrbench.adapters", "fdrbench.tasks", "fdrbench.leaderboard")
BASE = {
    "fdrbench.errors",
    "fdrbench.types",
    "fdrbench.media",
    "fdrbench.paths",
    "fdrbench.pathsafe",
    "fdrbench.redact",
    "fdrbench.progress",
}
#: engine modules allowed to import a mapped package, and why: the commands that start them
ENGINE_STARTS = {
    ("fdrbench.cli.evaluation", "fdrbench.adapters.baselines.demo"): "`fdrbench demo` runs the baseline on the demo benchmark",
    ("fdrbench.cli.publishing", "fdrbench.leaderboard.index"): "`submit` and `validate --portable` keep results/index.json current",
    ("fdrbench.cli.publishing", "fdrbench.leaderboard.launch"): "`fdrbench leaderboard` starts the app",
    ("fdrbench.cli.publishing", "fdrbench.leaderboard.export"): "`fdrbench leaderboard export` writes the static site",
    ("fdrbench.cli.exchange", "fdrbench.leaderboard.index"): "`results unpack` and `score-submission` keep results/index.json current",
}
MAX_ENGINE_LINES = 400


def modules() -> dict[str, Path]:
    """Every module name -> its file, for the four source trees (the mapped ones inside the engine's)."""
    out = {}
    for package, root in ROOTS.items():
        for path in sorted(root.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package, *parts])] = path
    return out


MODULES = modules()


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *([target] if target else [])])


def imports_of(name: str, path: Path) -> Iterator[str]:
    """Every fdrbench module ``name`` imports, wherever the import statement is."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, is_package, node.level, node.module) if node.level else (node.module or "")
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target.startswith("fdrbench") and target != name:
                yield target


GRAPH = {name: sorted(set(imports_of(name, path))) for name, path in MODULES.items()}


def in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def is_engine(name: str) -> bool:
    return not any(in_package(name, p) for p in MAPPED)


def test_the_graph_sees_lazy_and_type_checking_imports():
    # the CLI imports its commands' modules inside the commands; types.py imports numpy only for hints
    assert "fdrbench.pipeline" in GRAPH["fdrbench.cli.evaluation"]
    assert "fdrbench.api.task" in GRAPH["fdrbench.results"]  # an `if TYPE_CHECKING:` import
    assert "fdrbench.metrics.registry" in GRAPH["fdrbench.protocols"]  # inside Protocol.__post_init__


def test_no_cycles():
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in GRAPH.get(node, []):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif state.get(nxt) is None:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_metrics_import_nothing_above_them():
    bad = {
        name: [t for t in targets if not in_package(t, "fdrbench.metrics") and t not in BASE]
        for name, targets in GRAPH.items()
        if in_package(name, "fdrbench.metrics")
    }
    assert not {k: v for k, v in bad.items() if v}


def test_the_engine_reaches_adapters_tasks_and_leaderboard_through_the_registry_only():
    found = {(name, target) for name, targets in GRAPH.items() if is_engine(name) for target in targets if not is_engine(target)}
    assert found <= set(ENGINE_STARTS), f"engine imports outside the allow-list: {sorted(found - set(ENGINE_STARTS))}"


def test_tasks_never_import_adapters():
    bad = [(n, t) for n, targets in GRAPH.items() if in_package(n, "fdrbench.tasks") for t in targets if in_package(t, "fdrbench.adapters")]
    assert not bad


def test_engine_files_stay_short():
    long = {name: n for name, path in MODULES.items() if is_engine(name) and (n := len(path.read_text().splitlines())) > MAX_ENGINE_LINES}
    assert not long, f"engine modules over {MAX_ENGINE_LINES} lines: {long}"


def test_the_rules_catch_what_they_forbid(tmp_path, monkeypatch):
    """The checks are not vacuous: a module written to break each rule is found."""
    offender = tmp_path / "offender.py"
    offender.write_text("from fdrbench.scoring import ScoreSettings\n\ndef f():\n    from fdrbench.tasks.demo import DemoTask\n")
    found = set(imports_of("fdrbench.metrics.offender", offender))
    assert {"fdrbench.scoring", "fdrbench.tasks.demo"} <= found
