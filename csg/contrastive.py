"""CSG: contrastive synthetic-to-real generalisation (Sec. 3, Eqs. 2-6).

For each stage l in G the student's feature map on the query view is pooled (A-pool or
GAP), projected by a head h_l and L2-normalised: the anchor z^a. The frozen ImageNet
model's map on the key view goes through the same pooling and the EMA head h~_l: the
positive z^+ ("pull"). Keys of earlier batches, kept in one FIFO queue per stage, are
the negatives z^- ("push"). The term is Σ_l InfoNCE(z^a, z^+, queue_l) (Eq. 5); the
engine adds weight * term to the task loss (Eq. 4). With ``patch_grid=n`` every map is
cut into n x n patches and each patch is its own anchor (the dense variant, Eq. 6).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import check_stages
from .losses import info_nce
from .pooling import POOLINGS, pool
from .registry import register_method
from .regularizers import Regularizer, StepFeatures
from .runtime import all_gather

KEY_ATTENTIONS = ("student", "teacher")


class ProjectionHead(nn.Sequential):
    """h: R^C -> R^c, Linear(C, C) - ReLU - Linear(C, c) (Sec. 3.1, after SimCLR)."""

    def __init__(self, in_dim: int, out_dim: int = 128):
        super().__init__(nn.Linear(in_dim, in_dim), nn.ReLU(inplace=True), nn.Linear(in_dim, out_dim))


class KeyQueue(nn.Module):
    """A FIFO queue of K keys: the negatives of one stage (MoCo's dictionary).

    Starts as random unit vectors, like MoCo; new keys overwrite the oldest ones,
    wrapping around the end of the buffer. Under torch.distributed every rank pushes
    the keys of all ranks, so the queues stay identical across ranks.

    ``push`` only stages the keys; they enter the buffer when ``negatives()`` is next
    called. The loss's backward still needs this step's negatives, and writing the new
    keys in place right away would force a copy of the whole queue every step (MoCo
    clones it); deferring the write gives the same negatives without the copy.
    """

    def __init__(self, size: int, dim: int):
        super().__init__()
        if size < 1:
            raise ValueError(f"queue size must be >= 1, got {size}")
        self.register_buffer("keys", F.normalize(torch.randn(size, dim), dim=1))
        self.register_buffer("ptr", torch.zeros((), dtype=torch.long))
        self.staged: torch.Tensor | None = None

    @torch.no_grad()
    def push(self, keys: torch.Tensor) -> None:
        keys = all_gather(keys.detach())
        if len(keys) > len(self.keys):
            raise ValueError(
                f"a batch of {len(keys)} keys does not fit a queue of {len(self.keys)}: the queue "
                f"size must be >= keys per step (batch x patches x ranks)"
            )
        self.commit()
        self.staged = keys

    @torch.no_grad()
    def commit(self) -> None:
        """Write the staged keys into the buffer, oldest slots first."""
        if self.staged is None:
            return
        n, size = len(self.staged), len(self.keys)
        slots = (self.ptr + torch.arange(n, device=self.keys.device)) % size
        self.keys[slots] = self.staged.to(self.keys)
        self.ptr.copy_((self.ptr + n) % size)
        self.staged = None

    def negatives(self) -> torch.Tensor:
        """The current K keys, including every key pushed before this call."""
        self.commit()
        return self.keys

    # Staged keys travel with the state dict, so a checkpoint loses none.
    def get_extra_state(self):
        return {"staged": self.staged}

    def set_extra_state(self, state):
        self.staged = state["staged"]


def split_patches(maps: torch.Tensor, grid: int) -> torch.Tensor:
    """Cut (B, C, H, W) maps into a grid x grid of patches: (B * grid², C, H/grid, W/grid).

    Patch order is image-major then row-major, so patch i of the student and patch i
    of the teacher cover the same region (the positive pair of Eq. 6).
    """
    b, c, h, w = maps.shape
    if grid > h or grid > w or h % grid or w % grid:
        ok = [g for g in range(1, min(h, w) + 1) if h % g == 0 and w % g == 0]
        raise ValueError(f"a {grid}x{grid} patch grid does not tile a {h}x{w} feature map; accepted grids: {ok}")
    p = maps.reshape(b, c, grid, h // grid, grid, w // grid).permute(0, 2, 4, 1, 3, 5)
    return p.reshape(b * grid * grid, c, h // grid, w // grid)


def check_options(pooling: str, key_attention: str, tau: float, momentum: float | None, patch_grid: int | None):
    """CSG's options, checked in one place: by :class:`CSG` and by :meth:`CSG.validate` (before
    any training). ``momentum`` None: not set yet (the engine scales it)."""
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}; accepted: {', '.join(POOLINGS)}")
    if key_attention not in KEY_ATTENTIONS:
        raise ValueError(f"unknown key_attention {key_attention!r}; accepted: {', '.join(KEY_ATTENTIONS)}")
    if not tau > 0:
        raise ValueError(f"temperature tau must be > 0, got {tau}")
    if momentum is not None and not 0 <= momentum <= 1:
        raise ValueError(f"EMA momentum must be in [0, 1], got {momentum}")
    if patch_grid is not None and not (isinstance(patch_grid, int) and patch_grid >= 1):
        raise ValueError(f"patch_grid must be None or an integer >= 1, got {patch_grid}")


# λ: the paper's, 0.1 on VisDA-17 and 75 on GTA5; only CSG trains on two RandAugment views (M = 6).
@register_method("csg", "CSG", default_weight={"classification": 0.1, "segmentation": 75.0}, magnitude=6)
class CSG(Regularizer):
    """The CSG term of Eq. 4 over the stages G (Eq. 5), optionally dense (Eq. 6).

    Args:
        channels: widths of the backbone's stages 1..4 (``Backbone.channels``).
        stages: G, a subset of {1, 2, 3, 4}; the paper's best is {3, 4}.
        weight: λ (0.1 for VisDA-17, 75 for GTA5).
        pooling: "a_pool" (Sec. 3.4) or "gap".
        dim: embedding size c (128).
        queue_size: K negatives per stage (65,536).
        tau: temperature τ (0.07).
        momentum: m of the EMA heads h~ (0.999).
        patch_grid: None for one embedding per image; n for n x n patches (8 in the
            paper's segmentation runs).
        key_attention: where A-pool takes the key's attention from. "student" (the
            paper): f_e's attention on the key view -- one extra forward of f_e unless
            the views coincide. "teacher": f_e,o's own attention, which costs nothing.
    """

    needs_teacher = True
    two_views = True
    options = ("stages", "pooling", "tau", "patch_grid", "key_attention")

    @classmethod
    def build(cls, backbone, weight, settings, **options):
        return cls(
            backbone.channels, weight=weight, queue_size=settings.queue_size, momentum=settings.ema_momentum, **options
        )

    @classmethod
    def keys_per_image(cls, patch_grid=None, **options) -> int:
        return (patch_grid or 1) ** 2  # dense CSG enqueues one key per patch

    @classmethod
    def validate(cls, map_sides, stages, pooling, tau, patch_grid, key_attention):
        check_options(pooling, key_attention, tau, None, patch_grid)
        smallest = min(map_sides[s] for s in check_stages(stages))
        if patch_grid and patch_grid > smallest:
            raise ValueError(
                f"a {patch_grid}x{patch_grid} patch grid is larger than the {smallest}x{smallest} "
                f"feature map of stages {tuple(stages)}"
            )

    def __init__(
        self,
        channels: Sequence[int],
        stages: Sequence[int] = (3, 4),
        weight: float = 0.1,
        pooling: str = "a_pool",
        dim: int = 128,
        queue_size: int = 65536,
        tau: float = 0.07,
        momentum: float = 0.999,
        patch_grid: int | None = None,
        key_attention: str = "student",
    ):
        super().__init__(weight)
        self.stages = check_stages(stages)
        if len(channels) != 4:
            raise ValueError(f"channels must list the widths of the 4 stages, got {tuple(channels)}")
        check_options(pooling, key_attention, tau, momentum, patch_grid)
        self.pooling, self.tau, self.momentum = pooling, tau, momentum
        self.patch_grid, self.key_attention = patch_grid, key_attention
        self.needs_student_on_key = pooling == "a_pool" and key_attention == "student"
        self.key_stages = self.stages
        self.heads = nn.ModuleDict({str(s): ProjectionHead(channels[s - 1], dim) for s in self.stages})
        self.ema_heads = copy.deepcopy(self.heads).requires_grad_(False)
        self.queues = nn.ModuleDict({str(s): KeyQueue(queue_size, dim) for s in self.stages})

    @torch.no_grad()
    def _update_ema_heads(self) -> None:
        # h~ <- m h~ + (1 - m) h, before the keys are computed (as MoCo and the official code).
        for ema, online in zip(self.ema_heads.parameters(), self.heads.parameters()):
            ema.lerp_(online.detach(), 1 - self.momentum)

    def _patches(self, maps: torch.Tensor) -> torch.Tensor:
        return maps if self.patch_grid is None else split_patches(maps, self.patch_grid)

    def embed(
        self, maps: torch.Tensor, stage: int, attention_from: torch.Tensor | None = None, ema: bool = False
    ) -> torch.Tensor:
        """z = normalize(h(g(v))) of Eq. 2 for one stage: (B, C, H, W) -> (B [* n²], c)."""
        head = (self.ema_heads if ema else self.heads)[str(stage)]
        att = None if attention_from is None else self._patches(attention_from)
        return F.normalize(head(pool(self._patches(maps), self.pooling, att)), dim=1)

    def forward(self, features: StepFeatures) -> torch.Tensor:
        if features.teacher is None:
            raise ValueError("CSG needs the frozen ImageNet model's stage maps (StepFeatures.teacher)")
        if self.needs_student_on_key and features.student_on_key is None:
            raise ValueError("CSG with A-pool and key_attention='student' needs StepFeatures.student_on_key")
        self._update_ema_heads()
        total = features.student[-1].new_zeros(())
        for stage in self.stages:
            q = self.embed(features.student[stage - 1], stage)
            with torch.no_grad():
                att = features.student_on_key[stage - 1] if self.needs_student_on_key else None
                k = self.embed(features.teacher[stage - 1], stage, attention_from=att, ema=True)
            queue = self.queues[str(stage)]
            total = total + info_nce(q, k.to(q.dtype), queue.negatives().to(q.dtype), self.tau)
            queue.push(k)
        return total
