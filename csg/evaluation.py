"""Evaluation of a model on a benchmark's splits: the paper's score and the pooled features."""

from __future__ import annotations

import numpy as np
import torch
from torch import distributed as dist
from torch import nn

from . import metrics
from .runtime import all_gather, to_device, world


@torch.no_grad()
def evaluate(model: nn.Module, loader, task: str, num_classes: int, device, features: bool = True, within=None) -> dict:
    """Accuracy (classification: mean of per-class accuracies, sigmoid averaged over the
    image and its flip, as the official test) or mIoU (segmentation), plus the
    globally pooled stage-4 features for hyperspherical energy.

    ``within``: positions (in ``loader.dataset``) of a subset whose score is reported too, as
    ``out["within"]``, from the same forward passes (the per-epoch images inside the final ones)."""
    model.eval()
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)
    confusion_within = torch.zeros_like(confusion)
    order = torch.tensor(list(loader.sampler))  # dataset positions in the order batches come
    chosen = torch.zeros(len(loader.dataset), dtype=torch.bool)
    if within is not None:
        chosen[torch.as_tensor(within, dtype=torch.long)] = True
    pooled, seen = [], 0
    for images, target in loader:
        rows = chosen[order[seen : seen + len(target)]]
        seen += len(target)
        images = to_device(images, device)
        logits, maps = model(images)
        if task == "classification":
            flipped, _ = model(images.flip(-1))
            pred = (logits.sigmoid() + flipped.sigmoid()).argmax(1)
        else:
            pred = logits.argmax(1)
        confusion += metrics.confusion_matrix(pred.cpu(), target, num_classes, ignore_index=255)
        if rows.any():
            confusion_within += metrics.confusion_matrix(pred.cpu()[rows], target[rows], num_classes, ignore_index=255)
        if features:
            pooled.append(maps[-1].float().mean(dim=(2, 3)).cpu())
    if world()[1] > 1:  # every rank evaluated a shard: sum the confusion matrices
        both = torch.stack([confusion, confusion_within]).to(device)
        dist.all_reduce(both)
        confusion, confusion_within = both.cpu()
    out = {"confusion": confusion, **scores(confusion, task)}
    if within is not None:
        out["within"] = scores(confusion_within, task)
    if features:
        out["features"] = all_gather(torch.cat(pooled).to(device)).cpu()
    return out


def scores(confusion: torch.Tensor, task: str) -> dict:
    """The paper's score from a confusion matrix: the mean of per-class accuracies
    (classification) or of per-class IoUs (segmentation), with the per-class values."""
    if task == "classification":
        per_class, metric = metrics.accuracy_from_confusion(confusion), "mean_class_accuracy"
    else:
        per_class, metric = metrics.iou_from_confusion(confusion), "mean_iou"
    return {"score": float(np.nanmean(per_class)), "per_class": per_class.tolist(), "metric": metric}


def evaluate_splits(model: nn.Module, loaders: dict, bench, device, features: bool = True, within=None) -> dict:
    """:func:`evaluate` on every evaluation split, by split name (``within``: by split name too)."""
    within = within or {}
    return {
        split: evaluate(model, loader, bench.task, bench.num_classes, device, features, within.get(split))
        for split, loader in loaders.items()
    }
