"""The data loaders of a run: the shuffled training split and the fixed evaluation splits."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler, Subset

from .config import Config
from .data import Benchmark
from .runtime import resolve_device, world
from .views import eval_transform, train_transform


def drawn(n: int, size: int | None, seed: int) -> list[int]:
    """The positions of ``size`` of ``n`` items drawn with ``seed``, in their order (all of them
    when ``size`` is None or larger)."""
    if size is None or size >= n:
        return list(range(n))
    return sorted(np.random.default_rng(seed).permutation(n)[:size].tolist())


def subset(ds, size: int | None, seed: int):
    """``size`` items of ``ds`` drawn with ``seed`` (in their order), or all of it when ``size`` is None or larger."""
    if size is None or size >= len(ds):
        return ds
    return Subset(ds, drawn(len(ds), size, seed))


def loader_options(cfg: Config, device: torch.device) -> dict:
    """Worker processes, pinned memory and persistent workers on a GPU, so decoding and
    augmenting never leave it idle; the main process on a CPU, whose cores train."""
    workers = cfg.num_workers
    if workers is None:
        workers = 0 if device.type != "cuda" else min(8, (os.cpu_count() or 1) // max(1, torch.cuda.device_count()))
    return {"num_workers": workers, "pin_memory": device.type == "cuda", "persistent_workers": workers > 0}


def train_loader(cfg: Config, bench: Benchmark, backbone, device) -> DataLoader:
    """The shuffled source split, this rank's share of each batch; reseed ``loader.generator`` per epoch."""
    rank, world_size = world()
    train_set = subset(bench.dataset(cfg.train_split, train_transform(bench, cfg, backbone)), cfg.train_size, cfg.seed)
    sampler = DistributedSampler(train_set, world_size, rank, seed=cfg.seed) if world_size > 1 else None
    loader = DataLoader(
        train_set,
        cfg.batch_size // world_size,
        shuffle=sampler is None,
        sampler=sampler,
        drop_last=True,
        generator=torch.Generator(),
        **loader_options(cfg, device),
    )
    if len(loader) == 0:
        raise ValueError(f"train_size {len(train_set)} gives no full batch of {cfg.batch_size}")
    return loader


def eval_loader(bench: Benchmark, cfg: Config, backbone, split: str) -> DataLoader:
    """The loader of one evaluation split's final images: the same ``final_eval_size`` images
    for every run and seed, sharded across ranks under torch.distributed."""
    return _loader(subset(bench.dataset(split, eval_transform(bench, cfg, backbone)), cfg.final_eval_size, 0), cfg)


def epoch_positions(final: DataLoader, cfg: Config) -> list[int]:
    """Where, among a split's final images, the ``eval_size`` images evaluated every epoch are."""
    return drawn(len(final.dataset), cfg.eval_size, 0)


def epoch_loader(final: DataLoader, cfg: Config) -> DataLoader:
    """The loader of the ``eval_size`` images evaluated every epoch: drawn from the final ones,
    so the last epoch's curve point comes from the final evaluation's own forward passes."""
    if cfg.eval_size is None or cfg.eval_size >= len(final.dataset):
        return final
    return _loader(subset(final.dataset, cfg.eval_size, 0), cfg)


def _loader(ds, cfg: Config) -> DataLoader:
    rank, world_size = world()
    sampler = DistributedSampler(ds, world_size, rank, shuffle=False) if world_size > 1 else None
    return DataLoader(
        ds, max(1, 2 * cfg.batch_size // world_size), sampler=sampler, **loader_options(cfg, resolve_device(cfg.device))
    )
