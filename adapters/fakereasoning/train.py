"""``fdrbench train fakereasoning``: the released fine-tuning recipe, resumable, on one CPU, one GPU or many.

Settings (``--train-arg key=value``) default to the released recipe: LoRA r 128 / alpha 256 / dropout 0.05 on
every linear layer of the language model (not lm_head), both projectors and FAFF fully trained, the vision
towers frozen; loss = LM + CPM cross-entropy (1:1); AdamW, lr 2e-5 for LoRA and projectors, no weight
decay, cosine schedule with 3 % warm-up, 3 epochs, a global batch of 128 reached by gradient accumulation
(``global_batch / (per_device_batch x processes)`` micro-batches per step), gradient clipping at 1.0;
bf16 and gradient checkpointing on GPU. ``base`` is the checkpoint to start from (the authors started from
LLaVA-MoF, which has no FAFF: FAFF then starts from a fresh initialisation, as in the released training).

Several GPUs: ``accelerate launch -m fdrbench train fakereasoning ...``; ``deepspeed=zero3`` uses the
DeepSpeed ZeRO-3 configuration shipped beside this file (DeepSpeed itself must be installed).

Each epoch visits the records in a seeded order, padded by wrapping round to a whole number of global
batches, so every optimizer step sees exactly ``global_batch`` samples and a resumed run continues with
the very batch it would have taken next.

The result in ``--out``: ``lora/`` (the peft adapter), ``non_lora_trainables.safetensors`` (projectors and
FAFF under the released key names) and ``train_config.json``; ``fdrbench train fakereasoning merge`` turns
them into a full checkpoint the adapter loads.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from fdrbench.api.detector import TrainContext
from fdrbench.errors import FdrbenchError

ZERO3_CONFIG = Path(__file__).with_name("zero3.json")
LORA_DIR = "lora"
NON_LORA_FILE = "non_lora_trainables.safetensors"
TRAIN_CONFIG = "train_config.json"
FORMAT = "fdrbench-fakereasoning-lora-v1"


@dataclass
class TrainSettings:
    base: str
    clip: str | None = None
    dino: str | None = None
    revision: str | None = None
    annotations: str | None = None
    template: str = "vicuna_v1"
    lora_r: int = 128
    lora_alpha: int = 256
    lora_dropout: float = 0.05
    lr: float = 2e-5
    projector_lr: float = 2e-5
    weight_decay: float = 0.0
    warmup_ratio: float = 0.03
    epochs: int = 3
    global_batch: int = 128
    per_device_batch: int = 8
    max_grad_norm: float = 1.0
    cpm_weight: float = 1.0
    facl_weight: float = 0.0
    facl_temperature: float = 0.07
    precision: str = "auto"
    gradient_checkpointing: bool | None = None
    deepspeed: str | None = None
    save_steps: int = 200
    keep_checkpoints: int = 1
    max_steps: int | None = None
    num_workers: int = 0
    attn_implementation: str = "sdpa"

    def __post_init__(self) -> None:
        if self.precision not in ("auto", "bf16", "fp16", "fp32"):
            raise FdrbenchError(f"precision must be auto, bf16, fp16 or fp32, got {self.precision!r}")
        for name in ("epochs", "global_batch", "per_device_batch", "save_steps", "lora_r"):
            if int(getattr(self, name)) <= 0:
                raise FdrbenchError(f"--train-arg {name} must be positive")


def accumulation_steps(global_batch: int, per_device: int, world: int) -> int:
    """Micro-batches per optimizer step so that ``per_device x world x steps == global_batch``."""
    if global_batch % (per_device * world):
        raise FdrbenchError(
            f"global_batch {global_batch} is not a multiple of per_device_batch {per_device} x {world} process(es); "
            f"choose them so that per_device_batch x processes x accumulation = global_batch"
        )
    return global_batch // (per_device * world)


def epoch_order(n: int, seed: int, epoch: int, global_batch: int) -> list[int]:
    """A seeded permutation of ``range(n)``, extended by wrapping round to a multiple of ``global_batch``."""
    import torch

    generator = torch.Generator().manual_seed(seed * 1000003 + epoch)
    order = torch.randperm(n, generator=generator).tolist()
    padded = math.ceil(n / global_batch) * global_batch
    return [order[i % n] for i in range(padded)]


def lora_targets(llm) -> list[str]:
    """Names of the language model's linear layers, lm_head excepted (the released ``find_all_linear_names``)."""
    from torch import nn

    return sorted({name.rsplit(".", 1)[-1] for name, module in llm.named_modules() if isinstance(module, nn.Linear) and name != "lm_head"})


