"""One training step and what it is built from: f_e with its task head, the method's
regulariser, f_e,o when the regulariser needs it, the optimiser and its schedule."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import baselines, records, scaling
from .backbones import Frozen, build_backbone
from .config import OUTPUT_STRIDE, SCALED_FIELDS, Config
from .data import Benchmark
from .models import Classifier, Segmenter
from .optim import OfficialSGD, lr_factor
from .registry import get_method
from .regularizers import NoRegularizer, Regularizer, StepFeatures
from .scaling import RunSettings


class TrainStep(nn.Module):
    """The forward of one training step: ``task loss + weight * regulariser term`` (Eq. 4).

    The frozen ImageNet model runs only when the regulariser needs it, under no_grad;
    f_e runs a second time (no grad) on the key view, up to the regulariser's deepest key
    stage, only when it asks for f_e's maps there *and* the two views differ.
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
                    feats.student_on_key = self.model.backbone(key, upto=max(reg.key_stages))
        term = reg(feats)
        return task + reg.weight * term, {"task": task.detach(), "reg": term.detach()}


def run_settings(cfg: Config, bench: Benchmark) -> RunSettings:
    """The run-length-dependent settings (K, m, warm-up) of this run: given, or scaled from its size."""
    n = len(bench.dataset(cfg.train_split))
    scale = scaling.RunScale(
        n if cfg.train_size is None else min(n, cfg.train_size), cfg.batch_size, max(cfg.epochs, 1)
    )
    keys = get_method(cfg.method).regularizer.keys_per_image(**cfg.method_options)
    rule = scaling.scaled_settings(scale, keys, cfg.recipe, cfg.queue_size)
    return RunSettings(**{k: getattr(rule if getattr(cfg, k) is None else cfg, k) for k in SCALED_FIELDS})


def build_model(cfg: Config, bench: Benchmark) -> nn.Module:
    """f_e before training: the backbone (ImageNet weights unless ``cfg.weights`` says otherwise,
    or the trained backbone of the run ``cfg.prior``) with the benchmark's task head."""
    dense = bench.task == "segmentation"  # ASPP reads the last block, as DeepLab reads ResNet's layer4
    backbone = build_backbone(cfg.arch, cfg.weights, output_stride=OUTPUT_STRIDE[bench.task], features_only=dense)
    if cfg.prior is not None:
        backbone.load_state_dict(prior_backbone(cfg))
    if bench.task == "classification":
        return Classifier(backbone, bench.num_classes)
    # The official DeepLab freezes BatchNorm whole; ASPP's rates scale with the crop.
    backbone.freeze_bn_affine()
    return Segmenter(backbone, bench.num_classes, scaling.aspp_rates(cfg.image_size, OUTPUT_STRIDE[bench.task]))


def prior_backbone(cfg: Config) -> dict:
    """The backbone weights of the finished run ``cfg.prior``, from its checkpoint: f_e's
    initialisation and f_e,o in place of ImageNet's (the positive control's prior)."""
    path = records.checkpoint_path(cfg.run_dir, cfg.prior)
    if not path.exists():
        raise FileNotFoundError(
            f"prior {cfg.prior!r}: no checkpoint at {path}; train that run first (with the same run_dir)"
        )
    state = records.load_checkpoint(path)
    written = state["config"]
    if state["epoch"] + 1 < written["epochs"] or written["arch"] != cfg.arch:
        raise ValueError(
            f"prior {cfg.prior!r} must be a finished run of arch {cfg.arch!r}; its checkpoint is epoch "
            f"{state['epoch'] + 1} of {written['epochs']}, arch {written['arch']!r}"
        )
    prefix = "model.backbone."
    return {k.removeprefix(prefix): v for k, v in state["step"].items() if k.startswith(prefix)}


def build_step(cfg: Config, bench: Benchmark, device: torch.device, settings: RunSettings) -> TrainStep:
    """f_e (backbone + task head), the method's regulariser at its λ and, if it needs one, f_e,o."""
    model = build_model(cfg, bench)
    backbone = model.backbone
    method = get_method(cfg.method)
    regularizer = method.regularizer.build(backbone, cfg.weight_or_default, settings, **cfg.method_options)
    teacher = Frozen(backbone) if regularizer.needs_teacher else None
    if method.frozen_backbone:  # the oracle: ImageNet features as they are, a new head learns
        baselines.freeze_backbone(backbone)
    # channels_last: ~1.5x faster convolutions on our 2-core CPU as well as on GPUs.
    return TrainStep(model, regularizer, teacher).to(device, memory_format=torch.channels_last)


def build_optimizer(cfg: Config, step: TrainStep) -> torch.optim.Optimizer:
    """SGD (torch's, or the official code's for the official recipe) over the new heads at lr, and
    the backbone at lr * backbone_lr_mult (none for the oracle)."""
    heads = [p for n, p in step.named_parameters() if p.requires_grad and not n.startswith("model.backbone.")]
    backbone = [p for p in step.model.backbone.parameters() if p.requires_grad]
    groups = [{"params": heads, "lr_scale": 1.0}]
    if backbone:
        groups.append({"params": backbone, "lr_scale": cfg.backbone_lr_mult})
    sgd = OfficialSGD if cfg.recipe == "official" else torch.optim.SGD
    return sgd(groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def set_learning_rate(optimizer: torch.optim.Optimizer, cfg: Config, it: int, total: int, warmup: int) -> None:
    """Every group's lr at step ``it`` of ``total``: cfg.lr x its group's scale x the schedule."""
    for group in optimizer.param_groups:
        group["lr"] = cfg.lr * group["lr_scale"] * lr_factor(it, total, warmup, cfg.recipe)
