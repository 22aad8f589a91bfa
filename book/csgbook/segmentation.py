"""What chapter 07 shows besides its tables: how far a stride-8 model can reach on a
benchmark (label-only references), the ImageNet model's features, and predicted masks
(the analogue of the paper's Fig. 7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from csg import metrics
from csg.config import Config
from csg.data import Benchmark
from csg.loaders import subset
from csg.step import build_model
from csg.views import eval_transform

from . import viz


def label_maps(bench: Benchmark, split: str, eval_size: int | None) -> torch.Tensor:
    """The full-size label maps of the scenes a run is scored on (the engine's evaluation subset)."""
    scenes = subset(bench.dataset(split, None), eval_size, 0)
    return torch.stack([torch.as_tensor(scenes[i][1]) for i in range(len(scenes))])


def reference_scores(bench: Benchmark, splits, eval_size: int | None) -> pd.DataFrame:
    """mIoU (%) of two references computed from the labels alone, per split: a map that is all
    background (class 0), and the oracle that knows every class's share of each cell of a
    stride-8 (and stride-4) model, upsampled as the model's scores are
    (:func:`csg.metrics.coarse_oracle_miou`)."""
    n = bench.num_classes
    rows = {}
    for split in splits:
        y = label_maps(bench, split, eval_size)
        rows[split] = {
            "all background": metrics.mean_iou(torch.zeros_like(y), y, n),
            "oracle cell shares, stride 8": metrics.coarse_oracle_miou(y, 8, n),
            "oracle cell shares, stride 4": metrics.coarse_oracle_miou(y, 4, n),
        }
    return pd.DataFrame(rows) * 100


def imagenet_model(cfg: Config, bench: Benchmark) -> nn.Module:
    """f_e before any training: the ImageNet backbone, dilated as the runs' (its head is never used)."""
    return build_model(cfg, bench).eval()


def palette(bench: Benchmark) -> np.ndarray:
    """Mask colours: Cityscapes' own for its 19 classes; else black background and tab10 digits."""
    if bench.num_classes == len(viz.CITYSCAPES_PALETTE):
        return viz.CITYSCAPES_PALETTE
    return np.vstack([[0, 0, 0], viz.tab_palette(bench.num_classes - 1)]).astype(np.uint8)


@torch.no_grad()
def mask_grid(models: dict, bench: Benchmark, cfg: Config, split: str, n: int, size: float = 2.2):
    """Fig. 7's layout: for the first ``n`` scenes of ``split`` (not picked), the image, its
    ground truth and each model's predicted mask, titled with its mIoU on that scene."""
    first = next(iter(models.values()))
    scenes = bench.dataset(split, eval_transform(bench, cfg, first.backbone))
    colours, device = palette(bench), next(first.parameters()).device
    tiles, titles = [], []
    for i in range(min(n, len(scenes))):
        image, truth = scenes[i]
        tiles += [viz.to_image(image, first.backbone.mean, first.backbone.std), viz.colorize_mask(truth, colours)]
        titles += ["image", "ground truth"]
        for name, model in models.items():
            pred = model(image[None].to(device))[0].argmax(1)[0].cpu()
            score = metrics.mean_iou(pred, torch.as_tensor(truth), bench.num_classes)
            tiles.append(viz.colorize_mask(pred, colours))
            titles.append(f"{name}\nmIoU {score * 100:.1f}")
    return viz.image_grid(tiles, ncols=2 + len(models), titles=titles, size=size)
