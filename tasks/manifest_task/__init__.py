"""Bring your own data: images listed in a CSV or JSONL labels file (``--task manifest``)."""

from fdrbench.tasks.manifest_task.task import ManifestTask

__all__ = ["ManifestTask"]