def prepare_trainables(model, settings: TrainSettings):
    """Wrap the LLM with LoRA; projectors and FAFF trainable (in fp32); everything else frozen."""
    import torch
    from peft import LoraConfig, get_peft_model

    model.requires_grad_(False)
    config = LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=lora_targets(model.llm),
        bias="none",
        task_type="CAUSAL_LM",
    )
    model.llm = get_peft_model(model.llm, config)
    for module in (model.mm_projector, model.dino_mm_projector, model.faff):
        module.to(torch.float32)
        module.requires_grad_(True)
    lora = [p for n, p in model.named_parameters() if p.requires_grad and "lora_" in n]
    full = [p for n, p in model.named_parameters() if p.requires_grad and "lora_" not in n]
    return lora, full


def _precision(settings: TrainSettings, gpu: bool) -> str:
    if settings.precision == "auto":
        return "bf16" if gpu else "fp32"
    return settings.precision


def _accelerator(ctx: TrainContext, settings: TrainSettings, precision: str, accum: int):
    import torch
    from accelerate import Accelerator

    kwargs = {"gradient_accumulation_steps": accum, "mixed_precision": "no" if precision == "fp32" else precision}
    if ctx.device == "cpu":
        kwargs["cpu"] = True
    elif ctx.device.startswith("cuda:") and torch.cuda.is_available():
        torch.cuda.set_device(int(ctx.device.split(":", 1)[1]))
    if settings.deepspeed:
        from accelerate.utils import DeepSpeedPlugin

        path = ZERO3_CONFIG if settings.deepspeed == "zero3" else Path(settings.deepspeed).expanduser()
        if not path.is_file():
            raise FdrbenchError(f"DeepSpeed config {path} not found (use deepspeed=zero3 for the shipped ZeRO-3 config)")
        plugin = DeepSpeedPlugin(hf_ds_config=str(path), gradient_accumulation_steps=accum, gradient_clipping=settings.max_grad_norm)
        plugin.deepspeed_config["train_micro_batch_size_per_gpu"] = settings.per_device_batch
        plugin.deepspeed_config["train_batch_size"] = settings.global_batch
        kwargs["deepspeed_plugin"] = plugin
    return Accelerator(**kwargs)


def _world_size() -> int:
    from fdrbench.distributed import dist_info

    return dist_info().world_size


#: settings that do not change what is computed, so a resume may change them
RESUMABLE_CHANGES = ("save_steps", "keep_checkpoints", "num_workers")


def run_signature(settings: TrainSettings, data_fingerprint: str, seed: int, world: int) -> str:
    """What determines a run's trajectory: a checkpoint only resumes a run with the same signature."""
    from fdrbench.hashing import config_hash

    determining = {k: v for k, v in asdict(settings).items() if k not in RESUMABLE_CHANGES}
    return config_hash({"settings": determining, "data": data_fingerprint, "seed": seed, "processes": world})


def mean_over_processes(accelerator, values: dict[str, float]) -> dict[str, float]:
    """The logged losses averaged over all processes (every process calls this at the same step)."""
    import torch

    if accelerator.num_processes == 1:
        return values
    keys = sorted(values)
    reduced = accelerator.reduce(torch.tensor([values[k] for k in keys], device=accelerator.device), reduction="mean")
    return dict(zip(keys, reduced.tolist(), strict=True))


