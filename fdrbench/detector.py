"""What an adapter implements, and the context the engine hands it.

Batching, devices and model loading are the adapter's business; sharding, resume, progress,
error isolation and scoring are the engine's.
"""

from __future__ import annotations

import inspect
import json
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fdrbench.errors import FdrbenchError

if TYPE_CHECKING:  # pragma: no cover
    from fdrbench.task import Task
    from fdrbench.types import Prediction, Sample


@dataclass
class RunContext:
    """Everything about the run an adapter may need in ``setup``."""

    task: Task
    device: str = "cpu"
    seed: int = 0
    batch_size: int = 8
    rank: int = 0
    world_size: int = 1
    data_dir: Path | None = None
    cache_dir: Path | None = None


@dataclass
class TrainContext:
    """Everything a training recipe gets from ``fdrbench train``."""

    task: Task
    data_dir: Path
    split: str
    out: Path
    seed: int = 0
    device: str = "cpu"
    limit: int | None = None
    action: str = "fit"
    show_progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class Detector(ABC):
    """Base class of every adapter.

    Subclasses take their settings as keyword arguments (``--model-arg key=value``), load what
    they need in :meth:`setup`, and answer :meth:`predict` for a batch of samples with one
    :class:`~fdrbench.types.Prediction` per sample, in order. A detector with a training recipe
    also defines ``train(cls, ctx: TrainContext, **args) -> dict``.
    """

    name: str = ""
    #: True when the adapter decodes images itself (e.g. in DataLoader workers); otherwise the
    #: runner decodes the next batch in a background thread while the current one is predicted.
    loads_images: bool = False

    def setup(self, ctx: RunContext) -> None:
        """Load weights and bind to the task; called once before the first batch."""
        self.ctx = ctx

    @abstractmethod
    def predict(self, batch: list[Sample]) -> list[Prediction]:
        """One prediction per sample, same order. Raise on failure; the runner isolates the sample."""

    def describe(self) -> dict:
        """Weights id and revision or file hash, dtype, prompt, generation settings: for the manifest."""
        return {"name": self.name}

    def identity(self, task: Task) -> dict[str, Any]:
        """What determines the predictions beyond ``--model-arg`` values, known before ``setup``.

        It enters the run id, so a changed weights file starts a new run instead of resuming
        into one made with other weights. The default has nothing to add.
        """
        return {}

    def close(self) -> None:
        """Release models and connections."""


class PlainDetector(Detector):
    """Any object with ``predict(batch)`` used as a detector: what it lacks takes the defaults.

    ``name`` defaults to its class name, ``describe()`` to ``{"name": ...}``, ``identity()`` to
    ``{}``, ``setup(ctx)`` and ``close()`` to doing nothing, ``loads_images`` to False and
    ``uses_device`` to True; each method the object does define is called instead.
    """

    def __init__(self, inner: Any):
        self.inner = inner
        self.name = str(getattr(inner, "name", "") or type(inner).__name__)
        self.loads_images = bool(getattr(inner, "loads_images", False))
        self.uses_device = bool(getattr(inner, "uses_device", True))

    def _method(self, name: str) -> Any:
        method = getattr(self.inner, name, None)
        return method if callable(method) else None

    def setup(self, ctx: RunContext) -> None:
        self.ctx = ctx
        if self._method("setup"):
            self.inner.setup(ctx)

    def predict(self, batch: list[Sample]) -> list[Prediction]:
        return self.inner.predict(batch)

    def describe(self) -> dict:
        return self.inner.describe() if self._method("describe") else {"name": self.name}

    def identity(self, task: Task) -> dict[str, Any]:
        return self.inner.identity(task) if self._method("identity") else {}

    def close(self) -> None:
        if self._method("close"):
            self.inner.close()


def as_detector(obj: Any, what: str = "adapter") -> Detector:
    """``obj`` as a :class:`Detector`: itself if it is one, else wrapped if it has ``predict(batch)``."""
    if isinstance(obj, Detector):
        return obj
    if not callable(getattr(obj, "predict", None)):
        raise FdrbenchError(f"{what} is not a detector: it has no predict(batch) method (see the Detector interface)")
    return PlainDetector(obj)


def parse_kv_args(items: list[str] | None, flag: str = "--model-arg") -> dict[str, Any]:
    """``["a=1", "b=true", "c=x"]`` -> ``{"a": 1, "b": True, "c": "x"}`` (JSON values where they parse)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise FdrbenchError(f"{flag} expects key=value, got {item!r}")
        out[key.replace("-", "_")] = _parse_value(raw.strip(), f"{flag} {item}")
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


def _parse_value(raw: str, where: str = "value") -> Any:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        number = float(raw)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            raise FdrbenchError(f"{where}: {raw!r} is not a finite number (NaN and infinity cannot be recorded)")
        return number
    if raw[:1] in "[{":
        try:
            return json.loads(raw, parse_constant=_no_constant)
        except ValueError as exc:
            raise FdrbenchError(f"{where}: value {raw!r} looks like JSON but does not parse: {exc}") from exc
    return raw


def construct(cls: type, args: dict[str, Any], what: str, flag: str = "--model-arg") -> Any:
    """``cls(**args)``, turning a wrong keyword into an error that lists the accepted ones."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        sig = None
    if sig is not None and not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        accepted = [n for n, p in sig.parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        unknown = sorted(set(args) - set(accepted))
        if unknown:
            raise FdrbenchError(f"{what} does not accept {', '.join(unknown)}; it accepts: {', '.join(accepted) or 'nothing'}")
        missing = [
            n
            for n, p in sig.parameters.items()
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in args
        ]
        if missing:
            raise FdrbenchError(f"{what} needs {', '.join(f'{flag} {m}=...' for m in missing)}")
    return cls(**args)
