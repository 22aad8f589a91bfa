"""Where a run executes: its device, its random seeds and its place in a process group."""

from __future__ import annotations

import random

import numpy as np
import torch
from torch import distributed as dist


def resolve_device(name: str) -> torch.device:
    """``"auto"``: CUDA when present, else the CPU; any other name as torch spells it."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def seed_everything(*parts: int) -> None:
    """Seed every RNG from (seed, epoch, rank): each epoch replays exactly after a resume."""
    s = 0
    for p in parts:
        s = (s * 1_000_003 + p + 1) % (2**31)
    random.seed(s), np.random.seed(s), torch.manual_seed(s)


def world() -> tuple[int, int]:
    """(rank, world size): (0, 1) outside torch.distributed."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def all_gather(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` from every rank (no gradient); ``x`` itself when not distributed."""
    if world()[1] == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts)


def to_device(x, device: torch.device):
    """A batch tensor on ``device`` in channels_last (the layout the models train in); None stays None."""
    return x.to(device, non_blocking=True, memory_format=torch.channels_last) if torch.is_tensor(x) else None
