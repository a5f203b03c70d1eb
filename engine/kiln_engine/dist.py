"""Data-parallel training under torchrun: process-group setup from the environment, one job."""
from __future__ import annotations

import os
from datetime import timedelta
from dataclasses import dataclass

import torch
import torch.distributed as td


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job."""

    rank: int
    world_size: int
    local_rank: int

    @property
    def enabled(self) -> bool:
        """More than one process."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that writes events, checkpoints and artifacts."""
        return self.rank == 0


def init_distributed(device: str) -> DistInfo:
    """Join the process group torchrun describes (WORLD_SIZE > 1); gloo on CPU, nccl on CUDA."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo(0, 1, 0)
    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    backend = "nccl" if device.startswith("cuda") else "gloo"
    if not td.is_initialized():
        # Rank 0 encodes the dataset while the others wait at a barrier: allow for a long encode.
        td.init_process_group(backend=backend, timeout=timedelta(hours=3))
    if device.startswith("cuda"):
        torch.cuda.set_device(local)
    return DistInfo(rank, world, local)


def device_for(device: str, info: DistInfo) -> torch.device:
    """The torch device of this rank: `cuda` becomes `cuda:<local rank>` under torchrun."""
    if device == "cuda" and info.enabled:
        return torch.device(f"cuda:{info.local_rank}")
    return torch.device(device)


def any_rank(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every rank when it is true on any (so all ranks stop at the same step)."""
    if not info.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    td.all_reduce(t, op=td.ReduceOp.MAX)
    return bool(t.item() > 0)


def shutdown() -> None:
    """Leave the process group if one was joined."""
    if td.is_initialized():
        td.destroy_process_group()
