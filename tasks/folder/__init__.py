"""Bring your own data: a folder of images sorted into real and fake folders (``--task folder``)."""

from fdrbench.tasks.folder.task import FolderTask

__all__ = ["FolderTask"]
