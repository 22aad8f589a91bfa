"""One training loop for every method of Table 1 and both tasks.

``train(Config(...))`` trains f_e on the synthetic source with the task loss plus the
method's regulariser (Eq. 4), evaluates every epoch on the held-out synthetic split and
on each real target, checkpoints atomically, and writes one JSON record under
``results/``. ``python -m csg.train`` is the same from a shell.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from . import baselines, metrics, records, scaling
from .backbones import ARCHS, Frozen, build_backbone, check_stages, stage_reductions
from .contrastive import all_gather, check_options
from .data import DATASET_SPLITS, DATASET_TASKS
from .models import Classifier, Segmenter
from .registry import METHODS, get_method
from .regularizers import NoRegularizer, Regularizer, StepFeatures
from .views import Benchmark, benchmark, eval_transform, train_transform

# Classification pools the last stage (stride 32); segmentation dilates to stride 8 (DeepLab).
OUTPUT_STRIDE = {"classification": 32, "segmentation": 8}
SCALED_FIELDS = ("queue_size", "ema_momentum", "warmup_iters")  # None = set by csg.scaling


RUN_ONLY_FIELDS = ("run_dir", "results_dir", "name", "resume", "device", "num_workers")


@dataclass
class Config:
    """Everything that defines a run. Defaults: the offline digits benchmark, sized for a 2-core CPU."""

    method: str = "csg"
    dataset: str = "digits"
    train_split: str = "train"  # the synthetic source; "real_train" trains the motivating example's real model
    data_root: str | None = None
    arch: str = "efficientnet_lite0"
    weights: str | None = "imagenet"
    image_size: int = 96
    epochs: int = 3
    batch_size: int = 32
    # The heads' learning rate (the backbone's is lr * backbone_lr_mult). 1e-2 won over 1e-3 on the
    # held-out *synthetic* split with the plain baseline (records in results/; book chapter 08).
    lr: float = 1e-2
    backbone_lr_mult: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_iters: int | None = None  # None: the paper's share of the run (csg.scaling)
    weight: float | None = None  # λ; None = the method's default (csg.registry)
    stages: tuple[int, ...] = (3, 4)
    pooling: str = "a_pool"
    key_attention: str = "student"
    # RandAugment M; "auto" = the paper's protocol (CSG: 6; every other method: none);
    # None = no augmentation (one view, seen by both models).
    magnitude: int | str | None = "auto"
    queue_size: int | None = None  # K; None: the paper's share of the training set (csg.scaling)
    tau: float = 0.07
    ema_momentum: float | None = None  # m; None: the paper's share of the run (csg.scaling)
    patch_grid: int | None = None  # None for classification; 8 for the paper's segmentation
    train_size: int | None = 4000  # synthetic training images (None = the whole split)
    eval_size: int | None = 1000  # images per evaluation split (None = the whole split)
    seed: int = 0
    device: str = "auto"
    num_workers: int | None = None  # data-loading processes; None: 0 on a CPU, several per GPU
    run_dir: str | None = None  # checkpoints; None = the repository's runs/
    results_dir: str | None = None  # None = the repository's results/
    name: str | None = None
    resume: bool = False

    def __post_init__(self):
        self.stages = tuple(self.stages)

    def identity(self) -> dict:
        """The fields that decide a run's numbers (not where it is written or what runs it).

        λ is recorded as None when it makes no difference: left at the default, given as
        the default, or given to a method without a regulariser. So the same run has one name.
        """
        fields = {k: v for k, v in dataclasses.asdict(self).items() if k not in RUN_ONLY_FIELDS}
        task = DATASET_TASKS.get(self.dataset)
        method = METHODS.get(self.method)
        if (method and not method.regularized) or (task and self.weight == default_weight(self.method, task)):
            fields["weight"] = None
        if self.magnitude == default_magnitude(self.method):
            fields["magnitude"] = "auto"
        return fields

    @property
    def effective_magnitude(self) -> int | None:
        """The RandAugment magnitude this run trains with (None: no augmentation)."""
        return default_magnitude(self.method) if self.magnitude == "auto" else self.magnitude

    def settings(self, scale: scaling.RunScale, keys_per_image: int = 1) -> dict:
        """queue_size, ema_momentum and warmup_iters as given, or set by csg.scaling for this run's scale."""
        rule = scaling.scaled_settings(scale, keys_per_image)
        return {k: rule[k] if getattr(self, k) is None else getattr(self, k) for k in SCALED_FIELDS}

    @property
    def run_name(self) -> str:
        """``name``, or one derived from the identity: the same run always gets the same name."""
        digest = hashlib.sha1(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:8]
        return self.name or f"{self.dataset}-{self.method}-{self.arch}-seed{self.seed}-{digest}"

    def validate(self, bench: Benchmark) -> None:
        """Every bad parameter is reported before any training starts."""

        def need(ok, msg):
            if not ok:
                raise ValueError(msg)

        get_method(self.method)  # unknown: a ValueError naming the registered methods
        need(self.arch in ARCHS, f"unknown arch {self.arch!r}; accepted: {', '.join(ARCHS)}")
        check_options(self.pooling, self.key_attention, self.tau, self.ema_momentum, self.patch_grid)
        check_stages(self.stages)
        splits = DATASET_SPLITS[bench.train[0]]
        need(self.train_split in splits, f"unknown train_split {self.train_split!r}; accepted: {', '.join(splits)}")
        need(isinstance(self.epochs, int) and self.epochs >= 0, "epochs must be an integer >= 0")
        need(
            self.warmup_iters is None or (isinstance(self.warmup_iters, int) and self.warmup_iters >= 0),
            "warmup_iters must be None (scaled) or an integer >= 0",
        )
        for name in ("batch_size", "image_size"):
            need(isinstance(getattr(self, name), int) and getattr(self, name) >= 1, f"{name} must be an integer >= 1")
        need(
            self.queue_size is None or (isinstance(self.queue_size, int) and self.queue_size >= 1),
            "queue_size must be None (scaled) or an integer >= 1",
        )
        need(self.lr > 0 and self.backbone_lr_mult >= 0, "lr must be > 0 and backbone_lr_mult >= 0")
        need(self.weight is None or self.weight >= 0, f"weight (λ) must be >= 0, got {self.weight}")
        need(
            self.magnitude in ("auto", None) or (isinstance(self.magnitude, int) and 0 <= self.magnitude <= 30),
            f"magnitude must be 'auto', None or an integer in [0, 30], got {self.magnitude!r}",
        )
        need(
            self.num_workers is None or (isinstance(self.num_workers, int) and self.num_workers >= 0),
            "num_workers must be None (automatic) or an integer >= 0",
        )
        need(
            self.device in ("auto", "cpu") or self.device.startswith("cuda"),
            "device must be 'auto', 'cpu' or 'cuda[:N]'",
        )
        if self.method == "csg" and self.patch_grid:
            reductions = stage_reductions(OUTPUT_STRIDE[bench.task])
            smallest = self.image_size // max(reductions[s - 1] for s in self.stages)
            need(
                self.patch_grid <= smallest,
                f"a {self.patch_grid}x{self.patch_grid} patch grid is larger than the {smallest}x{smallest} "
                f"feature map of stages {self.stages} at image_size {self.image_size}",
            )


