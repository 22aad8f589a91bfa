"""Evaluation of a model on a benchmark's splits: the paper's score and the pooled features."""

from __future__ import annotations

import numpy as np
import torch
from torch import distributed as dist
from torch import nn

from . import metrics
from .runtime import all_gather, to_device, world


@torch.no_grad()
def evaluate(model: nn.Module, loader, task: str, num_classes: int, device, features: bool = True) -> dict:
    """Accuracy (classification: mean of per-class accuracies, sigmoid averaged over the
    image and its flip, as the official test) or mIoU (segmentation), plus the
    globally pooled stage-4 features for hyperspherical energy."""
    model.eval()
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)
    pooled = []
    for images, target in loader:
        images = to_device(images, device)
        logits, maps = model(images)
        if task == "classification":
            flipped, _ = model(images.flip(-1))
            pred = (logits.sigmoid() + flipped.sigmoid()).argmax(1)
        else:
            pred = logits.argmax(1)
        confusion += metrics.confusion_matrix(pred.cpu(), target, num_classes, ignore_index=255)
        if features:
            pooled.append(maps[-1].float().mean(dim=(2, 3)).cpu())
    if world()[1] > 1:  # every rank evaluated a shard: sum the confusion matrices
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


def evaluate_splits(model: nn.Module, loaders: dict, bench, device, features: bool = True) -> dict:
    """:func:`evaluate` on every evaluation split, by split name."""
    return {
        split: evaluate(model, loader, bench.task, bench.num_classes, device, features)
        for split, loader in loaders.items()
    }
