"""Public import path of the task interface; it is declared in :mod:`fdrbench.api.task`."""

from fdrbench.api.task import Task, subsample
from fdrbench.protocols import Aggregate, Protocol

__all__ = ["Aggregate", "Protocol", "Task", "subsample"]
