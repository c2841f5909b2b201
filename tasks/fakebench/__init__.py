"""FakeBench (IEEE TIFS 2025): FakeClass detection questions and FakeBench's own FakeClue interpretation subtask."""

from fdrbench.tasks.fakebench.task import FakeBench, FakeBenchFakeClue

__all__ = ["FakeBench", "FakeBenchFakeClue"]
