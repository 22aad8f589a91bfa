"""Task models f_e: a backbone with stage taps plus a task head.

Both return ``(logits, stage_maps)`` so one training step serves every method: the
task loss reads the logits, the regulariser reads the stage maps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.segmentation.deeplabv3 import DeepLabHead

from .backbones import Backbone


class Classifier(nn.Module):
    """Backbone -> global average pooling -> Linear(C, hidden) - ReLU - Linear(hidden, classes).

    The paper's VisDA-17 head is 2048 -> 512 -> ReLU -> 12.
    """

    def __init__(self, backbone: Backbone, num_classes: int, hidden: int = 512):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Sequential(
            nn.Linear(backbone.num_features, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, num_classes)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        maps = self.backbone(x)
        return self.head(maps[-1].mean(dim=(2, 3))), maps


class Segmenter(nn.Module):
    """DeepLab-v3: a dilated backbone (output stride 8) with an ASPP head, upsampled to the input.

    ``aspp_rates``: DeepLab's (12, 24, 36) suit 512-px crops; :func:`csg.scaling.aspp_rates`
    scales them to smaller ones. The logits are upsampled with ``align_corners=True``, as in
    the official code.
    """

    def __init__(self, backbone: Backbone, num_classes: int, aspp_rates: tuple[int, ...] = (12, 24, 36)):
        super().__init__()
        self.backbone = backbone
        self.head = DeepLabHead(backbone.num_features, num_classes, atrous_rates=aspp_rates)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        maps = self.backbone(x)
        logits = F.interpolate(self.head(maps[-1]), size=x.shape[-2:], mode="bilinear", align_corners=True)
        return logits, maps
