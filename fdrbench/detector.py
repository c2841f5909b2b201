"""What an adapter implements, and the context the engine hands it.

Batching, devices and model loading are the adapter's business; sharding, resume, progress,
error isolation and scoring are the engine's.
"""

from __future__ import annotations

import inspect
import json
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


def parse_kv_args(items: list[str] | None, flag: str = "--model-arg") -> dict[str, Any]:
    """``["a=1", "b=true", "c=x"]`` -> ``{"a": 1, "b": True, "c": "x"}`` (JSON values where they parse)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise FdrbenchError(f"{flag} expects key=value, got {item!r}")
        out[key.replace("-", "_")] = _parse_value(raw.strip())
    return out


def _parse_value(raw: str) -> Any:
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
        return float(raw)
    except ValueError:
        pass
    if raw[:1] in "[{":
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise FdrbenchError(f"value {raw!r} looks like JSON but does not parse: {exc}") from exc
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
