"""Build a SIDA model from a released checkpoint folder (or a Hub id) without a random init.

Parameters are created empty (``accelerate.init_empty_weights``) and filled from the
checkpoint through :mod:`fdrbench.adapters.sida.weights`, so a 7B model needs only its own
memory. The CLIP tower, which the released folders leave out, comes from the folder or Hub
id the checkpoint's config names (``openai/clip-vit-large-patch14``) or ``clip=PATH``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fdrbench.adapters.sida.config import DEFAULT_VISION_TOWER, SidaConfig, clip_vit_l14_config, llm_config, read_json, sam_config_from
from fdrbench.adapters.sida.weights import KeyMap, KeyReport, checkpoint_keys, iter_tensors, weight_files
from fdrbench.errors import FdrbenchError

DTYPES = {"bfloat16": "bfloat16", "bf16": "bfloat16", "float16": "float16", "fp16": "float16", "float32": "float32", "fp32": "float32"}
#: what ``dtype=auto`` means, recorded in the manifest
AUTO_DTYPE_RULE = "float16 on GPU (test.py's default precision, with which SID-Set was scored), float32 on CPU"


def resolve_folder(spec: str | Path, what: str) -> Path:
    """A local folder as given, else a Hub repository id fetched into the Hub cache."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return path
    if path.exists() or str(spec).startswith((".", "/", "~")) or str(spec).count("/") != 1:
        raise FdrbenchError(f"{what}: {spec} is not a folder (give a checkpoint folder or a Hub id such as saberzl/SIDA-7B)")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(str(spec), allow_patterns=["*.json", "*.safetensors", "*.bin", "*.model", "*.txt"]))
    except Exception as exc:  # network, authentication and missing-repo errors share no base class
        raise FdrbenchError(
            f"{what}: cannot fetch {spec} from the Hub ({type(exc).__name__}: {exc}); download it and pass the folder"
        ) from exc


def torch_dtype(name: str, device: str):
    """``auto`` -> float16 on CUDA (the authors' ``test.py``), float32 elsewhere."""
    import torch

    if name == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    if name not in DTYPES:
        raise FdrbenchError(f"dtype must be auto, bfloat16, float16 or float32, got {name!r}")
    return getattr(torch, DTYPES[name])


def fingerprint(folder: Path) -> str:
    """Cheap identity of a checkpoint: its config and the names and sizes of its weight files."""
    digest = hashlib.sha256()
    digest.update((folder / "config.json").read_bytes() if (folder / "config.json").is_file() else b"")
    for path in weight_files(folder):
        digest.update(f"{path.name}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()


@dataclass
class Loaded:
    model: Any
    tokenizer: Any
    config: SidaConfig
    clip_source: Path | None
    report: KeyReport
    folder: Path


def load(
    weights: str | Path,
    clip: str | Path | None = None,
    sam: str | dict | None = None,
    device: str = "cpu",
    dtype: str = "auto",
) -> Loaded:
    """Read ``config.json``, the tokenizer and every tensor of a SIDA checkpoint into :class:`SidaModel`."""
    from accelerate import init_empty_weights

    from fdrbench.adapters.sida.modeling import SidaModel

    folder = resolve_folder(weights, "SIDA weights")
    raw = read_json(folder / "config.json", "SIDA checkpoint config")
    files = weight_files(folder)
    with_tower = any(k.startswith("model.vision_tower.") for k in checkpoint_keys(files))
    clip_spec = clip or raw.get("mm_vision_tower") or raw.get("vision_tower") or DEFAULT_VISION_TOWER
    if with_tower and not Path(clip_spec).expanduser().is_dir():
        clip_folder = None  # the tower is in the checkpoint: no download; CLIP ViT-L/14's sizes
    else:
        clip_folder = resolve_folder(clip_spec, "CLIP vision tower")
    config = SidaConfig(
        llm=llm_config(raw, where=str(folder / "config.json")),
        clip=_clip_config(clip_folder),
        sam=sam_config_from(sam),
        out_dim=int(raw.get("out_dim", 256)),
        vision_select_layer=int(raw.get("mm_vision_select_layer", -2)),
    )
    target = torch_dtype(dtype, device)
    with init_empty_weights(include_buffers=False):
        model = SidaModel(config)
    keymap = KeyMap.for_model(model)
    extra = {} if clip_folder is None or with_tower else keymap.clip_tensors(iter_tensors(weight_files(clip_folder)))
    tensors, report = keymap.remap(iter_tensors(files), model.state_dict().keys(), extra=extra)
    report.raise_if_bad(str(folder))
    state = {k: v.to(device=device, dtype=target if v.is_floating_point() else v.dtype) for k, v in tensors.items()}
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:  # shape mismatches: config.json and tensors disagree
        raise FdrbenchError(f"{folder}: the weights do not fit the sizes in its config.json: {exc}") from exc
    model.to(device)
    model.eval()
    return Loaded(model, load_tokenizer(folder), config, clip_folder, report, folder)


def load_tokenizer(folder: Path):
    """The checkpoint's tokenizer: a SentencePiece LLaMA folder as transformers 4.31's slow tokenizer
    (the authors' ``use_fast=False``) read it, since transformers 5 would pick a generic backend for a
    ``llava`` config that drops the ``▁`` before the first word; anything else as ``AutoTokenizer`` loads it."""
    from transformers import AutoTokenizer

    from fdrbench.adapters.llama_tokenizers import is_sentencepiece_llama, sentencepiece_tokenizer

    if is_sentencepiece_llama(folder):
        return sentencepiece_tokenizer(folder)
    return AutoTokenizer.from_pretrained(str(folder))


def _clip_config(clip_folder: Path | None):
    if clip_folder is None:
        return clip_vit_l14_config()
    from transformers import CLIPVisionConfig

    data = read_json(clip_folder / "config.json", "CLIP config")
    if "vision_config" in data:  # a full CLIPModel folder
        return CLIPVisionConfig(**data["vision_config"])
    return CLIPVisionConfig(**{k: v for k, v in data.items() if k not in ("architectures", "model_type", "transformers_version")})
