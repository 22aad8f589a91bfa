"""Benchmarks (which splits train, select and test) and the views each model sees.

Classification (as the official code): CSG's views are RandAugment(1 op, M) -> Resize
-> RandomCrop, drawn twice independently, the query view for f_e (and the task loss),
the key view for f_e,o. Every other method trains on one plain view, Resize ->
CenterCrop (the official code without ``--augment``), unless it is given a magnitude,
and then both models see the same augmented view. Segmentation: one joint random
scale/crop/flip, so the two views stay spatially aligned (each patch of Eq. 6 covers
the same region), and only CSG's key view is colour-jittered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torchvision.transforms import v2

from .augment import TwoViews, rand_augment
from .data import (
    BENCHMARKS,
    CITYSCAPES_CLASSES,
    DATASET_TASKS,
    DIGIT_CLASSES,
    GENERATED,
    SCENE_CLASSES,
    VISDA_CLASSES,
    build_dataset,
)
from .profile import generation_sizes

CLASS_NAMES = {
    "digits": DIGIT_CLASSES,
    "digit_scenes": SCENE_CLASSES,
    "visda17": VISDA_CLASSES,
    "gta5": CITYSCAPES_CLASSES,
}


@dataclass
class Benchmark:
    """A synthetic-to-real benchmark: its training split, the held-out synthetic split
    used for target-free model selection (if any), and the real targets, by report name."""

    name: str
    task: str
    train: tuple[str, str]
    val: tuple[str, str] | None
    targets: dict[str, tuple[str, str]]
    root: str | None
    class_names: tuple[str, ...]
    real_train: dict[str, str] = field(default_factory=dict)  # target -> split of real training images

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def val_split(self) -> str | None:
        return "synthetic_val" if self.val else None

    @property
    def target_splits(self) -> tuple[str, ...]:
        return tuple(self.targets)

    def dataset(self, split: str, transform=None, **params):
        """The dataset behind ``train``, ``synthetic_val``, a target's report name, or any
        other split of the source dataset (e.g. the digits' ``real_train``)."""
        named = {"train": self.train, "synthetic_val": self.val, **self.targets}
        name, ds_split = named[split] if split in named else (self.train[0], split)
        root = None if self.root is None else Path(self.root) / name
        if name in GENERATED:  # the offline benchmarks: generated into the cache
            root, params = None, generation_sizes(name) | params
        return build_dataset(name, ds_split, root=root, transform=transform, **params)


def benchmark(name: str, data_root: str | None = None) -> Benchmark:
    """Look up a benchmark of ``csg.data.BENCHMARKS`` by name ("digits", "digit_scenes", "visda17", "gta5")."""
    if name not in BENCHMARKS:
        raise ValueError(f"unknown dataset {name!r}; accepted: {', '.join(BENCHMARKS)}")
    spec = BENCHMARKS[name]
    source = spec["source"][0]
    # A target is reported by its split's name, or by its dataset's when that differs (GTA5 -> Cityscapes).
    targets = {(split if ds == source else ds): (ds, split) for ds, split in spec["targets"]}
    return Benchmark(
        name,
        DATASET_TASKS[source],
        spec["source"],
        spec["source_val"],
        targets,
        data_root,
        tuple(CLASS_NAMES[source]),
        dict(spec.get("real_train", {})),
    )


def _to_tensor(mean, std):
    return v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)])


def train_transform(bench: Benchmark, cfg, backbone):
    """The transform of a training item: (query, key) views for CSG with augmentation, else one view.

    The baselines compare both models on the same image (a distance between two views
    of it would penalise the augmentation itself), so an augmented baseline gets one
    view, which the frozen model sees too.
    """
    size = cfg.image_size
    tensor = _to_tensor(backbone.mean, backbone.std)
    magnitude = cfg.effective_magnitude
    two_views = cfg.method == "csg" and magnitude is not None
    if bench.task == "classification":
        if magnitude is None:
            return v2.Compose([v2.Resize(size), v2.CenterCrop(size), tensor])
        view = v2.Compose([rand_augment(magnitude), v2.Resize(size), v2.RandomCrop(size), tensor])
        return TwoViews(view) if two_views else view
    from .data.joint_transforms import segmentation_train_transform

    joint = segmentation_train_transform(size)
    jitter = v2.ColorJitter(0.4, 0.4, 0.4, 0.4)  # the official key-view jitter (hue 0.4 too)

    def segmentation_views(image, mask):
        image, mask = joint(image, mask)
        if not two_views:
            return tensor(image), mask
        return (tensor(image), tensor(jitter(image))), mask

    return segmentation_views


def eval_transform(bench: Benchmark, cfg, backbone):
    tensor = _to_tensor(backbone.mean, backbone.std)
    if bench.task == "classification":
        return v2.Compose([v2.Resize(cfg.image_size), v2.CenterCrop(cfg.image_size), tensor])
    return lambda image, mask: (tensor(image), mask)  # full images, as the paper scores them
