"""Synaptic Intelligence (Table 1), anchored at the ImageNet weights."""

from __future__ import annotations

import torch
from torch import nn

from ..registry import register_method
from ..regularizers import StepFeatures
from .anchored import AnchoredToImageNet


# The paper reports no λ for this baseline: 1 by default; runs choose it from the grid.
@register_method("si", "Synaptic Intelligence", default_weight=1.0)
class SynapticIntelligence(AnchoredToImageNet):
    """Synaptic Intelligence (Zenke et al., 2017), online, anchored at the ImageNet weights.

    Zenke et al. measure each parameter's importance by its share of the loss decrease
    along the training path, ω_k = -Σ_t g_k(t) Δθ_k(t) (their path integral), and
    penalise later tasks with c Σ_k Ω_k (θ_k - θ̃_k)^2, Ω_k = ω_k / (Δ_k^2 + ξ), where
    Δ_k is how far θ_k moved during the task and θ̃ the weights at its end.

    Here the "previous task" is ImageNet, whose path we do not have, and there is only
    one run; so, as in ASG's use of SI for synthetic-to-real transfer, importance is
    accumulated *online* along this run's path and the anchor is θ_ImageNet. After every
    optimiser step (``after_step``):

        ω_k += -g_k Δθ_k,   Ω_k = max(0, ω_k / ((θ_k - θ_ImageNet,k)^2 + ξ))

    and the term is Σ_k Ω_k (θ_k - θ_ImageNet,k)^2, with Ω a constant (no gradient).

    Where this deviates from Zenke et al., and why:
      * Ω is refreshed every step instead of consolidated once at a task boundary, and
        penalises the drift of the same run it was measured on (there is no boundary).
      * g is the gradient left in ``.grad`` by the step, i.e. of the whole loss,
        including this term and any other; Zenke et al. use the unregularised task
        loss's gradient, which would take a second backward pass. Δθ is the step's
        actual change (momentum and weight decay included), as in their method.
      * Ω is clamped at 0: ω can turn negative (noisy or overshooting steps), and a
        negative Ω would reward drifting away from ImageNet.
    Zenke et al. use ξ = 1e-3 (split MNIST) and 0.1 (permuted MNIST, CIFAR).
    """

    def __init__(self, student_backbone: nn.Module, weight: float, xi: float = 1e-3):
        if not xi > 0:
            raise ValueError(f"SI damping xi must be > 0 (Zenke et al. use 1e-3 or 0.1), got {xi}")
        super().__init__(student_backbone, weight)
        self.xi = float(xi)
        for i, p in enumerate(self.params):
            self.register_buffer(f"omega_{i}", torch.zeros_like(p))
            self.register_buffer(f"importance_{i}", torch.zeros_like(p))
            self.register_buffer(f"previous_{i}", p.detach().clone())  # θ before the next step

    @property
    def omegas(self) -> list[torch.Tensor]:
        """ω, the running path integral of each parameter."""
        return self._buffers_named("omega")

    @property
    def importances(self) -> list[torch.Tensor]:
        """Ω, the importance the term currently uses."""
        return self._buffers_named("importance")

    def forward(self, features: StepFeatures) -> torch.Tensor:
        return sum((o * (p - a).pow(2)).sum() for p, a, o in zip(self.params, self.anchors, self.importances))

    @torch.no_grad()
    def after_step(self) -> None:
        for p, a, w, o, prev in zip(
            self.params, self.anchors, self.omegas, self.importances, self._buffers_named("previous")
        ):
            if p.grad is not None:  # a parameter the step did not reach has no path to add
                w.sub_(p.grad * (p - prev))
            prev.copy_(p)
            torch.div(w, (p - a).pow(2) + self.xi, out=o).clamp_(min=0)
