"""InfoNCE (Eq. 3) and A-pool (Sec. 3.4) against independent computations."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from csg.losses import info_nce
from csg.pooling import a_pool, attention_weights, global_avg_pool, pool


def unit(*shape, seed=0):
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64), dim=-1)


def test_info_nce_matches_eq3_row_by_row():
    q, k, neg = unit(5, 8, seed=1), unit(5, 8, seed=2), unit(7, 8, seed=3)
    tau = 0.2
    expected = []
    for i in range(5):
        pos = math.exp(float(q[i] @ k[i]) / tau)
        negs = sum(math.exp(float(q[i] @ n) / tau) for n in neg)
        expected.append(-math.log(pos / (pos + negs)))
    assert info_nce(q, k, neg, tau).item() == pytest.approx(np.mean(expected), rel=1e-10)


def test_info_nce_is_small_when_positive_dominates_and_large_when_not():
    q = unit(4, 16, seed=4)
    far = -q  # negatives opposite to each anchor are easy
    assert info_nce(q, q, far, 0.07) < 1e-3
    assert info_nce(q, -q, q, 0.07) > 10  # positive opposite, a negative identical


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(tau=0.0), "tau"),
        (dict(tau=-1.0), "tau"),
        (dict(k=unit(3, 8)), "same shape"),
        (dict(negatives=unit(7, 4)), "negatives"),
    ],
)
def test_info_nce_rejects_bad_input(bad, match):
    args = dict(q=unit(5, 8), k=unit(5, 8, seed=1), negatives=unit(7, 8, seed=2), tau=0.07) | bad
    with pytest.raises(ValueError, match=match):
        info_nce(**args)


def test_a_pool_matches_the_papers_formula_by_loops():
    v = torch.rand(2, 3, 4, 5, dtype=torch.float64)  # non-negative, as after ReLU
    out = a_pool(v)
    for b in range(2):
        vbar = v[b].mean(dim=(1, 2))
        scores = torch.tensor([[float(v[b, :, i, j] @ vbar) for j in range(5)] for i in range(4)], dtype=torch.float64)
        a = scores / scores.sum()
        expected = sum(v[b, :, i, j] * a[i, j] for i in range(4) for j in range(5))
        torch.testing.assert_close(out[b], expected)


def test_attention_weights_sum_to_one_and_constant_map_reduces_to_average_pooling():
    v = torch.randn(3, 6, 5, 5)
    torch.testing.assert_close(attention_weights(v).sum(dim=(1, 2)), torch.ones(3))
    const = torch.rand(2, 6, 1, 1).expand(2, 6, 4, 4).contiguous()
    torch.testing.assert_close(attention_weights(const), torch.full((2, 4, 4), 1 / 16))
    torch.testing.assert_close(a_pool(const), global_avg_pool(const))


def test_a_pool_on_signed_features_clamps_negative_scores():
    # Position 0 points along the mean, position 1 against it: it must get weight 0.
    v = torch.tensor([[3.0, -1.0], [0.0, 0.0]]).reshape(1, 2, 1, 2)  # C=2, H=1, W=2
    a = attention_weights(v)
    torch.testing.assert_close(a, torch.tensor([[[1.0, 0.0]]]))
    torch.testing.assert_close(a_pool(v), torch.tensor([[3.0, 0.0]]))
    # A map whose mean is zero has no direction to attend to: uniform weights.
    zero_mean = torch.tensor([[1.0, -1.0]]).reshape(1, 1, 1, 2)
    torch.testing.assert_close(attention_weights(zero_mean), torch.tensor([[[0.5, 0.5]]]))


def test_a_pool_takes_attention_from_another_map():
    v = torch.rand(2, 4, 3, 3)
    other = torch.zeros(2, 7, 3, 3)
    other[:, :, 0, 0] = 1.0  # all attention on the top-left position
    torch.testing.assert_close(a_pool(v, attention_from=other), v[:, :, 0, 0])


def test_pool_dispatch_and_errors():
    v = torch.rand(2, 4, 3, 3)
    torch.testing.assert_close(pool(v, "gap"), v.mean(dim=(2, 3)))
    torch.testing.assert_close(pool(v, "a_pool"), a_pool(v))
    with pytest.raises(ValueError, match="a_pool, gap"):
        pool(v, "max")
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        a_pool(torch.rand(2, 4))
    with pytest.raises(ValueError, match="spatial size"):
        a_pool(v, attention_from=torch.rand(2, 4, 2, 2))


def test_info_nce_defaults_to_the_papers_temperature_and_tau_scales_the_logits():
    q, k, neg = unit(3, 8, seed=5), unit(3, 8, seed=6), unit(4, 8, seed=7)
    assert info_nce(q, k, neg).item() == pytest.approx(info_nce(q, k, neg, 0.07).item(), rel=1e-12)
    # Only the positive and negatives' logits over τ matter: halving τ is doubling every logit.
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ neg.t()], dim=1)
    for tau in (0.5, 1.0):
        expected = (torch.logsumexp(logits / tau, dim=1) - logits[:, 0] / tau).mean()
        assert info_nce(q, k, neg, tau).item() == pytest.approx(expected.item(), rel=1e-12)


def test_a_pool_weights_do_not_depend_on_the_scale_of_the_features():
    # a_ij is a ratio: tiny (or huge) activations give the same weights, not a fall-back to GAP.
    v = torch.rand(2, 3, 4, 4, dtype=torch.float64)
    for c in (1e-4, 1e3):
        torch.testing.assert_close(attention_weights(c * v), attention_weights(v))
        torch.testing.assert_close(a_pool(c * v), c * a_pool(v))
    assert not torch.allclose(attention_weights(1e-4 * v), torch.full((2, 4, 4), 1 / 16, dtype=torch.float64))


def test_a_pool_refuses_attention_maps_of_another_batch_size():
    # A batch of one would otherwise broadcast one image's attention over the whole batch.
    with pytest.raises(ValueError, match="batch and spatial size"):
        a_pool(torch.rand(3, 4, 2, 2), attention_from=torch.rand(1, 4, 2, 2))
