"""Names of adapters and tasks, found through entry points, built-in and plugin alike.

fdrbench's own adapters and tasks are declared in its ``pyproject.toml`` under the entry-point
groups ``fdrbench.adapters`` and ``fdrbench.tasks``, exactly as a plugin package declares its
own, so the engine keeps no table of model or dataset names. Nothing is imported until a name
is used, so ``fdrbench --help`` and ``fdrbench list`` stay fast: ``list`` reads each entry's
one-line summary from its source (the class's ``description`` or docstring) without importing
it. A user's own class works without registration as ``my_pkg.my_module:MyDetector`` or
``path/to/file.py:MyDetector`` on the command line; a stored run names its task by a
registered name only (see :meth:`fdrbench.results.RunDir.task`).
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.util
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from fdrbench.errors import RegistryError


@dataclass(frozen=True)
class Entry:
    name: str
    target: str
    source: str = "fdrbench"

    @property
    def summary(self) -> str:
        return static_summary(self.target)


class Registry:
    """Names of one kind (adapter, task) from one entry-point group, resolved on first use."""

    def __init__(self, kind: str, group: str):
        self.kind = kind
        self.group = group
        self._loaded: dict[str, Any] = {}

    def entries(self) -> list[Entry]:
        """Every registered name, sorted; fdrbench's own entry wins over a plugin of the same name."""
        found: dict[str, Entry] = {}
        for ep in entry_points(group=self.group):
            source = ep.dist.name if ep.dist else "plugin"
            old = found.get(ep.name)
            if old is None or (old.source != "fdrbench" and source == "fdrbench"):
                found[ep.name] = Entry(ep.name, ep.value, source)
        return [found[name] for name in sorted(found)]

    def names(self) -> list[str]:
        return [e.name for e in self.entries()]

    def registered(self, name: object) -> Entry | None:
        """The entry registered under exactly ``name`` (built in or an installed entry point), else None.

        Unlike :meth:`target`, a ``module:attr`` or ``file.py:attr`` form is never accepted here:
        this is the lookup for names read from untrusted files.
        """
        if not isinstance(name, str) or not name:
            return None
        return next((entry for entry in self.entries() if entry.name == name), None)

    def load_registered(self, name: str) -> Any:
        """Import the object registered under ``name``; a name that is not registered is an error."""
        entry = self.registered(name)
        if entry is None:
            raise RegistryError(f"unknown {self.kind} {name!r}: not a registered name")
        if entry.name not in self._loaded:
            self._loaded[entry.name] = import_target(entry.target, what=f"{self.kind} {entry.name!r}")
        return self._loaded[entry.name]

    def target(self, name: str) -> str:
        if ":" in name:
            return name
        for entry in self.entries():
            if entry.name == name:
                return entry.target
        close = difflib.get_close_matches(name, self.names(), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise RegistryError(
            f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(self.names()) or 'none'}. "
            f"A class of your own can be given as 'my_pkg.my_module:MyClass' or 'path/to/file.py:MyClass'."
        )

    def load(self, name: str) -> Any:
        """Import and return the object registered under ``name`` (or named by ``module:attr``)."""
        if name not in self._loaded:
            self._loaded[name] = import_target(self.target(name), what=f"{self.kind} {name!r}")
        return self._loaded[name]


def static_summary(target: str) -> str:
    """One line about a ``module:Class`` target, read from its source without running it: the
    class's ``description`` string, else the first line of its docstring ("" when neither).

    A package that re-exports the class from a submodule (``from .task import Class`` in its
    ``__init__``) is followed to that submodule, still without running either."""
    module_name, _, attr = target.partition(":")
    node = _class_source(module_name, attr.split(".")[-1])
    if node is None:
        return ""
    for item in node.body:
        if (
            isinstance(item, (ast.Assign, ast.AnnAssign))
            and any(isinstance(t, ast.Name) and t.id == "description" for t in getattr(item, "targets", [getattr(item, "target", None)]))
            and isinstance(item.value, ast.Constant)
            and isinstance(item.value.value, str)
        ):
            return item.value.value
    docstring = ast.get_docstring(node)
    return docstring.strip().splitlines()[0] if docstring else ""


def _class_source(module_name: str, class_name: str, hops: int = 3) -> ast.ClassDef | None:
    """The class statement of ``class_name`` in ``module_name``'s source, following up to ``hops`` re-exports."""
    try:
        spec = _quiet_spec(module_name)
        origin = Path(spec.origin) if spec is not None and spec.origin else None
        tree = ast.parse(origin.read_text(encoding="utf-8")) if origin is not None and origin.suffix == ".py" else None
    except (ImportError, ValueError, OSError, SyntaxError):
        return None
    if tree is None:
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return node
    for node in tree.body if hops > 0 else ():
        alias = next((a for a in node.names if (a.asname or a.name) == class_name), None) if isinstance(node, ast.ImportFrom) else None
        if alias is not None:
            base = module_name if spec.submodule_search_locations else module_name.rpartition(".")[0]
            for _ in range(max(node.level - 1, 0)):
                base = base.rpartition(".")[0]
            source = ".".join(p for p in (base, node.module) if p) if node.level else (node.module or "")
            return _class_source(source, alias.name, hops - 1)
    return None


def _quiet_spec(name: str) -> Any:
    """A module's spec, found as the import system finds it but without running any package's
    ``__init__`` on the way (``importlib.util.find_spec`` imports the parents of a dotted name)."""
    if name in sys.modules:
        return getattr(sys.modules[name], "__spec__", None)
    parent = name.rpartition(".")[0]
    path = None
    if parent:
        parent_spec = _quiet_spec(parent)
        if parent_spec is None or not parent_spec.submodule_search_locations:
            return None
        path = list(parent_spec.submodule_search_locations)
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        spec = find(name, path) if find is not None else None
        if spec is not None:
            return spec
    return None


def import_target(target: str, what: str = "object") -> Any:
    """Import ``module.path:attr`` or ``file.py:attr``, with errors that say what is missing."""
    module_name, sep, attr = target.rpartition(":")
    if not sep or not module_name or not attr:
        raise RegistryError(f"{what}: expected 'module:attribute', got {target!r}")
    if module_name.endswith(".py"):
        module = _import_file(Path(module_name), what)
    else:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if module_name == missing or module_name.startswith(missing + "."):
                raise RegistryError(f"{what}: no module named {module_name!r}") from exc
            raise RegistryError(
                f"{what} needs the package {missing!r}, which is not installed "
                f"(pip install {missing}, or install the fdrbench extra that provides it)"
            ) from exc
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise RegistryError(f"{what}: module {module_name!r} has no attribute {attr!r}") from exc
    return obj


def _import_file(path: Path, what: str) -> Any:
    if not path.is_file():
        raise RegistryError(f"{what}: file {path} not found")
    name = f"fdrbench_user_{abs(hash(str(path.resolve())))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RegistryError(f"{what}: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ADAPTERS = Registry("adapter", "fdrbench.adapters")
TASKS = Registry("task", "fdrbench.tasks")
