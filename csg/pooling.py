"""The pooling operator g of Eq. 2: global average pooling or A-pool (Sec. 3.4)."""

from __future__ import annotations

import torch

POOLINGS = ("a_pool", "gap")


def _check_maps(x: torch.Tensor, name: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"{name} must be a (B, C, H, W) feature map, got shape {tuple(x.shape)}")


def global_avg_pool(features: torch.Tensor) -> torch.Tensor:
    """v̄ = g(v): the mean over positions, (B, C, H, W) -> (B, C)."""
    _check_maps(features, "features")
    return features.mean(dim=(2, 3))


def attention_weights(features: torch.Tensor) -> torch.Tensor:
    """A-pool's weights a_ij = <v_ij, v̄> / Σ_i'j' <v_i'j', v̄>, shape (B, H, W).

    The paper (and the official code, which asserts it) assumes non-negative features,
    e.g. after ReLU, where every score <v_ij, v̄> is >= 0. EfficientNet's inner stages
    end in a linear projection, so their features can be negative and a score can be
    negative too. We clamp scores at zero before normalising: a position whose feature
    points away from the image's mean feature gets no weight, the weights stay a
    convex combination (non-negative, summing to 1), and on non-negative features this
    is exactly the paper's formula. If every score is zero (e.g. v̄ = 0) the weights
    fall back to uniform, i.e. to global average pooling.
    """
    _check_maps(features, "features")
    mean = features.mean(dim=(2, 3), keepdim=True)  # v̄, (B, C, 1, 1)
    scores = (features * mean).sum(dim=1).clamp_min(0)  # <v_ij, v̄>, (B, H, W)
    total = scores.sum(dim=(1, 2), keepdim=True)
    uniform = torch.full_like(scores, 1.0 / (scores.shape[1] * scores.shape[2]))
    return torch.where(total > 0, scores / total.clamp_min(torch.finfo(scores.dtype).tiny), uniform)


def a_pool(features: torch.Tensor, attention_from: torch.Tensor | None = None) -> torch.Tensor:
    """Attentional pooling v̂ = g_a(v) = Σ_ij a_ij v_ij (Sec. 3.4), (B, C, H, W) -> (B, C).

    Args:
        features: the maps v to pool.
        attention_from: maps (B, C', H, W) to compute the attention a from, when it
            must come from another network than the one that produced ``features`` --
            the paper computes the key's attention with f_e, "the one adapted to the
            source domain". Defaults to ``features`` itself.
    """
    _check_maps(features, "features")
    source = features if attention_from is None else attention_from
    _check_maps(source, "attention_from")
    if source.shape[0] != features.shape[0] or source.shape[2:] != features.shape[2:]:
        raise ValueError(
            f"attention_from must match features in batch and spatial size: "
            f"{tuple(source.shape)} vs {tuple(features.shape)}"
        )
    a = attention_weights(source).to(features.dtype)
    # A broadcast product summed over positions, not an einsum: on channels_last maps the
    # einsum's batched matmul reads across the layout, many times slower on a CPU.
    return (features * a.unsqueeze(1)).sum(dim=(2, 3))


def pool(features: torch.Tensor, kind: str, attention_from: torch.Tensor | None = None) -> torch.Tensor:
    """Dispatch to ``a_pool`` or ``global_avg_pool`` by name (one of ``POOLINGS``)."""
    if kind == "a_pool":
        return a_pool(features, attention_from)
    if kind == "gap":
        return global_avg_pool(features)
    raise ValueError(f"unknown pooling {kind!r}; accepted: {', '.join(POOLINGS)}")
