"""What an adapter implements, the context the engine hands it, and the training protocol.

Batching, devices and model loading are the adapter's business; sharding, resume, progress,
error isolation and scoring are the engine's. A detector is any object with ``predict(batch)``:
:func:`as_detector` gives one that is not a :class:`Detector` the defaults declared here, so
the engine calls every hook the same way. Training is the :class:`Trainable` protocol.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from fdrbench.api.task import Task
from fdrbench.errors import FdrbenchError
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
    """Base class of every adapter (subclassing it is optional: see :func:`as_detector`).

    Subclasses take their settings as keyword arguments (``--model-arg key=value``), load what
    they need in :meth:`setup`, and answer :meth:`predict` for a batch of samples with one
    :class:`~fdrbench.types.Prediction` per sample, in order. A detector with a training recipe
    is also :class:`Trainable`.
    """

    name: str = ""
    #: True when the adapter decodes images itself (e.g. in DataLoader workers); otherwise the
    #: runner decodes the next batch in a background thread while the current one is predicted.
    loads_images: bool = False
    #: False for detectors that never touch an accelerator: ``--device auto`` then records ``cpu``
    uses_device: bool = True

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


@runtime_checkable
class Trainable(Protocol):
    """A detector class with a training recipe (``fdrbench train ADAPTER [ACTION]``)."""

    @classmethod
    def train(cls, ctx: TrainContext, **args: Any) -> dict:
        """Run ``ctx.action`` (most recipes only have ``fit``) on ``ctx.task``'s ``ctx.split``;
        write the result under ``ctx.out``; return a JSON-ready summary."""

    @classmethod
    def default_train_out(cls, task_name: str) -> Path:
        """Where the trained parameters go when ``--out`` is not given."""


def default_train_out(cls: type, adapter: str, task_name: str) -> Path:
    """The recipe's own default output folder, else ``checkpoints/<adapter>/<task>``."""
    own = getattr(cls, "default_train_out", None)
    return Path(own(task_name)) if callable(own) else Path("checkpoints") / adapter / task_name


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
