"""The paper's measurements: hyperspherical energy (Eq. 1), mean per-class accuracy, mIoU
(and, to read a segmentation benchmark, what stride-s scores can reach: ``coarse_oracle_miou``).

Accuracy and IoU come from a confusion matrix, so the engine can sum confusion matrices
over batches (``confusion_matrix``) and read the dataset-level numbers at the end
(``accuracy_from_confusion``, ``iou_from_confusion``); the ``mean_*`` functions do
both at once for tensors that fit in memory.
"""

from __future__ import annotations

import torch
from torchmetrics.functional.classification import multiclass_confusion_matrix

# Squared distances below this are recomputed from difference vectors: the Gram form
# 2 - 2<v_i, v_j> has an absolute float64 error of ~1e-16 * d, which would swamp them.
_EXACT_BELOW = 1e-6
_EXACT_BATCH = 4096  # near pairs recomputed at a time: bounded memory when many features coincide


def hyperspherical_energy(features: torch.Tensor, s: float = 0.0, chunk_size: int = 2048) -> float:
    """Hyperspherical energy E_s of a set of features (Eq. 1), as a mean over pairs.

    The rows are L2-normalised to v̂_i, then the energy of each of the N(N-1)/2 pairs
    i < j is averaged:

        s > 0:  ||v̂_i - v̂_j||^(-s)
        s = 0:  log(1 / ||v̂_i - v̂_j||^2)

    This is the convention of the MHE code (Liu et al., 2018) the authors point to for
    Table 1: a mean rather than Eq. 1's sum, and for s = 0 the log of the inverse
    *squared* distance -- twice the log(||v̂_i - v̂_j||^-1) printed in Eq. 1. (Table 1
    confirms it: by Jensen, mean(log 1/d^2) <= 2 log mean(1/d), and CSG's 0.3188 fits
    under 2 log 1.1806 = 0.332 but not under log 1.1806.) Lower is more diverse.

    Pairs are processed in chunk_size x chunk_size blocks with float64 accumulation, so
    memory is O(N d + chunk_size^2) -- 20,000 ResNet features fit easily; the N x N
    matrix is never built.

    Coincident points: two rows with the same direction have distance 0 and an infinite
    pair energy, so the result is ``inf`` (the energy of a configuration with a
    collision). No epsilon is added: it would replace inf by an arbitrary large number
    set by the epsilon. Close but distinct pairs are computed accurately (see
    ``_EXACT_BELOW``).

    Args:
        features: (N, d) features, N >= 2, finite, no all-zero row (it has no direction).
        s: the power, >= 0 (Table 1 reports s = 0, 1, 2).
        chunk_size: block size; any value >= 1 gives the same result up to rounding.

    Returns:
        The mean pair energy as a Python float.
    """
    if not isinstance(features, torch.Tensor) or features.ndim != 2 or features.shape[0] < 2:
        shape = tuple(features.shape) if isinstance(features, torch.Tensor) else type(features).__name__
        raise ValueError(f"features must be an (N, d) tensor with N >= 2, got {shape}")
    if not s >= 0:  # also rejects NaN
        raise ValueError(f"power s must be >= 0 (Table 1 uses 0, 1, 2), got {s}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    v = features.detach().to(torch.float64)
    if not torch.isfinite(v).all():
        raise ValueError("features contain NaN or inf")
    norms = v.norm(dim=1, keepdim=True)
    if (norms == 0).any():
        raise ValueError(f"{int((norms == 0).sum())} feature rows are all zero and have no direction on the sphere")
    v = v / norms

    n = len(v)
    total = torch.zeros((), dtype=torch.float64, device=v.device)
    for a in range(0, n, chunk_size):
        rows = v[a : a + chunk_size]
        for b in range(a, n, chunk_size):  # blocks on or above the diagonal: each pair once
            d2 = _squared_distances(rows, v[b : b + chunk_size])
            if a == b:  # within a diagonal block keep i < j only
                d2 = d2[torch.ones_like(d2, dtype=torch.bool).triu(diagonal=1)]
            total += _pair_energy(d2, s).sum()
    return (total / (n * (n - 1) / 2)).item()


def hse(features: torch.Tensor) -> dict:
    """HSE for s = 0, 1, 2 of pooled features, as a run's record holds them. An all-zero feature
    (possible after ReLU6 on tiny inputs) has no direction on the sphere: it is left out and counted."""
    nonzero = features[features.abs().sum(dim=1) > 0]
    energies = {
        f"s{s}": float(hyperspherical_energy(nonzero, s)) if len(nonzero) > 1 else float("nan") for s in (0, 1, 2)
    }
    return energies | {"zero_features": len(features) - len(nonzero)}


def _squared_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """||x_i - y_j||^2 for unit rows, (len(x), len(y)), accurate down to exact zeros."""
    d2 = (2 - 2 * x @ y.t()).clamp_min(0)
    i, j = torch.nonzero(d2 < _EXACT_BELOW, as_tuple=True)
    # Collapsed features can make most pairs "near": recompute them in slices, never
    # materialising one difference vector per near pair at once.
    for k in range(0, len(i), _EXACT_BATCH):
        ii, jj = i[k : k + _EXACT_BATCH], j[k : k + _EXACT_BATCH]
        d2[ii, jj] = (x[ii] - y[jj]).pow(2).sum(dim=1)
    return d2


def _pair_energy(d2: torch.Tensor, s: float) -> torch.Tensor:
    """e_s of Eq. 1 from squared distances: log(1/d^2) for s = 0, d^-s otherwise."""
    return -torch.log(d2) if s == 0 else d2.pow(-s / 2)


def confusion_matrix(pred, target, num_classes: int, ignore_index: int | None = None) -> torch.Tensor:
    """Counts C[t, p] of elements with true class t predicted as p, (num_classes, num_classes).

    Args:
        pred, target: integer class indices of the same shape (any shape: a batch of
            image labels or of segmentation maps). Take the argmax of logits first.
        num_classes: number of classes, >= 1; labels must lie in [0, num_classes).
        ignore_index: target value whose elements are left out (255 in Cityscapes).
    """
    pred, target = _check_labels(pred, target, num_classes, ignore_index)
    # Validated above, so torchmetrics' own checks (and their messages) are skipped.
    return multiclass_confusion_matrix(pred, target, num_classes, ignore_index=ignore_index, validate_args=False)


def accuracy_from_confusion(confusion: torch.Tensor) -> torch.Tensor:
    """Per-class accuracy (recall) C[c, c] / Σ_p C[c, p]; NaN for a class with no samples."""
    confusion = _check_confusion(confusion)
    return confusion.diagonal() / confusion.sum(dim=1)


def iou_from_confusion(confusion: torch.Tensor) -> torch.Tensor:
    """Per-class IoU C[c, c] / (Σ_p C[c, p] + Σ_t C[t, c] - C[c, c]).

    NaN for a class that appears neither in the targets nor in the predictions (0/0).
    """
    confusion = _check_confusion(confusion)
    hits = confusion.diagonal()
    return hits / (confusion.sum(dim=1) + confusion.sum(dim=0) - hits)


def per_class_accuracy(pred, target, num_classes: int) -> torch.Tensor:
    """Accuracy within each true class, (num_classes,) float64; NaN for absent classes."""
    return accuracy_from_confusion(confusion_matrix(pred, target, num_classes))


def mean_class_accuracy(pred, target, num_classes: int) -> float:
    """VisDA-17's metric (Table 1): the mean over classes of per-class accuracy, in [0, 1].

    Classes absent from ``target`` have no accuracy and are left out of the mean (all
    12 VisDA classes occur in its validation set; small test subsets may miss some).
    """
    return torch.nanmean(per_class_accuracy(pred, target, num_classes)).item()


def per_class_iou(pred, target, num_classes: int, ignore_index: int | None = 255) -> torch.Tensor:
    """Dataset-level IoU of each class, (num_classes,) float64; NaN where undefined."""
    return iou_from_confusion(confusion_matrix(pred, target, num_classes, ignore_index))


def mean_iou(pred, target, num_classes: int, ignore_index: int | None = 255) -> float:
    """mIoU (Table 5): the mean over classes of dataset-level IoU, in [0, 1].

    IoU is computed from the confusion matrix of the whole set (not averaged over
    images). A class absent from both predictions and targets is left out of the mean;
    one that is predicted but never present counts with IoU 0.
    """
    return torch.nanmean(per_class_iou(pred, target, num_classes, ignore_index)).item()


def coarse_oracle_miou(target, stride: int, num_classes: int, ignore_index: int | None = 255) -> float:
    """mIoU of an oracle that knows each class's share of every stride x stride cell.

    A segmentation model with output stride ``stride`` (8 for the paper's DeepLab)
    scores one vector per cell and upsamples it bilinearly to the pixels. Feeding it
    the true class shares of each cell, upsampled the same way, and taking the argmax
    gives what such coarse scores can reach at best-calibrated; thin structures (a
    digit's strokes) that never hold the majority of their cell come out as background.
    A reference for a benchmark's difficulty at a given stride, not a strict bound.

    A map whose sides ``stride`` does not divide (GTA5's 1052 x 1914 frames at stride 8)
    is padded at the bottom and right with ``ignore_index`` to whole cells, as the
    model's own output grid covers them, and scored on its own pixels.

    Args:
        target: (N, H, W) or (H, W) integer label maps.
        stride: cell side in pixels (>= 1).
    """
    target = torch.as_tensor(target)
    target = target[None] if target.ndim == 2 else target
    if target.ndim != 3:
        raise ValueError(f"target must be (H, W) or (N, H, W), got shape {tuple(target.shape)}")
    h, w = target.shape[-2:]
    if not isinstance(stride, int) or stride < 1 or (ignore_index is None and (h % stride or w % stride)):
        raise ValueError(
            f"stride must be an integer >= 1 (dividing the map size {(h, w)} when there is no "
            f"ignore_index to pad with), got {stride!r}"
        )
    _check_labels(target, target, num_classes, ignore_index)
    padding = (0, -w % stride, 0, -h % stride)
    confusion = 0
    for labels in target:  # one map at a time: (classes x H x W) shares stay small
        padded = torch.nn.functional.pad(labels, padding, value=ignore_index) if any(padding) else labels
        valid = padded != ignore_index if ignore_index is not None else torch.ones_like(padded, dtype=torch.bool)
        one_hot = torch.nn.functional.one_hot(torch.where(valid, padded, 0).long(), num_classes)
        one_hot = (one_hot * valid[..., None]).permute(2, 0, 1)[None].float()
        shares = torch.nn.functional.avg_pool2d(one_hot, stride)
        scores = torch.nn.functional.interpolate(shares, size=padded.shape, mode="bilinear", align_corners=False)
        confusion = confusion + confusion_matrix(scores[0, :, :h, :w].argmax(0), labels, num_classes, ignore_index)
    return torch.nanmean(iou_from_confusion(confusion)).item()


def _check_labels(pred, target, num_classes, ignore_index):
    pred, target = torch.as_tensor(pred), torch.as_tensor(target)
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be an integer >= 1, got {num_classes!r}")
    for name, x in (("pred", pred), ("target", target)):
        if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
            raise ValueError(
                f"{name} must hold integer class indices, got dtype {x.dtype} (take the argmax of logits first)"
            )
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}")
    kept = target != ignore_index if ignore_index is not None else torch.ones_like(target, dtype=torch.bool)
    for name, x in (("pred", pred[kept]), ("target", target[kept])):
        if x.numel() and (x.min() < 0 or x.max() >= num_classes):
            allowed = f"[0, {num_classes})"
            if ignore_index is not None:
                allowed += f" (or ignore_index={ignore_index} in target)"
            raise ValueError(f"{name} has labels outside {allowed}: found {x.min().item()}..{x.max().item()}")
    return pred.long(), target.long()


def _check_confusion(confusion):
    confusion = torch.as_tensor(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1] or confusion.shape[0] < 1:
        raise ValueError(f"confusion must be a square (C, C) matrix, got shape {tuple(confusion.shape)}")
    if (confusion < 0).any():
        raise ValueError("confusion must hold non-negative counts")
    return confusion.to(torch.float64)
