"""OpenFake (arXiv 2509.09495): its core test split at a pinned revision."""

from fdrbench.tasks.openfake.task import OpenFake

__all__ = ["OpenFake"]
