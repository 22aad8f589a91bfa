"""A run's checkpoint: written atomically after every epoch, and what resuming restores."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from . import records
from .config import RUN_ONLY_FIELDS, Config
from .runtime import resolve_device
from .step import TrainStep, build_step, run_settings


@dataclass
class Progress:
    """Where a run stands: what a checkpoint holds besides the weights, and what resuming restores."""

    epoch: int = 0  # the next epoch to train
    iteration: int = 0
    history: list = field(default_factory=list)
    elapsed: float = 0.0  # training and evaluation seconds, summed over every session of the run


def checkpoint_path(cfg: Config) -> Path:
    return records.checkpoint_path(cfg.run_dir, cfg.run_name)


def save_checkpoint(cfg: Config, step: TrainStep, optimizer, progress: Progress) -> None:
    """The weights, the optimizer and the progress after the epoch ``progress.epoch`` (0-based), atomically."""
    records.save_checkpoint(
        checkpoint_path(cfg),
        {
            "step": step.state_dict(),
            "optimizer": optimizer.state_dict(),
            "config": dataclasses.asdict(cfg),
            "epoch": progress.epoch,
            "iteration": progress.iteration,
            "history": progress.history,
            "elapsed": progress.elapsed,
        },
    )


def resume(cfg: Config, step: TrainStep, optimizer) -> Progress:
    """The progress of the run's checkpoint, its weights loaded into ``step`` (a fresh start without one)."""
    path = checkpoint_path(cfg)
    if not (cfg.resume and path.exists()):
        return Progress()
    state = records.load_checkpoint(path)
    written = {k: v for k, v in state["config"].items() if k not in RUN_ONLY_FIELDS}
    if Config.from_record(written).identity() != cfg.identity():
        raise ValueError(
            f"{path} was written by a run with another configuration; use another name or run_dir, or delete it"
        )
    step.load_state_dict(state["step"])
    optimizer.load_state_dict(state["optimizer"])
    return Progress(state["epoch"] + 1, state["iteration"], state["history"], state["elapsed"])


def load_trained(cfg: Config) -> nn.Module | None:
    """The trained f_e of a finished run from its last checkpoint, or None if there is none."""
    path = checkpoint_path(cfg)
    if not path.exists():
        return None
    state = records.load_checkpoint(path)
    if state["epoch"] + 1 < cfg.epochs:
        return None
    bench = cfg.benchmark()
    step = build_step(cfg, bench, resolve_device(cfg.device), run_settings(cfg, bench))
    step.load_state_dict(state["step"])
    return step.model.eval()