def fit(ctx: TrainContext, settings: TrainSettings) -> dict:
    """Train from ``settings.base`` on the CoT file of ``ctx.data_dir``; resumes from ``ctx.out`` when it holds checkpoints."""
    import torch
    from accelerate.utils import set_seed
    from transformers import get_cosine_schedule_with_warmup

    from fdrbench.adapters.fakereasoning import train_checkpoints as ckpt
    from fdrbench.adapters.fakereasoning.conversation import template
    from fdrbench.adapters.fakereasoning.cpm import cpm_ids
    from fdrbench.adapters.fakereasoning.data import CoTDataset, as_samples, collate, find_annotations, read_records
    from fdrbench.adapters.fakereasoning.objective import LossWeights, training_loss
    from fdrbench.adapters.fakereasoning.pretrained import load_pretrained
    from fdrbench.adapters.fakereasoning.processing import ImageProcessor
    from fdrbench.api.task import subsample
    from fdrbench.fingerprints import fingerprint_samples
    from fdrbench.progress import progress_bar

    tpl = template(settings.template)
    annotations = find_annotations(Path(ctx.data_dir), ctx.split, settings.annotations)
    samples = subsample(as_samples(read_records(annotations)), ctx.limit, ctx.seed)
    records = [s.meta["record"] for s in samples]

    accum = accumulation_steps(settings.global_batch, settings.per_device_batch, _world_size())
    gpu = ctx.device.startswith("cuda") and torch.cuda.is_available()
    precision = _precision(settings, gpu)
    accelerator = _accelerator(ctx, settings, precision, accum)
    world, rank = accelerator.num_processes, accelerator.process_index
    set_seed(ctx.seed)

    frozen_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
    load_device = "cpu" if settings.deepspeed else str(accelerator.device)
    loaded = load_pretrained(
        settings.base,
        settings.clip,
        settings.dino,
        settings.revision,
        dtype=frozen_dtype,
        device=load_device,
        attn_implementation=settings.attn_implementation,
        fresh_faff=True,
    )
    model, tokenizer, config = loaded.model, loaded.tokenizer, loaded.config
    lora_params, full_params = prepare_trainables(model, settings)
    use_checkpointing = gpu if settings.gradient_checkpointing is None else bool(settings.gradient_checkpointing)
    if use_checkpointing:
        model.language_model().gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    model.vision.eval()

    dataset = CoTDataset(records, tokenizer, ImageProcessor(config), tpl)
    steps_per_epoch = math.ceil(len(records) / settings.global_batch)
    total_steps = settings.epochs * steps_per_epoch
    if settings.max_steps is not None:
        total_steps = min(total_steps, int(settings.max_steps))
    optimizer = torch.optim.AdamW(
        [{"params": lora_params, "lr": settings.lr}, {"params": full_params, "lr": settings.projector_lr}],
        weight_decay=settings.weight_decay,
    )
    scheduler = get_cosine_schedule_with_warmup(optimizer, math.ceil(total_steps * settings.warmup_ratio), total_steps)
    model, optimizer = accelerator.prepare(model, optimizer)

    out = Path(ctx.out)
    signature = run_signature(settings, fingerprint_samples(samples), ctx.seed, world)
    progress = ckpt.Progress(signature=signature)
    resumed_from = None
    existing = ckpt.checkpoint_dirs(out)
    if existing:
        progress = ckpt.load(accelerator, model, optimizer, scheduler, existing[-1], signature)
        resumed_from = str(existing[-1])

    ids = cpm_ids(tokenizer, config)
    weights = LossWeights(cpm=settings.cpm_weight, facl=settings.facl_weight, facl_temperature=settings.facl_temperature, tau=config.tau)
    trainable = [p for p in model.parameters() if p.requires_grad]
    micro_per_epoch = steps_per_epoch * accum
    started = time.perf_counter()
    n_mismatch = 0
    with progress_bar(
        total_steps,
        "fakereasoning training",
        unit="step",
        enabled=ctx.show_progress and accelerator.is_main_process,
        completed=progress.step,
    ) as bar:
        while progress.step < total_steps:
            order = epoch_order(len(records), ctx.seed, progress.epoch, settings.global_batch)
            mine = order[rank::world]
            micro = [mine[i : i + settings.per_device_batch] for i in range(0, len(mine), settings.per_device_batch)]
            # a dedicated generator: building a loader must not consume the global RNG (dropout draws from it)
            loader = torch.utils.data.DataLoader(
                dataset,
                batch_sampler=micro[progress.micro_in_epoch :],
                collate_fn=collate,
                num_workers=settings.num_workers,
                generator=torch.Generator().manual_seed(ctx.seed + progress.epoch),
            )
            running: list[dict] = []
            for batch in loader:
                batch["pixel_values"] = batch["pixel_values"].to(accelerator.device)
                batch["forgery_labels"] = batch["forgery_labels"].to(accelerator.device)
                n_mismatch += batch["n_mismatch"]
                with accelerator.accumulate(model):
                    loss, parts = training_loss(model, batch, ids, weights)
                    accelerator.backward(loss)
                    if accelerator.sync_gradients and settings.max_grad_norm and not settings.deepspeed:
                        accelerator.clip_grad_norm_(trainable, settings.max_grad_norm)
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)
                running.append(parts)
                progress.micro_in_epoch += 1
                if not accelerator.sync_gradients:
                    continue
                scheduler.step()
                progress.step += 1
                entry = mean_over_processes(accelerator, {k: sum(p[k] for p in running) / len(running) for k in running[0]})
                entry.update(step=progress.step, epoch=progress.epoch, lr=scheduler.get_last_lr()[0])
                progress.history.append(entry)
                running = []
                if progress.micro_in_epoch >= micro_per_epoch:  # roll over before saving, so a resume starts the next epoch
                    progress.epoch += 1
                    progress.micro_in_epoch = 0
                bar.advance()
                if progress.step % settings.save_steps == 0 or progress.step == total_steps:
                    ckpt.save(accelerator, model, optimizer, scheduler, progress, out, settings.keep_checkpoints)
                if progress.step >= total_steps or progress.micro_in_epoch == 0:
                    break

    summary = save_result(accelerator, model, settings, out, records, annotations, progress)
    summary.update(
        resumed_from=resumed_from,
        accumulation=accum,
        processes=world,
        precision=precision,
        gradient_checkpointing=use_checkpointing,
        tokenization_mismatches=n_mismatch,
        wall_s=round(time.perf_counter() - started, 3),
        data_fingerprint=fingerprint_samples(samples),
    )
    if accelerator.is_main_process:
        path = out / TRAIN_CONFIG
        data = json.loads(path.read_text(encoding="utf-8"))
        data["summary"] = summary
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return summary