# ----------------------------------------------------------------------------- the step
class TrainStep(nn.Module):
    """The forward of one training step: ``task loss + weight * regulariser term`` (Eq. 4).

    The frozen ImageNet model runs only when the regulariser needs it, under no_grad;
    f_e runs a second time (no grad) on the key view only when A-pool takes the key's
    attention from f_e *and* the two views differ.
    """

    def __init__(self, model: nn.Module, regularizer: Regularizer, teacher: Frozen | None):
        super().__init__()
        self.model, self.regularizer, self.teacher = model, regularizer, teacher

    def forward(self, query: torch.Tensor, key: torch.Tensor | None, target: torch.Tensor):
        logits, maps = self.model(query)
        task = F.cross_entropy(logits, target, ignore_index=255)
        reg = self.regularizer
        if isinstance(reg, NoRegularizer):
            return task, {"task": task.detach()}
        key = query if key is None else key
        feats = StepFeatures(maps)
        if reg.needs_teacher:
            feats.teacher = self.teacher(key)
        if reg.needs_student_on_key:
            if key is query:
                feats.student_on_key = [m.detach() for m in maps]
            else:
                with torch.no_grad():
                    feats.student_on_key = self.model.backbone(key, upto=max(reg.stages))
        term = reg(feats)
        return task + reg.weight * term, {"task": task.detach(), "reg": term.detach()}


