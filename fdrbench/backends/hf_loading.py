"""Loading any transformers image-text-to-text model and its processor, by hub id or local folder.

The dtype and device placement are chosen at run time: ``dtype="auto"`` is bfloat16 on a GPU
that supports it (float16 otherwise) and float32 on CPU; ``device_map`` (e.g. ``"auto"``) hands
placement across GPUs to accelerate, otherwise the model is moved to the run's device. The same
code runs on CPU in the tests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fdrbench.errors import FdrbenchError

DTYPES = ("auto", "float32", "float16", "bfloat16")


@dataclass(frozen=True)
class ModelSpec:
    """Where the weights and processor come from and how to place them."""

    path: str
    revision: str | None = None
    processor: str | None = None
    processor_revision: str | None = None
    dtype: str = "auto"
    device_map: str | dict | None = None
    attn_implementation: str | None = None
    trust_remote_code: bool = False
    model_class: str | None = None

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise FdrbenchError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")

    @property
    def processor_source(self) -> tuple[str, str | None]:
        """(processor id or folder, its revision): the model's own unless another is named."""
        if self.processor:
            return self.processor, self.processor_revision
        return self.path, self.processor_revision or self.revision


def resolve_dtype(name: str, device: str) -> Any:
    """The torch dtype for ``name`` on ``device`` (``auto``: bf16/fp16 on CUDA, fp32 elsewhere)."""
    import torch

    if name != "auto":
        return getattr(torch, name)
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def _model_class(spec: ModelSpec) -> Any:
    import transformers

    if spec.model_class is None:
        return transformers.AutoModelForImageTextToText
    cls = getattr(transformers, spec.model_class, None)
    if cls is None or not hasattr(cls, "from_pretrained"):
        raise FdrbenchError(f"model_class {spec.model_class!r} is not a transformers model class")
    return cls


def load_model(spec: ModelSpec, device: str) -> tuple[Any, Any]:
    """``(model, processor)``, the model in eval mode on ``device`` (or placed by ``device_map``)."""
    from transformers import AutoProcessor

    dtype = resolve_dtype(spec.dtype, device)
    kwargs: dict[str, Any] = {"revision": spec.revision, "dtype": dtype, "trust_remote_code": spec.trust_remote_code}
    if spec.device_map is not None:
        kwargs["device_map"] = spec.device_map
    if spec.attn_implementation:
        kwargs["attn_implementation"] = spec.attn_implementation
    try:
        model = _model_class(spec).from_pretrained(spec.path, **kwargs)
    except (OSError, ValueError) as exc:
        raise FdrbenchError(
            f"cannot load model {spec.path!r} (revision {spec.revision}): {exc}\n  hint: pass a local folder, or a hub id on a machine that can download it"
        ) from exc
    if spec.device_map is None:
        model.to(device)
    model.eval()
    source, revision = spec.processor_source
    try:
        processor = AutoProcessor.from_pretrained(source, revision=revision, trust_remote_code=spec.trust_remote_code)
    except (OSError, ValueError) as exc:
        raise FdrbenchError(f"cannot load the processor {source!r} (revision {revision}): {exc}") from exc
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is None:
        raise FdrbenchError(f"the processor of {source!r} has no tokenizer; an image-text-to-text processor is needed")
    return model, processor


def folder_fingerprint(path: Path) -> str:
    """A cheap identity of a local weights folder: every JSON file's content and every other
    file's name and size. A changed checkpoint or config gives another run id."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        digest.update(rel.encode())
        if file.suffix == ".json" or file.name.endswith(".jinja"):
            digest.update(file.read_bytes())
        else:
            digest.update(str(file.stat().st_size).encode())
    return digest.hexdigest()


def source_identity(path: str, revision: str | None) -> dict:
    """What a model or processor source is: a local folder's fingerprint, or a hub id and revision."""
    folder = Path(path).expanduser()
    if folder.is_dir():
        return {"folder_sha256": folder_fingerprint(folder)}
    return {"hub_id": path, "revision": revision}


def resolved_revision(model: Any) -> str | None:
    """The hub commit the weights were loaded from, when transformers recorded it."""
    return getattr(getattr(model, "config", None), "_commit_hash", None)
