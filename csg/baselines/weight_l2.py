"""Weight l2 distance (Table 1)."""

from __future__ import annotations

import torch

from ..registry import register_method
from ..regularizers import StepFeatures
from .anchored import AnchoredToImageNet


# The paper reports no λ for this baseline: 1 by default; runs choose it from the grid.
@register_method("weight_l2", "Weight l2 distance", default_weight=1.0)
class WeightL2(AnchoredToImageNet):
    """Weight l2 distance (Table 1, cited to Kirkpatrick et al., 2017: EWC without its Fisher weights).

    term = Σ_k (θ_k - θ_ImageNet,k)^2 over every trainable backbone parameter, i.e.
    L2-SP (Li et al., 2018): each weight pulled back to its ImageNet value with equal
    stiffness.
    """

    def forward(self, features: StepFeatures) -> torch.Tensor:
        return sum((p - a).pow(2).sum() for p, a in zip(self.params, self.anchors))
