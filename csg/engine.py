"""One training loop for every method of Table 1 and both tasks.

``train(Config(...))`` trains f_e on the synthetic source with the task loss plus the
method's regulariser (Eq. 4), evaluates every epoch on the held-out synthetic split and
on each real target (``eval_size`` images each; ``final_eval_size`` at the end),
checkpoints atomically, and writes one JSON record under ``results/``.
``python -m csg.train`` is the same from a shell. What the loop is made of lives in its
own modules: :mod:`csg.config` (the run's fields and name), :mod:`csg.step`
(the step and its builders), :mod:`csg.loaders`, :mod:`csg.evaluation`,
:mod:`csg.runtime` (device, seeds, process group), :mod:`csg.checkpoints` and
:mod:`csg.records`.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from . import records
from .checkpoints import Progress, resume, save_checkpoint
from .config import Config
from .evaluation import evaluate_splits
from .loaders import epoch_loader, epoch_positions, eval_loader, train_loader
from .runtime import resolve_device, seed_everything, to_device, world
from .scaling import RunSettings
from .step import build_optimizer, build_step, run_settings, set_learning_rate


@dataclass
class RunResult:
    record: dict
    model: nn.Module
    record_path: Path | None = None
    history: list = field(default_factory=list)


def train_one_epoch(
    cfg: Config, trainer: nn.Module, loader: DataLoader, optimizer, settings: RunSettings, progress: Progress, device
) -> dict:
    """One pass over the source: the schedule, Eq. 4's loss, one SGD step per batch; mean loss terms."""
    total_iters = cfg.epochs * len(loader)
    sums = {}
    bar = tqdm(
        loader, desc=f"epoch {progress.epoch + 1}/{cfg.epochs}", disable=world()[0] != 0, leave=False, mininterval=5
    )
    for batch, target in bar:
        query, key = batch if isinstance(batch, (list, tuple)) else (batch, None)
        query, key, target = to_device(query, device), to_device(key, device), target.to(device)
        set_learning_rate(optimizer, cfg, progress.iteration, total_iters, settings.warmup_iters)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss, terms = trainer(query, key, target)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"non-finite loss at epoch {progress.epoch + 1}, iteration {progress.iteration}: "
                + ", ".join(f"{k}={v.item():.4g}" for k, v in terms.items())
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        getattr(trainer, "module", trainer).regularizer.after_step()  # unwrap DDP
        progress.iteration += 1
        for k, v in terms.items():
            sums[k] = sums.get(k, 0.0) + v.item()
    return {k: v / len(loader) for k, v in sums.items()}


def train(cfg: Config | None = None, **overrides) -> RunResult:
    """Train and evaluate one run; returns its record (also written under results/).

    Build f_e (and f_e,o) with the method's regulariser, resume from the run's checkpoint if
    asked, then per epoch: train, evaluate every split, checkpoint. A diverged run is
    recorded as such, then raises FloatingPointError.
    """
    cfg = dataclasses.replace(cfg or Config(), **overrides)
    cfg.validate()
    bench = cfg.benchmark()
    device = resolve_device(cfg.device)
    rank, world_size = world()
    seed_everything(cfg.seed, -1, 0)  # model init (heads, queues) is the same on every rank

    settings = run_settings(cfg, bench)
    step = build_step(cfg, bench, device, settings)
    optimizer = build_optimizer(cfg, step)
    # DDP without buffer broadcasts: BN statistics are frozen and every rank's queues are identical.
    trainer = nn.parallel.DistributedDataParallel(step, broadcast_buffers=False) if world_size > 1 else step
    loader = train_loader(cfg, bench, step.model.backbone, device)
    eval_splits = ([bench.val_split] if bench.val_split else []) + list(bench.target_splits)
    final_loaders = {split: eval_loader(bench, cfg, step.model.backbone, split) for split in eval_splits}
    epoch_loaders = {split: epoch_loader(loader, cfg) for split, loader in final_loaders.items()}
    within = {split: epoch_positions(loader, cfg) for split, loader in final_loaders.items()}
    progress = resume(cfg, step, optimizer)

    evals = None
    while progress.epoch < cfg.epochs:
        t0 = time.time()
        seed_everything(cfg.seed, progress.epoch, rank)
        loader.generator.manual_seed(cfg.seed * 1000 + progress.epoch)
        if hasattr(loader.sampler, "set_epoch"):  # DistributedSampler
            loader.sampler.set_epoch(progress.epoch)
        step.train()
        try:
            losses = train_one_epoch(cfg, trainer, loader, optimizer, settings, progress, device)
        except FloatingPointError as error:  # a diverged run is a result too (λ too large): recorded, then raised
            if rank == 0:
                records.write_record(
                    cfg, records.diverged_record(cfg, bench, str(error), settings, device, progress.history)
                )
            raise
        # Every epoch scores the eval_size images; the last one scores all the final images (and
        # their features, for HSE), the eval_size ones among them from the same forward passes.
        if progress.epoch + 1 == cfg.epochs:
            evals = evaluate_splits(step.model, final_loaders, bench, device, within=within)
            epoch_scores = {s: e["within"]["score"] for s, e in evals.items()}
        else:
            evals = evaluate_splits(step.model, epoch_loaders, bench, device, features=False)
            epoch_scores = {s: e["score"] for s, e in evals.items()}
        progress.elapsed += time.time() - t0
        progress.history.append(
            {"epoch": progress.epoch + 1, "loss": losses, "elapsed_s": round(progress.elapsed, 1), **epoch_scores}
        )
        if rank == 0:
            report_epoch(cfg, progress, losses, epoch_scores)
            save_checkpoint(cfg, step, optimizer, progress)
        progress.epoch += 1

    if evals is None:  # resumed a finished run: evaluate its final model again
        evals = evaluate_splits(step.model, final_loaders, bench, device)
    record = records.final_record(cfg, bench, evals, settings, device, progress.history, progress.elapsed)
    path = records.write_record(cfg, record) if rank == 0 else None
    return RunResult(record, step.model, path, progress.history)


def report_epoch(cfg: Config, progress: Progress, losses: dict, epoch_scores: dict) -> None:
    summary = "  ".join(f"{k} {v:.4f}" for k, v in losses.items())
    scores = "  ".join(f"{s} {v:.4f}" for s, v in epoch_scores.items())
    print(
        f"[{cfg.run_name}] epoch {progress.epoch + 1}/{cfg.epochs}  {summary}  |  {scores}  ({progress.elapsed:.0f} s)",
        flush=True,
    )
