"""LLaVA-1.5 processors saved in the transformers 4.4x era, read the way that era read them.

FakeVLM pins the processor of ``llava-hf/llava-1.5-7b-hf`` at a revision older than the processor
settings transformers 5 needs, and transformers 5 reads three parts of such a folder differently
from the 4.45.2 its authors ran:

- **Image-token settings.** Without ``patch_size`` and ``vision_feature_select_strategy``, 4.45 put
  one ``<image>`` in the text and let the model expand it; 5.x expands in the processor and raises a
  TypeError without ``patch_size``, or writes 575 image tokens against 576 features when
  ``num_additional_image_tokens`` (the CLS token CLIP adds) is missing. The missing values are
  filled from the model's own config and recorded.
- **Tokenizer.** 5.x rebuilds a LLaMA tokenizer from its ``legacy`` flag and ignores the saved
  ``tokenizer.json``, so the word after ``<image>`` becomes ``Does`` or ``▁Does`` by the flag; 4.45
  ran the saved ``tokenizer.json`` pipeline as is, which is what is loaded here.
- **Image processor.** 5.x picks a torchvision resize when torchvision is installed; 4.45's
  CLIP processor was PIL's, which is loaded here whatever is installed.
"""

from __future__ import annotations

from typing import Any

from fdrbench.adapters.llama_tokenizers import saved_pipeline_tokenizer
from fdrbench.errors import FdrbenchError

#: vision towers that prepend a CLS token to their patch features
CLS_TOWERS = ("clip_vision_model",)
IMAGE_TOKEN_SETTINGS = ("patch_size", "vision_feature_select_strategy", "num_additional_image_tokens")


def saved_processor_keys(processor: Any, source: str, revision: str | None) -> set[str]:
    """The keys the processor folder itself sets (``processor_config.json``), not the class defaults."""
    try:
        found, _ = type(processor).get_processor_dict(source, revision=revision)
    except (OSError, ValueError) as exc:
        raise FdrbenchError(f"cannot read the processor settings of {source!r} (revision {revision}): {exc}") from exc
    return {key for key, value in found.items() if value is not None}


def image_token_defaults(model_config: Any) -> dict[str, Any]:
    """``patch_size``, ``vision_feature_select_strategy`` and ``num_additional_image_tokens`` as the
    model's config implies them (the values 4.45's in-model expansion used)."""
    vision = getattr(model_config, "vision_config", None)
    patch = getattr(vision, "patch_size", None)
    strategy = getattr(model_config, "vision_feature_select_strategy", None)
    if patch is None or strategy is None:
        raise FdrbenchError("the model config has no vision_config.patch_size or vision_feature_select_strategy to fill the processor from")
    extra = 1 if getattr(vision, "model_type", None) in CLS_TOWERS else 0
    return {"patch_size": int(patch), "vision_feature_select_strategy": str(strategy), "num_additional_image_tokens": extra}


def fill_image_token_settings(processor: Any, model_config: Any, source: str, revision: str | None) -> dict[str, Any]:
    """Set the image-token settings the processor folder lacks; returns what was filled."""
    saved = saved_processor_keys(processor, source, revision)
    defaults = image_token_defaults(model_config)
    filled = {}
    for key in IMAGE_TOKEN_SETTINGS:
        if key not in saved or getattr(processor, key, None) is None:
            setattr(processor, key, defaults[key])
            filled[key] = defaults[key]
    return filled


def pil_image_processor(source: str, revision: str | None) -> Any:
    """The folder's image processor with the PIL backend, whether or not torchvision is installed."""
    from transformers import AutoImageProcessor

    try:
        return AutoImageProcessor.from_pretrained(source, revision=revision, backend="pil")
    except (OSError, ValueError) as exc:
        raise FdrbenchError(f"cannot load the PIL image processor of {source!r} (revision {revision}): {exc}") from exc


def as_in_transformers_4_45(processor: Any, model_config: Any, source: str, revision: str | None) -> dict[str, Any]:
    """Make a LLaVA processor behave as 4.45 read the same folder; returns the record for ``describe()``."""
    record: dict[str, Any] = {"filled_from_model_config": fill_image_token_settings(processor, model_config, source, revision)}
    tokenizer = saved_pipeline_tokenizer(source, revision)
    if tokenizer is not None:
        replaced = type(processor.tokenizer).__name__
        tokenizer.padding_side = processor.tokenizer.padding_side
        processor.tokenizer = tokenizer
        record["tokenizer"] = f"the saved tokenizer.json pipeline (instead of {replaced}, which rebuilds it from the legacy flag)"
    else:
        record["tokenizer"] = f"{type(processor.tokenizer).__name__} (the source has no tokenizer.json)"
    processor.image_processor = pil_image_processor(source, revision)
    record["image_processor"] = type(processor.image_processor).__name__
    return record
