"""Benchmarks (which splits train, select and test) and the views each model sees.

Classification (as the official code): each view is RandAugment(1 op, M) -> Resize ->
RandomCrop, drawn twice independently, the query view for f_e (and the task loss), the
key view for f_e,o. Segmentation: one joint random scale/crop/flip, so the two views
stay spatially aligned (each patch of Eq. 6 covers the same region), and only the key
view is colour-jittered. With ``magnitude=None`` there is one view and both models
see it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.transforms import v2

from .augment import TwoViews, rand_augment

# name -> (task, train (dataset, split), synthetic validation, real targets {report name: (dataset, split)})
BENCHMARKS = {
    "digits": ("classification", ("digits", "train"), ("digits", "synthetic_val"),
               {"mnist": ("digits", "mnist"), "mnistm": ("digits", "mnistm")}),
    "digit_scenes": ("segmentation", ("digit_scenes", "train"), ("digit_scenes", "synthetic_val"),
                     {"real": ("digit_scenes", "real")}),
    "visda17": ("classification", ("visda17", "train"), None, {"validation": ("visda17", "validation")}),
    "gta5": ("segmentation", ("gta5", None), None, {"cityscapes": ("cityscapes", "val")}),
}


@dataclass
class Benchmark:
    name: str
    task: str
    train: tuple
    val: tuple | None
    targets: dict
    root: str | None
    num_classes: int
    class_names: tuple

    train_split = "train"

    @property
    def val_split(self):
        return "synthetic_val" if self.val else None

    @property
    def target_splits(self):
        return tuple(self.targets)

    def dataset(self, split: str, transform=None):
        """The dataset behind one of ``train``, ``synthetic_val`` or a target's name."""
        from .data import build_dataset

        name, ds_split = {"train": self.train, "synthetic_val": self.val, **self.targets}[split]
        # The real datasets live in one folder each under data_root (see data/README.md).
        root = None if self.root is None or name in ("digits", "digit_scenes") else Path(self.root) / name
        return build_dataset(name, ds_split, root=root, transform=transform)


def benchmark(name: str, data_root: str | None = None) -> Benchmark:
    if name not in BENCHMARKS:
        raise ValueError(f"unknown dataset {name!r}; accepted: {', '.join(BENCHMARKS)}")
    task, train, val, targets = BENCHMARKS[name]
    if name in ("visda17", "gta5") and data_root is None:
        raise ValueError(f"dataset {name!r} needs data_root (see data/README.md for the expected layout)")
    from .data import class_names

    names = tuple(class_names(train[0]))
    return Benchmark(name, task, train, val, targets, data_root, len(names), names)


def _to_tensor(mean, std):
    return v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)])


def train_transform(bench: Benchmark, cfg, backbone):
    """The transform of a training item: returns (query, key) views, or one view when no augmentation."""
    size = cfg.image_size
    tensor = _to_tensor(backbone.mean, backbone.std)
    if bench.task == "classification":
        geometry = [v2.Resize(size), v2.RandomCrop(size)]
        if cfg.magnitude is None:
            return v2.Compose(geometry + [tensor])
        return TwoViews(v2.Compose([rand_augment(cfg.magnitude)] + geometry + [tensor]))
    from .data.joint_transforms import segmentation_train_transform

    joint = segmentation_train_transform(size)
    jitter = v2.ColorJitter(0.4, 0.4, 0.4, 0.1)

    def segmentation_views(image, mask):
        image, mask = joint(image, mask)
        if cfg.magnitude is None:
            return tensor(image), mask
        return (tensor(image), tensor(jitter(image))), mask

    return segmentation_views


def eval_transform(bench: Benchmark, cfg, backbone):
    tensor = _to_tensor(backbone.mean, backbone.std)
    if bench.task == "classification":
        return v2.Compose([v2.Resize(cfg.image_size), v2.CenterCrop(cfg.image_size), tensor])
    return lambda image, mask: (tensor(image), mask)  # full images, as the paper scores them
