"""The other rows of Table 1: ways to keep f_e close to its ImageNet self.

Each is a :class:`~csg.regularizers.Regularizer`, so the engine trains every row the
same way: ``loss = task + weight * term``. All of them "retain the ImageNet domain
knowledge during the synthetic training, without feature diversity being explicitly
promoted" (Sec. 4.1.1), in weight space (WeightL2, SynapticIntelligence) or in
feature/output space (FeatureL2, ASGDistillation).

    Oracle on ImageNet   freeze_backbone(backbone) + NoRegularizer(): only a new head trains (oracle.py)
    Baseline             NoRegularizer()
    Weight l2 distance   WeightL2
    Synaptic Intell.     SynapticIntelligence
    Feature l2 distance  FeatureL2
    ASG                  ASGDistillation

One method per module; importing this package registers them (csg.registry) in Table 1's
order, which is why the imports below are not sorted.
"""

# isort: off
from .oracle import freeze_backbone
from .weight_l2 import WeightL2
from .si import SynapticIntelligence
from .feature_l2 import FeatureL2
from .asg import ASGDistillation

# isort: on

__all__ = ["ASGDistillation", "FeatureL2", "SynapticIntelligence", "WeightL2", "freeze_backbone"]
