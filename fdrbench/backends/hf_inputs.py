"""Prompt text for one sample and batched model inputs built in DataLoader workers.

Two prompt styles: ``chat`` wraps the question with the processor's chat template (image first,
then the question, then the generation prompt); ``raw`` passes the question as written, with the
image placeholder where the question has ``<image>`` (or placed by ``raw_format``), as some
released evaluations do. Images are decoded and preprocessed by the processor inside DataLoader
workers, one generation batch per worker call, padded on the left so that every row's answer
starts at the same column.
"""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from fdrbench.errors import FdrbenchError
from fdrbench.types import Sample

IMAGE_MARK = "<image>"
TEMPLATES = ("chat", "raw")


def strip_image_mark(prompt: str) -> str:
    """The question without dataset-style ``<image>`` marks (the chat template places the image)."""
    return re.sub(r"\s*<image>\s*", " ", prompt).strip()


def chat_prompt(processor: Any, prompt: str, system_prompt: str | None = None) -> str:
    """The prompt through the processor's chat template, ending with the assistant's turn."""
    if not getattr(processor, "chat_template", None):
        raise FdrbenchError("this processor has no chat template; use --model-arg template=raw (and raw_format) instead")
    messages: list[dict] = []
    if system_prompt:
        messages.append({"role": "system", "content": [{"type": "text", "text": system_prompt}]})
    messages.append({"role": "user", "content": [{"type": "image"}, {"type": "text", "text": strip_image_mark(prompt)}]})
    return processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def raw_prompt(prompt: str, placeholder: str, raw_format: str = "{image}\n{prompt}") -> str:
    """The question untemplated: ``<image>`` marks become the image placeholder; a question without
    one is laid out by ``raw_format`` (fields ``{image}`` and ``{prompt}``)."""
    if IMAGE_MARK in prompt:
        return prompt.replace(IMAGE_MARK, placeholder)
    try:
        return raw_format.format(image=placeholder, prompt=prompt)
    except (KeyError, IndexError) as exc:
        raise FdrbenchError(f"raw_format {raw_format!r} may only use the fields {{image}} and {{prompt}}") from exc


def image_placeholder(processor: Any) -> str:
    return getattr(processor, "image_token", None) or getattr(getattr(processor, "tokenizer", None), "image_token", None) or IMAGE_MARK


@dataclass
class EncodedBatch:
    """One generation batch: which rows of the ``predict`` batch it holds, their inputs, and the
    rows whose image could not be read (each with its error)."""

    indices: list[int]
    inputs: dict[str, Any] | None
    errors: dict[int, str] = field(default_factory=dict)


class BatchEncoder:
    """``collate_fn`` of the DataLoader: opens the images and runs the processor on the batch."""

    def __init__(self, processor: Any):
        self.processor = processor

    def __call__(self, items: Sequence[tuple[int, Sample, str]]) -> EncodedBatch:
        indices, texts, images, errors = [], [], [], {}
        for index, sample, text in items:
            try:
                image = sample.load_image()
            except Exception as exc:  # a decoder can raise anything on a hostile file
                errors[index] = f"{type(exc).__name__}: {exc}"
                continue
            finally:
                sample.release_image()
            indices.append(index)
            texts.append(text)
            images.append(image)
        if not indices:
            return EncodedBatch([], None, errors)
        encoded = self.processor(text=texts, images=images, padding=True, return_tensors="pt")
        return EncodedBatch(indices, dict(encoded), errors)


def encoded_batches(items: Sequence[tuple[int, Sample, str]], processor: Any, batch_size: int, num_workers: int) -> Iterator[EncodedBatch]:
    """Batches of encoded inputs, prepared ``num_workers`` at a time in worker processes."""
    from torch.utils.data import DataLoader

    context = None
    if num_workers > 0 and "fork" in multiprocessing.get_all_start_methods():
        context = "fork"  # workers inherit the samples and processor without pickling them
    loader = DataLoader(
        list(items),
        batch_size=max(1, batch_size),
        shuffle=False,
        num_workers=num_workers,
        collate_fn=BatchEncoder(processor),
        multiprocessing_context=context,
    )
    yield from loader
