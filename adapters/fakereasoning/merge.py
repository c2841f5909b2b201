"""``fdrbench train fakereasoning merge``: LoRA + non-LoRA trainables + the base -> one full checkpoint.

The base named in the run's ``train_config.json`` is loaded again, the LoRA adapter is merged into the
language model, the projectors and FAFF are replaced by the trained ones, and the result is written in
the released layout (``config.json``, tokenizer, ``model*.safetensors`` with the vision towers included),
which ``fdrbench run --model fakereasoning --model-arg weights=<folder>`` loads without further sources.
"""

from __future__ import annotations

import json
from pathlib import Path

from fdrbench.errors import FdrbenchError


def merge(run_dir: Path, destination: Path, dtype: str = "bfloat16", clip: str | None = None, dino: str | None = None) -> dict:
    import torch
    from peft import PeftModel

    from fdrbench.adapters.fakereasoning.checkpoint_files import WeightsError, read_tensors
    from fdrbench.adapters.fakereasoning.pretrained import load_pretrained, save_pretrained
    from fdrbench.adapters.fakereasoning.train import FORMAT, LORA_DIR, NON_LORA_FILE, TRAIN_CONFIG
    from fdrbench.adapters.fakereasoning.weights import KeyMapper, group_of, summarize_keys

    run_dir = Path(run_dir)
    config_path = run_dir / TRAIN_CONFIG
    if not config_path.is_file():
        raise FdrbenchError(f"{run_dir}: no {TRAIN_CONFIG}; pass the --out folder of `fdrbench train fakereasoning`")
    train_config = json.loads(config_path.read_text(encoding="utf-8"))
    if train_config.get("format") != FORMAT:
        raise FdrbenchError(f"{config_path}: not a FakeReasoning training output (format {train_config.get('format')!r})")
    for needed in (run_dir / LORA_DIR / "adapter_config.json", run_dir / NON_LORA_FILE):
        if not needed.exists():
            raise FdrbenchError(f"{needed} is missing: the training run did not finish saving")
    settings = train_config["settings"]
    torch_dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}.get(dtype)
    if torch_dtype is None:
        raise FdrbenchError(f"merge dtype must be bfloat16, float16 or float32, got {dtype!r}")
    loaded = load_pretrained(
        settings["base"],
        clip or settings.get("clip"),
        dino or settings.get("dino"),
        settings.get("revision"),
        dtype=torch_dtype,
        device="cpu",
        fresh_faff=True,
    )
    model = loaded.model
    model.llm = PeftModel.from_pretrained(model.llm, str(run_dir / LORA_DIR)).merge_and_unload()
    mapped = KeyMapper(model).from_original(read_tensors(run_dir / NON_LORA_FILE))
    if mapped.unexpected:
        raise WeightsError(f"{run_dir / NON_LORA_FILE}: unexpected keys:\n  {summarize_keys(mapped.unexpected)}")
    needed = {k for k in model.state_dict() if group_of(k) in ("faff", "mm_projector", "dino_mm_projector")}
    absent = sorted(needed - set(mapped.tensors))
    if absent:
        raise WeightsError(f"{run_dir / NON_LORA_FILE}: missing keys:\n  {summarize_keys(absent)}")
    model.load_state_dict({k: v.to(torch_dtype) for k, v in mapped.tensors.items()}, strict=False)
    paths = save_pretrained(model, loaded.tokenizer, Path(destination), include_vision=True, dtype=torch_dtype)
    return {"merged": str(destination), "files": [p.name for p in paths], "base": settings["base"], "dtype": dtype}
