"""ASG's learning-without-forgetting KL (Table 1)."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ..pooling import global_avg_pool
from ..registry import register_method
from ..regularizers import Regularizer, StepFeatures


@register_method("asg", "ASG (KL)", default_weight=0.1)  # the official ASG's --lwf 0.1
class ASGDistillation(Regularizer):
    """ASG's "learning without forgetting" KL (Chen et al., 2020c; Li & Hoiem, 2017).

    The student's pooled stage-4 features go through the frozen ImageNet classifier; the
    frozen model's own ImageNet logits are the target:

        term = mean over the batch of KL(softmax(z_t / T) || softmax(z_s / T))

    with z_s = W GAP(f_e(x_q)) + b, z_t = W GAP(f_e,o(x_k)) + b, W, b the ImageNet FC.
    ASG uses T = 1 (the default); no T^2 factor is applied, ``weight`` absorbs it.
    The classifier is copied and frozen: gradients reach only the student's features.
    """

    needs_teacher = True

    @classmethod
    def build(cls, backbone, weight, settings, **options):
        return cls(backbone.imagenet_classifier, weight)

    def __init__(self, imagenet_classifier: nn.Module | None, weight: float, temperature: float = 1.0):
        super().__init__(weight)
        if imagenet_classifier is None:
            raise ValueError(
                "ASG needs the ImageNet classifier: build the backbone with weights='imagenet' "
                "and pass backbone.imagenet_classifier"
            )
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0 (ASG uses 1.0), got {temperature}")
        self.temperature = float(temperature)
        self.classifier = copy.deepcopy(imagenet_classifier).eval().requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        self.classifier.eval()  # the ImageNet head is a fixed function, whatever the mode
        return self

    def forward(self, features: StepFeatures) -> torch.Tensor:
        student = self.classifier(global_avg_pool(features.student[-1])) / self.temperature
        with torch.no_grad():
            teacher = self.classifier(global_avg_pool(features.teacher[-1])) / self.temperature
        return F.kl_div(
            F.log_softmax(student, dim=1), F.log_softmax(teacher, dim=1), reduction="batchmean", log_target=True
        )
