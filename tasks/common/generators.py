"""The generator table: every generator name a benchmark's samples carry, and what that generator is.

``generators.json`` beside this module holds it, in two parts:

- ``generators``: ``{id: {canonical, family, kind, weights, released, date_kind, date_source,
  date_verified, aliases}}``, one entry per generator (the fields of
  :class:`fdrbench.generators.Generator`; ``aliases`` are other spellings a folder of one's own
  images may use);
- ``benchmarks``: one entry per benchmark, ``{tasks, key, names, real, fallback}``: the tasks it
  covers, the group key whose values name generators, ``names`` mapping each raw value to a
  generator id (or to ``{"generator": id, "kind": ...}`` where the benchmark used the generator
  for another kind of generation, e.g. inpainting), the values that name real sources, and
  whether names it does not list are looked up among every generator's names and aliases (for
  benchmarks whose full name list is not known).

Tasks get their table with :func:`table_for` (``DatasetTask.generator_table`` does it by task
name); tasks over one's own data use :func:`general_table`, which knows every canonical name
and alias. The file is read and checked once: an unknown family, a malformed date, a date
without its source, or a name mapped to an unknown generator is an error naming the entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from fdrbench.errors import FdrbenchError
from fdrbench.generators import Generator, GeneratorTable, normalise_name

TABLE_FILE = "generators.json"


@dataclass(frozen=True)
class BenchmarkNames:
    """One benchmark's raw names, resolved to generators."""

    tasks: tuple[str, ...]
    key: str
    names: dict[str, Generator]
    real: frozenset[str] = frozenset()
    fallback: bool = False


@dataclass(frozen=True)
class Catalog:
    """The whole table: generators by id, the benchmarks' names, and every spelling of every generator."""

    generators: dict[str, Generator]
    benchmarks: tuple[BenchmarkNames, ...]
    spellings: dict[str, Generator] = field(default_factory=dict)

    def benchmark(self, task_name: str) -> BenchmarkNames | None:
        return next((b for b in self.benchmarks if task_name in b.tasks), None)


def _fail(source: object, where: str, message: str) -> FdrbenchError:
    return FdrbenchError(f"{source}: {where}: {message}")


def _generator(gid: str, raw: Any, source: object) -> tuple[Generator, list[str]]:
    if not isinstance(raw, dict):
        raise _fail(source, f"generators.{gid}", f"expected an object, got {type(raw).__name__}")
    fields = dict(raw)
    aliases = fields.pop("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise _fail(source, f"generators.{gid}.aliases", "expected a list of non-empty names")
    try:
        generator = msgspec.convert(fields, Generator)
    except msgspec.ValidationError as exc:
        raise _fail(source, f"generators.{gid}", str(exc)) from exc
    problems = generator.problems()
    if problems:
        raise _fail(source, f"generators.{gid}", problems[0])
    return generator, aliases


def _benchmark(i: int, raw: Any, generators: dict[str, Generator], source: object) -> BenchmarkNames:
    where = f"benchmarks[{i}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("names"), dict):
        raise _fail(source, where, "expected an object with 'tasks', 'key' and 'names'")
    tasks, key = raw.get("tasks"), raw.get("key")
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) for t in tasks) or not isinstance(key, str):
        raise _fail(source, where, "'tasks' must be a list of task names and 'key' a group key")
    names: dict[str, Generator] = {}
    seen: dict[str, str] = {}
    for raw_name, target in raw["names"].items():
        override = target if isinstance(target, dict) else {"generator": target}
        gid = override.get("generator")
        if gid not in generators:
            raise _fail(source, f"{where}.names.{raw_name}", f"names unknown generator {gid!r}")
        generator = generators[gid]
        if "kind" in override:
            generator = msgspec.structs.replace(generator, kind=override["kind"])
            if generator.problems():
                raise _fail(source, f"{where}.names.{raw_name}", generator.problems()[0])
        norm = normalise_name(raw_name)
        if norm in seen:
            raise _fail(source, f"{where}.names.{raw_name}", f"is another spelling of {seen[norm]!r}")
        seen[norm] = raw_name
        names[raw_name] = generator
    real = raw.get("real", [])
    if not isinstance(real, list) or not all(isinstance(r, str) for r in real):
        raise _fail(source, f"{where}.real", "expected a list of names")
    return BenchmarkNames(tuple(tasks), key, names, frozenset(real), bool(raw.get("fallback", False)))


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and check the table (default: the one shipped beside this module)."""
    source = path or resources.files("fdrbench.tasks.common").joinpath(TABLE_FILE)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise FdrbenchError(f"{source}: the generator table cannot be read ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("generators"), dict) or not isinstance(data.get("benchmarks"), list):
        raise FdrbenchError(f"{source}: the generator table must hold 'generators' (an object) and 'benchmarks' (a list)")
    generators: dict[str, Generator] = {}
    spellings: dict[str, Generator] = {}
    owner: dict[str, str] = {}
    for gid, raw in data["generators"].items():
        generator, aliases = _generator(gid, raw, source)
        generators[gid] = generator
        for spelling in (gid, generator.canonical, *aliases):
            norm = normalise_name(spelling)
            if owner.get(norm, gid) != gid:
                raise _fail(source, f"generators.{gid}", f"the spelling {spelling!r} is already a name of {owner[norm]!r}")
            owner[norm] = gid
            spellings[norm] = generator
    benchmarks = tuple(_benchmark(i, raw, generators, source) for i, raw in enumerate(data["benchmarks"]))
    covered: dict[str, int] = {}
    for i, bench in enumerate(benchmarks):
        for task in bench.tasks:
            if task in covered:
                raise _fail(source, f"benchmarks[{i}]", f"task {task!r} is already covered by benchmarks[{covered[task]}]")
            covered[task] = i
    return Catalog(generators, benchmarks, spellings)


@cache
def catalog() -> Catalog:
    """The shipped table, read once per process."""
    return load_catalog()


def _with_fallback(names: Mapping[str, Generator], spellings: Mapping[str, Generator]) -> dict[str, Generator]:
    listed = {normalise_name(n) for n in names}
    return {**{s: g for s, g in spellings.items() if s not in listed}, **names}


def table_for(task_name: str, table: Catalog | None = None) -> GeneratorTable | None:
    """The generator table of a benchmark task, or None when the table does not cover it."""
    table = table or catalog()
    bench = table.benchmark(task_name)
    if bench is None:
        return None
    names = _with_fallback(bench.names, table.spellings) if bench.fallback else bench.names
    return GeneratorTable(bench.key, names, bench.real)


def general_table(key: str = "generator", real_values: frozenset[str] = frozenset(), table: Catalog | None = None) -> GeneratorTable:
    """Every generator under every spelling (id, canonical name, aliases), for data of one's own."""
    return GeneratorTable(key, dict((table or catalog()).spellings), real_values)
