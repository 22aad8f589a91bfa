"""The other rows of Table 1: ways to keep f_e close to its ImageNet self.

Each is a :class:`~csg.regularizers.Regularizer`, so the engine trains every row the
same way: ``loss = task + weight * term``. All of them "retain the ImageNet domain
knowledge during the synthetic training, without feature diversity being explicitly
promoted" (Sec. 4.1.1), in weight space (WeightL2, SynapticIntelligence) or in
feature/output space (FeatureL2, ASGDistillation).

    Oracle on ImageNet   freeze_backbone(backbone) + NoRegularizer(): only a new head trains
    Baseline             NoRegularizer()
    Weight l2 distance   WeightL2
    Synaptic Intell.     SynapticIntelligence
    Feature l2 distance  FeatureL2
    ASG                  ASGDistillation
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import Backbone
from .pooling import global_avg_pool
from .registry import register_method
from .regularizers import Regularizer, StepFeatures


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


class _AnchoredToImageNet(Regularizer):
    """Base of the weight-space baselines: the student's parameters θ and a snapshot θ_ImageNet.

    θ are the backbone's trainable parameters at construction (the ImageNet classifier
    is not part of f_e and is left out). The snapshot is kept as buffers, so it follows
    ``.to(device)`` and is saved in ``state_dict``; the live parameters are referenced,
    not registered, since they belong to the backbone (and its optimiser).
    """

    @classmethod
    def from_config(cls, cfg, backbone, weight, settings):
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


# The paper reports no λ for the three baselines below: their default is 1, and the λ the
# book uses is chosen from the grid like every method's.
@register_method("weight_l2", "Weight l2 distance", default_weight=1.0)
class WeightL2(_AnchoredToImageNet):
    """Weight l2 distance (Table 1, cited to Kirkpatrick et al., 2017: EWC without its Fisher weights).

    term = Σ_k (θ_k - θ_ImageNet,k)^2 over every trainable backbone parameter, i.e.
    L2-SP (Li et al., 2018): each weight pulled back to its ImageNet value with equal
    stiffness.
    """

    def forward(self, features: StepFeatures) -> torch.Tensor:
        return sum((p - a).pow(2).sum() for p, a in zip(self.params, self.anchors))


@register_method("si", "Synaptic Intelligence", default_weight=1.0)
class SynapticIntelligence(_AnchoredToImageNet):
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


@register_method("feature_l2", "Feature l2 distance", default_weight=1.0)
class FeatureL2(Regularizer):
    """Feature l2 distance to f_e,o (Table 1; ROAD's distillation, Chen et al., 2018).

    ROAD pulls the *feature maps* of the adapted network towards those of the frozen
    ImageNet network, position by position. So here:

        term = mean over the batch, the H x W positions and the C channels of (v_s - v_t)^2

    for the stage-``stage`` maps v_s of the student and v_t of the frozen ImageNet model
    (both see the same image). Averaging over channels and positions keeps λ
    independent of the backbone's width and of the input size: summed over
    EfficientNet-Lite0's 1,280 channels, λ = 1 made plain SGD diverge on the offline
    benchmark (the record of that run is kept in results/superseded/).
    """

    needs_teacher = True

    @classmethod
    def from_config(cls, cfg, backbone, weight, settings):
        return cls(weight)

    def __init__(self, weight: float, stage: int = 4):
        super().__init__(weight)
        if stage not in (1, 2, 3, 4):
            raise ValueError(f"stage must be one of 1, 2, 3, 4 (the paper's layer groups), got {stage}")
        self.stage = int(stage)

    def forward(self, features: StepFeatures) -> torch.Tensor:
        student, teacher = features.student[self.stage - 1], features.teacher[self.stage - 1]
        return (student - teacher.to(student.dtype)).pow(2).mean()


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
    def from_config(cls, cfg, backbone, weight, settings):
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