def default_weight(method: str, task: str) -> float:
    """λ of ``method`` on ``task`` when Config.weight is None (0 for the unregularised)."""
    return METHODS[method].weight(task) if method in METHODS else 0.0


def default_magnitude(method: str) -> int | None:
    """RandAugment magnitude of ``method`` under the paper's protocol (None: no augmentation).
    The official code augments only CSG (its --augment flag); every other method trains on one plain view."""
    return METHODS[method].magnitude if method in METHODS else None


def build_regularizer(cfg: Config, backbone, task: str, settings: dict) -> Regularizer:
    """The method's regulariser at λ = cfg.weight, or the method's default λ for ``task``."""
    method = get_method(cfg.method)
    weight = cfg.weight if cfg.weight is not None else method.weight(task)
    return method.regularizer.from_config(cfg, backbone, weight, settings)


# ----------------------------------------------------------------------------- helpers
def resolve_device(name: str) -> torch.device:
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
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def poly_lr(it: int, total: int, warmup: int) -> float:
    """Linear warm-up, then poly decay with power 0.9 (the paper's schedule), as a factor."""
    if it < warmup:
        return (it + 1) / warmup
    return (1 - (it - warmup) / max(1, total - warmup)) ** 0.9


def subset(ds, size, seed):
    if size is None or size >= len(ds):
        return ds
    idx = np.random.default_rng(seed).permutation(len(ds))[:size]
    return Subset(ds, sorted(idx.tolist()))


