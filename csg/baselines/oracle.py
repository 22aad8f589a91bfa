"""The "Oracle on ImageNet" row of Table 1: the ImageNet backbone frozen, only a new head trains."""

from __future__ import annotations

from ..backbones import Backbone


def freeze_backbone(backbone: Backbone) -> Backbone:
    """The "Oracle on ImageNet" row: f_e stays at its ImageNet weights, only a new head trains.

    The paper's footnote 3: the backbone is frozen and only the new classification layer
    is trained on the synthetic domain. Freezes in place and returns ``backbone``: no
    parameter requires grad (so the engine's optimiser, built from parameters that
    require grad, holds only the head) and BatchNorm statistics stay at their ImageNet
    values even in ``train()`` mode. Train it with :class:`NoRegularizer`.
    """
    if not isinstance(backbone, Backbone):
        raise TypeError(f"freeze_backbone expects a csg.backbones.Backbone, got {type(backbone).__name__}")
    backbone.requires_grad_(False)
    backbone.freeze_bn_stats = True
    return backbone.train(backbone.training)  # re-applies the BN freeze to the current mode
