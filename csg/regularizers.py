"""The one interface shared by CSG and every baseline of Table 1.

Each method of Table 1 trains the synthetic model f_e with the task loss plus one
extra term (Eq. 4): ``L = L_task + weight * term``. A :class:`Regularizer` computes
that term from the stage features of one training step; the engine adds it. Each is
registered as a method (:mod:`csg.registry`) and describes what the harness must give it:
the forwards it needs, the views it trains on, the run options it takes, its own checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .registry import register_method


@dataclass
class StepFeatures:
    """What one training step hands to a regulariser.

    student: stage maps [layer1, ..., layer4] of f_e on the query view (with grad).
    teacher: stage maps of the frozen ImageNet copy f_e,o on the key view (no grad),
        or None when no regulariser asked for them (``needs_teacher`` is False).
    student_on_key: stage maps of f_e on the key view (no grad), or None unless a
        regulariser set ``needs_student_on_key`` (CSG's A-pool takes the key's attention
        from f_e). When the key view is the query view, these are the detached
        ``student`` maps and cost nothing.
    """

    student: list[torch.Tensor]
    teacher: list[torch.Tensor] | None = None
    student_on_key: list[torch.Tensor] | None = None


class Regularizer(nn.Module):
    """Base class: ``forward(features) -> term`` (unweighted, a scalar tensor).

    Attributes:
        weight: the balancing factor (λ of Eq. 4); the engine adds ``weight * term``.
        needs_teacher: True when the engine must run f_e,o on the key view.
        needs_student_on_key: True when it also needs f_e's maps on the key view, up to
            the deepest of ``key_stages``.
        two_views (class): trains on two independently augmented views of each image (CSG);
            otherwise both models see one view.
        options (class): the run options (fields of :class:`csg.config.Config`) that
            :meth:`build`, :meth:`keys_per_image` and :meth:`validate` take by name.
    """

    needs_teacher = False
    needs_student_on_key = False
    key_stages: tuple[int, ...] = ()
    two_views = False
    options: tuple[str, ...] = ()

    @classmethod
    def build(cls, backbone, weight: float, settings, **options) -> Regularizer:
        """The regulariser of one run: the student backbone, λ, the run's scaled settings
        (:class:`csg.scaling.RunSettings`) and its declared ``options``."""
        return cls(weight)

    @classmethod
    def keys_per_image(cls, **options) -> int:
        """Keys each training image adds to a queue (1 without one), for scaling K."""
        return 1

    @classmethod
    def validate(cls, map_sides: dict[int, int], **options) -> None:
        """Raise a ValueError naming a bad option before training starts; ``map_sides`` gives the
        side of each stage's feature map at the run's image size."""

    def __init__(self, weight: float = 1.0):
        super().__init__()
        if not weight >= 0:  # also rejects NaN
            raise ValueError(f"regulariser weight must be >= 0, got {weight}")
        self.weight = float(weight)

    def forward(self, features: StepFeatures) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def after_step(self) -> None:
        """Called by the engine after each optimiser step (SI accumulates importance here)."""


@register_method("vanilla", "Baseline (synthetic only)")
@register_method("oracle", "Oracle on ImageNet", frozen_backbone=True)
class NoRegularizer(Regularizer):
    """The task loss alone: vanilla synthetic training (the "Baseline" row of Table 1) and,
    with the backbone frozen at ImageNet (``baselines.freeze_backbone``), the oracle."""

    def __init__(self):
        super().__init__(weight=0.0)

    @classmethod
    def build(cls, backbone, weight, settings, **options):
        return cls()

    def forward(self, features: StepFeatures) -> torch.Tensor:
        return features.student[-1].new_zeros(())