def eval_loader(bench: Benchmark, cfg: Config, backbone, split: str) -> DataLoader:
    """The loader of one evaluation split: the same ``eval_size`` images for every run and
    seed, sharded across ranks under torch.distributed."""
    ds = subset(bench.dataset(split, eval_transform(bench, cfg, backbone)), cfg.eval_size, 0)
    rank, world_size = world()
    sampler = torch.utils.data.DistributedSampler(ds, world_size, rank, shuffle=False) if world_size > 1 else None
    return DataLoader(
        ds, max(1, 2 * cfg.batch_size // world_size), sampler=sampler, **loader_options(cfg, resolve_device(cfg.device))
    )


def loader_options(cfg: Config, device: torch.device) -> dict:
    """Worker processes, pinned memory and persistent workers on a GPU, so decoding and
    augmenting never leave it idle; the main process on a CPU, whose cores train."""
    workers = cfg.num_workers
    if workers is None:
        workers = 0 if device.type != "cuda" else min(8, (os.cpu_count() or 1) // max(1, torch.cuda.device_count()))
    return {"num_workers": workers, "pin_memory": device.type == "cuda", "persistent_workers": workers > 0}


def _to(x, device):
    return x.to(device, non_blocking=True, memory_format=torch.channels_last) if torch.is_tensor(x) else None


# ----------------------------------------------------------------------------- evaluation
@torch.no_grad()
def evaluate(model: nn.Module, loader, task: str, num_classes: int, device, features: bool = True) -> dict:
    """Accuracy (classification: mean of per-class accuracies, sigmoid averaged over the
    image and its flip, as the official test) or mIoU (segmentation), plus the
    globally pooled stage-4 features for hyperspherical energy."""
    model.eval()
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)
    pooled = []
    for images, target in loader:
        images = _to(images, device)
        logits, maps = model(images)
        if task == "classification":
            flipped, _ = model(images.flip(-1))
            pred = (logits.sigmoid() + flipped.sigmoid()).argmax(1)
        else:
            pred = logits.argmax(1)
        confusion += metrics.confusion_matrix(pred.cpu(), target, num_classes, ignore_index=255)
        if features:
            pooled.append(maps[-1].float().mean(dim=(2, 3)).cpu())
    rank, size = world()
    if size > 1:  # every rank evaluated a shard: sum the confusion matrices
        confusion = confusion.to(device)
        dist.all_reduce(confusion)
        confusion = confusion.cpu()
    out = {"confusion": confusion}
    if task == "classification":
        per_class = metrics.accuracy_from_confusion(confusion)
        out.update(score=float(np.nanmean(per_class)), per_class=per_class.tolist(), metric="mean_class_accuracy")
    else:
        per_class = metrics.iou_from_confusion(confusion)
        out.update(score=float(np.nanmean(per_class)), per_class=per_class.tolist(), metric="mean_iou")
    if features:
        out["features"] = all_gather(torch.cat(pooled).to(device)).cpu()
    return out


def hse(features: torch.Tensor) -> dict:
    """HSE for s = 0, 1, 2 of the pooled features. An all-zero feature (possible after
    ReLU6 on tiny inputs) has no direction on the sphere: it is left out and counted."""
    nonzero = features[features.abs().sum(dim=1) > 0]
    energies = {
        f"s{s}": float(metrics.hyperspherical_energy(nonzero, s)) if len(nonzero) > 1 else float("nan")
        for s in (0, 1, 2)
    }
    return energies | {"zero_features": len(features) - len(nonzero)}


# ----------------------------------------------------------------------------- training
@dataclass
class RunResult:
    record: dict
    model: nn.Module
    record_path: Path | None = None
    history: list = field(default_factory=list)


def run_settings(cfg: Config, bench: Benchmark) -> dict:
    """The run-length-dependent settings (K, m, warm-up) of this run: given, or scaled from its size."""
    n = len(bench.dataset(cfg.train_split))
    scale = scaling.RunScale(
        n if cfg.train_size is None else min(n, cfg.train_size), cfg.batch_size, max(cfg.epochs, 1)
    )
    return cfg.settings(scale, keys_per_image=(cfg.patch_grid or 1) ** 2 if cfg.method == "csg" else 1)


def build_model(cfg: Config, bench: Benchmark) -> nn.Module:
    """f_e before training: the backbone (ImageNet weights unless ``cfg.weights`` says otherwise)
    with the benchmark's task head."""
    backbone = build_backbone(cfg.arch, cfg.weights, output_stride=OUTPUT_STRIDE[bench.task])
    if bench.task == "classification":
        return Classifier(backbone, bench.num_classes)
    # The official DeepLab freezes BatchNorm whole; ASPP's rates scale with the crop.
    backbone.freeze_bn_affine()
    return Segmenter(backbone, bench.num_classes, scaling.aspp_rates(cfg.image_size, OUTPUT_STRIDE[bench.task]))


def build_step(cfg: Config, bench: Benchmark, device: torch.device, settings: dict) -> TrainStep:
    """f_e (backbone + task head), the method's regulariser and, if it needs one, f_e,o."""
    model = build_model(cfg, bench)
    backbone = model.backbone
    regularizer = build_regularizer(cfg, backbone, bench.task, settings)
    teacher = Frozen(backbone) if regularizer.needs_teacher else None
    if get_method(cfg.method).frozen_backbone:  # the oracle: ImageNet features as they are, a new head learns
        baselines.freeze_backbone(backbone)
    # channels_last: ~1.5x faster convolutions on our 2-core CPU as well as on GPUs.
    return TrainStep(model, regularizer, teacher).to(device, memory_format=torch.channels_last)


def checkpoint_path(cfg: Config) -> Path:
    return Path(cfg.run_dir or records.REPO_ROOT / "runs") / cfg.run_name / "checkpoint.pt"


def load_trained(cfg: Config) -> nn.Module | None:
    """The trained f_e of a finished run from its last checkpoint, or None if there is none."""
    path = checkpoint_path(cfg)
    if not path.exists():
        return None
    state = records.load_checkpoint(path)
    if state["epoch"] + 1 < cfg.epochs:
        return None
    bench = benchmark(cfg.dataset, cfg.data_root)
    step = build_step(cfg, bench, resolve_device(cfg.device), run_settings(cfg, bench))
    step.load_state_dict(state["step"])
    return step.model.eval()


def evaluate_splits(model: nn.Module, loaders: dict, bench: Benchmark, device, features: bool = True) -> dict:
    """:func:`evaluate` on every evaluation split, by split name."""
    return {
        split: evaluate(model, loader, bench.task, bench.num_classes, device, features)
        for split, loader in loaders.items()
    }


@dataclass
class Progress:
    """Where a run stands: what a checkpoint holds besides the weights, and what resuming restores."""

    epoch: int = 0  # the next epoch to train
    iteration: int = 0
    history: list = field(default_factory=list)
    elapsed: float = 0.0  # training and evaluation seconds, summed over every session of the run


def build_optimizer(cfg: Config, step: TrainStep) -> torch.optim.Optimizer:
    """SGD over the new heads at lr, and the backbone at lr * backbone_lr_mult (none for the oracle)."""
    heads = [p for n, p in step.named_parameters() if p.requires_grad and not n.startswith("model.backbone.")]
    backbone = [p for p in step.model.backbone.parameters() if p.requires_grad]
    groups = [{"params": heads, "lr_scale": 1.0}]
    if backbone:
        groups.append({"params": backbone, "lr_scale": cfg.backbone_lr_mult})
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def train_loader(cfg: Config, bench: Benchmark, backbone, device) -> DataLoader:
    """The shuffled source split, this rank's share of each batch; reseed ``loader.generator`` per epoch."""
    rank, world_size = world()
    train_set = subset(bench.dataset(cfg.train_split, train_transform(bench, cfg, backbone)), cfg.train_size, cfg.seed)
    sampler = (
        torch.utils.data.DistributedSampler(train_set, world_size, rank, seed=cfg.seed) if world_size > 1 else None
    )
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


def resume(cfg: Config, step: TrainStep, optimizer) -> Progress:
    """The progress of the run's checkpoint, its weights loaded into ``step`` (a fresh start without one)."""
    path = checkpoint_path(cfg)
    if not (cfg.resume and path.exists()):
        return Progress()
    state = records.load_checkpoint(path)
    if {k: v for k, v in state["config"].items() if k not in RUN_ONLY_FIELDS} != cfg.identity():
        raise ValueError(
            f"{path} was written by a run with another configuration; use another name or run_dir, or delete it"
        )
    step.load_state_dict(state["step"])
    optimizer.load_state_dict(state["optimizer"])
    return Progress(state["epoch"] + 1, state["iteration"], state["history"], state["elapsed"])


def train_one_epoch(
    cfg: Config, trainer: nn.Module, loader: DataLoader, optimizer, settings: dict, progress: Progress, device
) -> dict:
    """One pass over the source: the poly schedule, Eq. 4's loss, one SGD step per batch; mean loss terms."""
    total_iters = cfg.epochs * len(loader)
    sums = {}
    bar = tqdm(
        loader, desc=f"epoch {progress.epoch + 1}/{cfg.epochs}", disable=world()[0] != 0, leave=False, mininterval=5
    )
    for batch, target in bar:
        query, key = batch if isinstance(batch, (list, tuple)) else (batch, None)
        query, key, target = _to(query, device), _to(key, device), target.to(device)
        for group in optimizer.param_groups:
            group["lr"] = (
                cfg.lr * group["lr_scale"] * poly_lr(progress.iteration, total_iters, settings["warmup_iters"])
            )
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
    bench = benchmark(cfg.dataset, cfg.data_root)
    cfg.validate(bench)
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
    eval_loaders = {split: eval_loader(bench, cfg, step.model.backbone, split) for split in eval_splits}
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
                record_diverged(cfg, bench, str(error), settings, progress, device)
            raise
        last = progress.epoch + 1 == cfg.epochs  # the final features (for HSE) are collected once, at the end
        evals = evaluate_splits(step.model, eval_loaders, bench, device, features=last)
        progress.elapsed += time.time() - t0
        progress.history.append(
            {
                "epoch": progress.epoch + 1,
                "loss": losses,
                "elapsed_s": round(progress.elapsed, 1),
                **{s: e["score"] for s, e in evals.items()},
            }
        )
        if rank == 0:
            report_epoch(cfg, progress, losses, evals)
            save_checkpoint(checkpoint_path(cfg), step, optimizer, cfg, progress)
        progress.epoch += 1

    if evals is None:  # resumed a finished run: evaluate its final model again
        evals = evaluate_splits(step.model, eval_loaders, bench, device)
    record = final_record(cfg, bench, evals, device, progress.history, progress.elapsed) | {"settings": settings}
    path = write_record(cfg, record) if rank == 0 else None
    return RunResult(record, step.model, path, progress.history)


def record_diverged(cfg: Config, bench: Benchmark, error: str, settings: dict, progress: Progress, device) -> Path:
    """A record with ``"diverged"`` (the error) in place of ``"final"``: never chosen, shown as diverged."""
    record = {
        "config": dataclasses.asdict(cfg),
        "task": bench.task,
        "diverged": error,
        "settings": settings,
        "history": progress.history,
        **records.provenance(device),
    }
    return write_record(cfg, record)


def report_epoch(cfg: Config, progress: Progress, losses: dict, evals: dict) -> None:
    summary = "  ".join(f"{k} {v:.4f}" for k, v in losses.items())
    scores = "  ".join(f"{s} {e['score']:.4f}" for s, e in evals.items())
    print(
        f"[{cfg.run_name}] epoch {progress.epoch + 1}/{cfg.epochs}  {summary}  |  {scores}  ({progress.elapsed:.0f} s)",
        flush=True,
    )


def record_path(cfg: Config) -> Path:
    return (Path(cfg.results_dir) if cfg.results_dir else records.RESULTS_DIR) / f"{cfg.run_name}.json"


def write_record(cfg: Config, record: dict) -> Path:
    return records.write_json(record_path(cfg), record)


def save_checkpoint(path, step, optimizer, cfg, progress: Progress) -> None:
    """The weights, the optimizer and the progress after the epoch ``progress.epoch`` (0-based), atomically."""
    records.save_checkpoint(
        path,
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


def final_record(cfg, bench, evals, device, history, elapsed) -> dict:
    """Final metrics, both model-selection protocols, HSE and provenance, as one JSON-able dict."""
    final = {
        split: {
            "score": e["score"],
            "per_class": e["per_class"],
            "metric": e["metric"],
            "hse": hse(e["features"]),
            "n": len(e["features"]),
        }
        for split, e in evals.items()
    }
    selection = {"last_epoch": {s: history[-1][s] for s in evals}}
    if bench.val_split:
        best = max(history, key=lambda h: h[bench.val_split])
        selection["best_on_synthetic_val"] = {"epoch": best["epoch"], **{s: best[s] for s in evals}}
    for target in bench.target_splits:  # the paper's protocol: best epoch on the target itself -- an oracle
        best = max(history, key=lambda h: h[target])
        selection[f"best_on_target:{target}"] = {"epoch": best["epoch"], target: best[target]}
    return {
        "config": dataclasses.asdict(cfg),
        "task": bench.task,
        "class_names": list(bench.class_names),
        "final": final,
        "selection": selection,
        "history": history,
        "wall_time_s": round(elapsed, 1),
        **records.provenance(device),
    }
