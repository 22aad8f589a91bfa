"""The base of the weight-space baselines: the student's parameters and a snapshot of their ImageNet values."""

from __future__ import annotations

import torch
from torch import nn

from ..regularizers import Regularizer


class AnchoredToImageNet(Regularizer):
    """Base of the weight-space baselines: the student's parameters θ and a snapshot θ_ImageNet.

    θ are the backbone's trainable parameters at construction (the ImageNet classifier
    is not part of f_e and is left out). The snapshot is kept as buffers, so it follows
    ``.to(device)`` and is saved in ``state_dict``; the live parameters are referenced,
    not registered, since they belong to the backbone (and its optimiser).
    """

    @classmethod
    def build(cls, backbone, weight, settings, **options):
        return cls(backbone, weight)

    def __init__(self, student_backbone: nn.Module, weight: float):
        super().__init__(weight)
        named = [
            (n, p)
            for n, p in student_backbone.named_parameters()
            if p.requires_grad and not n.startswith("imagenet_classifier.")
        ]
        if not named:
            raise ValueError("student_backbone has no trainable parameters to anchor")
        self.param_names = [n for n, _ in named]
        self.params = [p for _, p in named]
        for i, p in enumerate(self.params):
            self.register_buffer(f"anchor_{i}", p.detach().clone())

    def _buffers_named(self, kind: str) -> list[torch.Tensor]:
        return [getattr(self, f"{kind}_{i}") for i in range(len(self.params))]

    @property
    def anchors(self) -> list[torch.Tensor]:
        """θ_ImageNet, one tensor per parameter in ``param_names`` order."""
        return self._buffers_named("anchor")