def save_result(accelerator, model, settings: TrainSettings, out: Path, records, annotations: Path, progress) -> dict:
    """Write ``lora/``, ``non_lora_trainables.safetensors`` and ``train_config.json`` (main process)."""
    from safetensors.torch import save_file

    from fdrbench.adapters.fakereasoning.weights import PEFT_PREFIX, KeyMapper

    state = accelerator.get_state_dict(model)
    unwrapped = accelerator.unwrap_model(model)
    names = [n for n, p in unwrapped.named_parameters() if p.requires_grad]
    history = progress.history
    summary = {
        "out": str(out),
        "steps": progress.step,
        "loss_first": history[0]["loss"] if history else None,
        "loss_last": history[-1]["loss"] if history else None,
    }
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        lora = {k[len("llm.") :]: state[k].detach().cpu() for k in names if "lora_" in k}
        unwrapped.llm.save_pretrained(str(out / LORA_DIR), state_dict=lora)
        full = {k: state[k].detach().cpu().contiguous() for k in names if "lora_" not in k}
        original = KeyMapper(unwrapped).to_original(full)
        save_file({PEFT_PREFIX + k: v for k, v in original.items()}, str(out / NON_LORA_FILE), metadata={"format": "pt"})
        config = {
            "format": FORMAT,
            "settings": asdict(settings),
            "annotations": str(annotations),
            "n_records": len(records),
            "history": history,
        }
        (out / TRAIN_CONFIG).write_text(json.dumps(config, indent=1), encoding="utf-8")
    accelerator.wait_for_everyone()
    summary.update(lora=str(out / LORA_DIR), non_lora=str(out / NON_LORA_FILE))
    return summary
