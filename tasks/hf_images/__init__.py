"""Bring your own data: any Hugging Face image dataset, from the Hub at a pinned revision or a local copy (``--task hf``)."""

from fdrbench.tasks.hf_images.task import HFImagesTask

__all__ = ["HFImagesTask"]
