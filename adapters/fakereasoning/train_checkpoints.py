"""Resumable training state: written every ``save_steps`` optimizer steps, read back after a crash.

Without DeepSpeed a checkpoint holds only what training changes: the trainable parameters (LoRA,
projectors, FAFF) as safetensors, the optimizer and scheduler states, the RNG states and the progress
(epoch, micro-batches done in it, optimizer steps). Each is written to a temporary folder that is renamed
into place once complete, so a crash while saving leaves the previous checkpoint intact. Under DeepSpeed
the engine's own (sharded) checkpoint is used instead, through accelerate.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from fdrbench.errors import FdrbenchError

CHECKPOINTS = "checkpoints"
PROGRESS = "progress.json"


@dataclass
class Progress:
    epoch: int = 0
    micro_in_epoch: int = 0
    step: int = 0
    history: list[dict] = field(default_factory=list)
    #: hash of the settings and data that determine the run; a resume with others is refused
    signature: str = ""


def checkpoint_dirs(out: Path) -> list[Path]:
    """Complete checkpoints (with a progress file), oldest first."""
    root = out / CHECKPOINTS
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith("step-") and (p / PROGRESS).is_file()]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().cpu().contiguous() for name, p in model.named_parameters() if p.requires_grad}


def save(accelerator, model, optimizer, scheduler, progress: Progress, out: Path, keep: int) -> Path | None:
    """Write step ``progress.step``; only the main process writes (all processes must call it)."""
    from safetensors.torch import save_file

    final = out / CHECKPOINTS / f"step-{progress.step:08d}"
    tmp = final.with_name(final.name + ".tmp")
    deepspeed = _is_deepspeed(accelerator)
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    if deepspeed:
        accelerator.save_state(str(tmp))
    if accelerator.is_main_process:
        if not deepspeed:
            save_file(trainable_state(accelerator.unwrap_model(model)), str(tmp / "trainables.safetensors"))
            torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
            torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
            rng = {"cpu": torch.get_rng_state()}
            if torch.cuda.is_available():
                rng["cuda"] = torch.cuda.get_rng_state_all()
            torch.save(rng, tmp / "rng.pt")
        (tmp / PROGRESS).write_text(json.dumps(asdict(progress), indent=1), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        for old in checkpoint_dirs(out)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def load(accelerator, model, optimizer, scheduler, folder: Path, signature: str) -> Progress:
    """Restore a checkpoint written by :func:`save` (any number of processes) of a run with ``signature``."""
    from safetensors.torch import load_file

    data = json.loads((folder / PROGRESS).read_text(encoding="utf-8"))
    if data.get("signature") != signature:
        raise FdrbenchError(
            f"{folder} belongs to a run with other settings or data; re-run with the same ones to resume, "
            f"or choose another --out (or delete {folder.parent}) to start afresh"
        )
    if _is_deepspeed(accelerator):
        accelerator.load_state(str(folder))
    else:
        unwrapped = accelerator.unwrap_model(model)
        tensors = load_file(str(folder / "trainables.safetensors"))
        expected = {name for name, p in unwrapped.named_parameters() if p.requires_grad}
        if set(tensors) != expected:
            missing, extra = sorted(expected - set(tensors)), sorted(set(tensors) - expected)
            raise FdrbenchError(
                f"{folder}: checkpoint does not match this training setup (missing {missing[:5]}, unexpected {extra[:5]}); "
                f"resume with the same settings or choose another --out"
            )
        unwrapped.load_state_dict(tensors, strict=False)
        optimizer.load_state_dict(torch.load(folder / "optimizer.pt", map_location="cpu", weights_only=True))
        scheduler.load_state_dict(torch.load(folder / "scheduler.pt", map_location="cpu", weights_only=True))
        rng = torch.load(folder / "rng.pt", map_location="cpu", weights_only=True)
        torch.set_rng_state(rng["cpu"])
        if "cuda" in rng and torch.cuda.is_available() and len(rng["cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(rng["cuda"])
    return Progress(**data)


def _is_deepspeed(accelerator) -> bool:
    from accelerate.utils import DistributedType

    return accelerator.distributed_type == DistributedType.DEEPSPEED
