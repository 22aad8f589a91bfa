"""The InfoNCE loss of CSG (Eq. 3)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def info_nce(q: torch.Tensor, k: torch.Tensor, negatives: torch.Tensor, tau: float = 0.07) -> torch.Tensor:
    """InfoNCE of Eq. 3, averaged over the N queries.

    ``-log( exp(q·k/τ) / (exp(q·k/τ) + Σ_n exp(q·n/τ)) )`` for each row of ``q``.

    Args:
        q: (N, c) anchors z^a, L2-normalised (the student's embeddings).
        k: (N, c) positives z^+, L2-normalised (the ImageNet model's embeddings), row i
            pairs with q[i].
        negatives: (K, c) negatives z^-, L2-normalised, shared by all anchors (the queue).
        tau: temperature τ > 0 (0.07 in the paper).
    """
    if not tau > 0:
        raise ValueError(f"temperature tau must be > 0, got {tau}")
    if q.ndim != 2 or k.shape != q.shape:
        raise ValueError(f"q and k must both be (N, c) with the same shape, got {tuple(q.shape)} and {tuple(k.shape)}")
    if negatives.ndim != 2 or negatives.shape[1] != q.shape[1]:
        raise ValueError(f"negatives must be (K, {q.shape[1]}), got {tuple(negatives.shape)}")
    positive = (q * k).sum(dim=1, keepdim=True)  # (N, 1)
    # (K, c) @ (c, N), transposed: the same products, but the long queue is the GEMM's
    # row operand, which a CPU GEMM runs faster than q @ negatives.t() with its long column operand.
    negative = (negatives @ q.t()).t()  # (N, K)
    logits = torch.cat([positive, negative], dim=1) / tau
    # Cross-entropy with the positive in column 0 is exactly -log of the softmax ratio.
    target = torch.zeros(len(q), dtype=torch.long, device=q.device)
    return F.cross_entropy(logits, target)
