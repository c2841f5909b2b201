"""Data parallelism across processes started by ``torchrun`` or ``accelerate launch``.

Each rank reads its rank and world size from the environment those launchers set, predicts a
deterministic shard into its own prediction file, and waits at a barrier before rank 0 merges
and scores. The barrier uses ``torch.distributed`` with the gloo backend, which works on CPU
and beside any GPU backend an adapter may use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def dist_info() -> DistInfo:
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    rank = int(os.environ.get("RANK", "0") or 0)
    local = int(os.environ.get("LOCAL_RANK", str(rank)) or 0)
    if world > 1 and not 0 <= rank < world:
        raise RuntimeError(f"RANK={rank} is outside WORLD_SIZE={world}")
    return DistInfo(rank, world, local)


def barrier(info: DistInfo, timeout_s: float = 3600.0) -> None:
    """Wait for every rank; a no-op in a single process."""
    if info.world_size <= 1:
        return
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="gloo", rank=info.rank, world_size=info.world_size, timeout=timedelta(seconds=timeout_s))
    dist.barrier()


def shutdown(info: DistInfo) -> None:
    if info.world_size <= 1:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def resolve_device(requested: str, info: DistInfo) -> str:
    """``auto`` -> this rank's GPU when torch sees one, else ``cpu``; anything else as given."""
    if requested != "auto":
        return requested
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return f"cuda:{info.local_rank % torch.cuda.device_count()}"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"
