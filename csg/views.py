"""The views each model sees of a training image, and the evaluation transform.

Classification (as the official code): CSG's views are RandAugment(1 op, M) -> Resize
-> RandomCrop, drawn twice independently, the query view for f_e (and the task loss),
the key view for f_e,o. Every other method trains on one plain view, Resize ->
CenterCrop (the official code without ``--augment``), unless it is given a magnitude,
and then both models see the same augmented view. Segmentation: one joint random
scale/crop/flip, so the two views stay spatially aligned (each patch of Eq. 6 covers
the same region), and only CSG's key view is colour-jittered.
"""

from __future__ import annotations

import torch
from torchvision.transforms import v2

from .augment import TwoViews, rand_augment
from .data import Benchmark
from .data.joint_transforms import segmentation_train_transform
from .registry import get_method


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
    two_views = get_method(cfg.method).regularizer.two_views and magnitude is not None
    if bench.task == "classification":
        if magnitude is None:
            return v2.Compose([v2.Resize(size), v2.CenterCrop(size), tensor])
        view = v2.Compose([rand_augment(magnitude), v2.Resize(size), v2.RandomCrop(size), tensor])
        return TwoViews(view) if two_views else view
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
