"""Loading a FakeReasoning checkpoint (released or fdrbench-written) into :class:`FakeReasoningModel`, and
writing one back in the released layout.

A checkpoint folder (or Hub id) holds a LLaVA ``config.json``, the tokenizer and the weights. The vision
towers come from the checkpoint when it carries them, otherwise from ``clip`` (a CLIP folder or Hub id,
default the config's ``mm_vision_tower`` or ``openai/clip-vit-large-patch14-336``) and ``dino`` (the
``dinov2_vitl14_pretrain.pth`` file, a path or URL). The model is built without allocating random
weights; every parameter must then be filled from one of these sources, or loading fails with the list
of missing and unexpected keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fdrbench.adapters.fakereasoning.checkpoint_files import (
    HUB_ID,
    Source,
    WeightsError,
    iter_checkpoint,
    read_tensors,
    resolve,
    save_tensors,
    weight_files,
)
from fdrbench.adapters.fakereasoning.config import DEFAULT_CLIP, DEFAULT_DINO_URL, DINOV2_L14, FakeReasoningConfig
from fdrbench.adapters.fakereasoning.modeling import FakeReasoningModel
from fdrbench.adapters.fakereasoning.weights import KeyMapper, MappedState, group_of, summarize_keys
from fdrbench.errors import FdrbenchError


@dataclass
class LoadReport:
    """What went where: for the manifest, and for the error message when something is off."""

    sources: dict[str, Any] = field(default_factory=dict)
    loaded: set[str] = field(default_factory=set)
    unexpected: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    wrong_shape: list[str] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)
    fresh_keys: set[str] = field(default_factory=set)

    def to_dict(self) -> dict:
        return {"sources": self.sources, "n_loaded": len(self.loaded), "n_ignored": len(self.ignored), "fresh_groups": self.fresh}


@dataclass
class Loaded:
    model: FakeReasoningModel
    tokenizer: Any
    config: FakeReasoningConfig
    report: LoadReport
    source: Source


def read_config(folder: Path) -> FakeReasoningConfig:
    path = folder / "config.json"
    if not path.is_file():
        raise FdrbenchError(f"{folder}: no config.json; expected a FakeReasoning / LLaVA checkpoint folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FdrbenchError(f"{path}: not valid JSON ({exc})") from exc
    return FakeReasoningConfig.from_llava_json(data, where=str(path))


def empty_model(config: FakeReasoningConfig, attn_implementation: str | None) -> FakeReasoningModel:
    """The model with parameters on the meta device (no memory, no random init); buffers are real."""
    from accelerate import init_empty_weights

    with init_empty_weights(include_buffers=False):
        return FakeReasoningModel(config, attn_implementation)


class _Filler:
    """Assigns mapped tensors into an empty model, converting dtype and device on the way."""

    def __init__(self, model: nn.Module, dtype: torch.dtype, device: str | torch.device, report: LoadReport):
        self.model = model
        self.dtype = dtype
        self.device = torch.device(device)
        self.report = report
        self.expected = {k: v.shape for k, v in model.state_dict().items()}

    def fill(self, mapped: MappedState, origin: str) -> None:
        self.report.unexpected += [f"{k} ({origin})" for k in mapped.unexpected]
        self.report.ignored += mapped.ignored
        batch = {}
        for key, tensor in mapped.tensors.items():
            if key not in self.expected:
                self.report.unexpected.append(f"{key} ({origin}: maps to no parameter of this configuration)")
                continue
            if tuple(tensor.shape) != tuple(self.expected[key]):
                self.report.wrong_shape.append(f"{key}: {tuple(tensor.shape)} in {origin}, model has {tuple(self.expected[key])}")
                continue
            dtype = self.dtype if tensor.is_floating_point() else tensor.dtype
            batch[key] = tensor.to(device=self.device, dtype=dtype)
        if batch:
            self.model.load_state_dict(batch, strict=False, assign=True)
            self.report.loaded.update(batch)

    def missing(self, group: str | None = None) -> list[str]:
        keys = [k for k in self.expected if k not in self.report.loaded and k not in self.report.fresh_keys]
        return [k for k in keys if group is None or group_of(k) == group]

    def group_keys(self, group: str) -> list[str]:
        return [k for k in self.expected if group_of(k) == group]


def _clip_spec(clip: str | None, config: FakeReasoningConfig) -> str:
    """The CLIP source: the argument, else the config's mm_vision_tower when it exists or looks like a
    Hub id (released configs may name a folder on the authors' machine), else the public model."""
    if clip:
        return clip
    spec = config.vision_source
    if spec and (Path(spec).expanduser().exists() or HUB_ID.match(spec)):
        return spec
    return DEFAULT_CLIP


def _read_dino(spec: str) -> dict:
    if spec.startswith(("http://", "https://")):
        try:
            return torch.hub.load_state_dict_from_url(spec, map_location="cpu", weights_only=True, check_hash=False)
        except Exception as exc:
            raise FdrbenchError(f"could not download the DINOv2 weights from {spec} ({type(exc).__name__}: {exc})") from exc
    path = Path(spec).expanduser()
    if not path.exists():
        raise FdrbenchError(f"DINOv2 weights {spec!r} not found (pass --model-arg dino=PATH to dinov2_vitl14_pretrain.pth)")
    return read_tensors(path if path.is_file() else weight_files(path)[0])


def materialize_fresh(module: nn.Module, device: str | torch.device, dtype: torch.dtype) -> None:
    """Give a meta-device module real, freshly initialised parameters (PyTorch's default init)."""
    module.to_empty(device=device)
    for sub in module.modules():
        if hasattr(sub, "reset_parameters"):
            sub.reset_parameters()
    module.to(dtype=dtype)


def load_pretrained(
    weights: str,
    clip: str | None = None,
    dino: str | None = None,
    revision: str | None = None,
    dtype: torch.dtype = torch.float32,
    device: str = "cpu",
    attn_implementation: str | None = "sdpa",
    fresh_faff: bool = False,
) -> Loaded:
    """Build the model from ``weights`` (folder or Hub id) plus the vision sources; fail on any key gap.

    ``fresh_faff`` lets a checkpoint without FAFF weights (the LLaVA-MoF base the authors trained from)
    start with a newly initialised FAFF, as the released training did; loading for inference never
    allows it.
    """
    source = resolve(weights, revision, what="FakeReasoning weights")
    folder = source.path
    config = read_config(folder)
    model = empty_model(config, attn_implementation)
    mapper = KeyMapper(model)
    report = LoadReport(sources={"weights": source.describe()})
    filler = _Filler(model, dtype, device, report)
    for path, tensors in iter_checkpoint(folder):
        filler.fill(mapper.from_original(tensors), path.name)
        del tensors
    if filler.missing("clip") and len(filler.missing("clip")) == len(filler.group_keys("clip")):
        spec = _clip_spec(clip, config)
        from transformers import CLIPVisionModel

        clip_source = resolve(spec, None, what="CLIP vision tower")
        try:
            tower = CLIPVisionModel.from_pretrained(str(clip_source.path), dtype=dtype)
        except Exception as exc:
            raise FdrbenchError(f"could not load a CLIP vision model from {spec!r} ({type(exc).__name__}: {exc})") from exc
        filler.fill(mapper.clip_from_pretrained(tower.state_dict()), f"CLIP {spec}")
        report.sources["clip"] = clip_source.describe()
        del tower
    if filler.missing("dino") and len(filler.missing("dino")) == len(filler.group_keys("dino")):
        if dino is None and config.dino != DINOV2_L14:
            raise FdrbenchError("this checkpoint has no DINOv2 weights and its DINOv2 is not ViT-L/14: pass dino=PATH")
        spec = dino or DEFAULT_DINO_URL
        filler.fill(mapper.dino_file(_read_dino(spec)), f"DINOv2 {spec}")
        report.sources["dino"] = {"source": spec}
    if fresh_faff and len(filler.missing("faff")) == len(filler.group_keys("faff")):
        materialize_fresh(model.faff, device, dtype)
        report.fresh.append("faff")
        report.fresh_keys.update(filler.group_keys("faff"))
    raise_for_gaps(filler.missing(), report)
    model.to(device)
    model.eval()
    tokenizer = load_tokenizer(folder)
    return Loaded(model, tokenizer, config, report, source)


def load_tokenizer(folder: Path):
    """The checkpoint's tokenizer: a SentencePiece LLaMA folder as the authors' transformers 4.37.2
    read it with ``use_fast=False`` (:mod:`fdrbench.adapters.llama_tokenizers`), anything else as
    ``AutoTokenizer`` loads it. transformers' note that ``llava_llama`` is not one of its model types
    (it reads config.json to pick a tokenizer class) is silenced, as it is expected here."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from fdrbench.adapters.llama_tokenizers import is_sentencepiece_llama, sentencepiece_tokenizer

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        if is_sentencepiece_llama(Path(folder)):
            tokenizer = sentencepiece_tokenizer(Path(folder))
        else:
            tokenizer = AutoTokenizer.from_pretrained(str(folder))
    finally:
        hf_logging.set_verbosity(level)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.unk_token  # LLaVA v1's choice
    return tokenizer


def raise_for_gaps(missing: list[str], report: LoadReport) -> None:
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing key(s) (the model would keep random weights):\n  {summarize_keys(missing)}")
    if report.unexpected:
        problems.append(f"{len(report.unexpected)} unexpected key(s):\n  " + "\n  ".join(sorted(report.unexpected)))
    if report.wrong_shape:
        problems.append(f"{len(report.wrong_shape)} key(s) with the wrong shape:\n  " + "\n  ".join(sorted(report.wrong_shape)))
    if problems:
        raise WeightsError("the checkpoint does not match the FakeReasoning model:\n" + "\n".join(problems))


def save_pretrained(
    model: FakeReasoningModel, tokenizer, folder: Path, include_vision: bool = True, dtype: torch.dtype | None = None
) -> list[Path]:
    """Write config.json, the tokenizer and the weights in the released (original LLaVA) key layout."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    if dtype is not None:
        state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    original = KeyMapper(model).to_original(state, include_vision=include_vision)
    paths = save_tensors(original, folder, metadata={"layout": "llava_llama (FakeReasoning)"})
    (folder / "config.json").write_text(json.dumps(model.config.to_llava_json(), indent=1), encoding="utf-8")
    tokenizer.save_pretrained(str(folder))
    return paths
