"""Every metric, found through the entry-point group ``fdrbench.metrics``, built-in or plugin alike.

fdrbench's own families are declared as entry points in its ``pyproject.toml``, exactly as a
plugin package declares its own, so a new metric is one module plus one entry-point line. An
entry point may name a :class:`~fdrbench.metrics.frame.Metric`, a mapping or sequence of them
(a family module's ``METRICS``), or a module holding ``METRICS``. Nothing is imported until a
metric is asked for; an entry point named after the metric is tried first, so one plugin
metric loads without loading the rest.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

from fdrbench.errors import FdrbenchError, RegistryError
from fdrbench.metrics.frame import Metric

GROUP = "fdrbench.metrics"
_CACHE: dict[str, Metric] = {}
_LOADED: set[tuple[str, str]] = set()
_ALL = False


def _points() -> list[EntryPoint]:
    seen: dict[tuple[str, str], EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        seen.setdefault((ep.name, ep.value), ep)  # an editable install and a wheel may both list one
    return list(seen.values())


def _metrics_of(obj: Any, where: str) -> list[Metric]:
    if isinstance(obj, ModuleType):
        obj = getattr(obj, "METRICS", None)
    if isinstance(obj, Metric):
        return [obj]
    if isinstance(obj, Mapping):
        obj = list(obj.values())
    if isinstance(obj, Sequence) and obj and all(isinstance(m, Metric) for m in obj):
        return list(obj)
    raise RegistryError(f"metric entry point {where} must name a Metric, a mapping or list of them, or a module with METRICS")


def _load(ep: EntryPoint) -> None:
    key = (ep.name, ep.value)
    if key in _LOADED:
        return
    try:
        obj = ep.load()
    except (ImportError, AttributeError) as exc:
        raise RegistryError(f"metric entry point {ep.name} = {ep.value} cannot be loaded: {exc}") from exc
    for metric in _metrics_of(obj, f"{ep.name} = {ep.value}"):
        old = _CACHE.get(metric.name)
        if old is not None and old is not metric and (old.family, old.fn) != (metric.family, metric.fn):
            raise RegistryError(f"metric {metric.name!r} is defined twice (entry point {ep.name} = {ep.value}, and family {old.family!r})")
        _CACHE.setdefault(metric.name, metric)
    _LOADED.add(key)


def all_metrics() -> dict[str, Metric]:
    """Every registered metric, in registration order (families in entry-point order)."""
    global _ALL
    if not _ALL:
        points = _points()
        if not points:
            raise RegistryError(f"no metrics are registered (entry-point group {GROUP!r} is empty); reinstall fdrbench: pip install -e .")
        for ep in sorted(points, key=lambda p: (p.dist.name != "fdrbench" if p.dist else True, p.name)):
            _load(ep)
        _ALL = True
    return _CACHE


def get_metric(name: str) -> Metric:
    if name in _CACHE:
        return _CACHE[name]
    for ep in _points():
        if ep.name == name:
            _load(ep)
            if name in _CACHE:
                return _CACHE[name]
    metrics = all_metrics()
    if name not in metrics:
        close = difflib.get_close_matches(name, list(metrics), n=3)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        raise RegistryError(f"unknown metric {name!r}.{hint} Known: {', '.join(sorted(metrics))}")
    return metrics[name]


def families() -> dict[str, list[str]]:
    """``{family: [metric, ...]}`` in registration order."""
    out: dict[str, list[str]] = {}
    for metric in all_metrics().values():
        out.setdefault(metric.family, []).append(metric.name)
    return out


def option_classes(names: Iterable[str]) -> list[type]:
    """The typed options classes of the families of ``names`` (each once)."""
    out: list[type] = []
    for name in names:
        cls = get_metric(name).options
        if cls is not None and cls not in out:
            out.append(cls)
    return out


def check_options(names: Iterable[str], options: Mapping[str, Any], where: str = "protocol") -> None:
    """Refuse a protocol option that no family of its metrics declares, or one of the wrong type."""
    classes = option_classes(names)
    accepted = {key: cls for cls in classes for key in cls.names()}
    for key, value in options.items():
        if key not in accepted:
            known = ", ".join(sorted(accepted)) or "none (its metrics take no options)"
            close = difflib.get_close_matches(key, list(accepted), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise FdrbenchError(f"{where}: unknown option {key!r}.{hint} Its metrics accept: {known}")
        if value is not None:
            accepted[key].check(key, value, where)


def refresh() -> None:
    """Forget what was discovered, so metrics of a package installed since are found (tests, notebooks)."""
    global _ALL
    _CACHE.clear()
    _LOADED.clear()
    _ALL = False
