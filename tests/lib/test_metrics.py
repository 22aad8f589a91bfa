"""Metrics against independent computations: scipy/numpy for HSE, scikit-learn for labels."""

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist
from sklearn.metrics import balanced_accuracy_score, jaccard_score
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from csg.metrics import (
    accuracy_from_confusion,
    coarse_oracle_miou,
    confusion_matrix,
    hse,
    hyperspherical_energy,
    iou_from_confusion,
    mean_class_accuracy,
    mean_iou,
    per_class_accuracy,
    per_class_iou,
)


def brute_force_energy(x: np.ndarray, s: float) -> float:
    v = x / np.linalg.norm(x, axis=1, keepdims=True)
    d = pdist(v)  # the N(N-1)/2 pairwise distances
    return float(np.mean(np.log(1 / d**2)) if s == 0 else np.mean(d**-s))


@pytest.mark.parametrize("s", [0, 1, 2, 0.5])
def test_hse_matches_brute_force_pairwise_distances(s):
    x = np.random.default_rng(0).normal(size=(40, 5))
    assert hyperspherical_energy(torch.from_numpy(x), s) == pytest.approx(brute_force_energy(x, s), rel=1e-12)


@pytest.mark.parametrize("n", [3, 5, 9])
def test_hse_of_a_regular_simplex_has_its_closed_form(n):
    # n unit vectors with pairwise inner product -1/(n-1): all squared distances are 2n/(n-1).
    simplex = torch.eye(n, dtype=torch.float64) - 1.0 / n
    rotation, _ = torch.linalg.qr(torch.randn(n, n, dtype=torch.float64, generator=torch.Generator().manual_seed(n)))
    scales = torch.linspace(0.5, 3.0, n, dtype=torch.float64)[:, None]  # normalisation must undo these
    x = scales * simplex @ rotation
    d2 = 2 * n / (n - 1)
    assert hyperspherical_energy(x, 0) == pytest.approx(-math.log(d2), rel=1e-12)
    assert hyperspherical_energy(x, 1) == pytest.approx(d2**-0.5, rel=1e-12)
    assert hyperspherical_energy(x, 2) == pytest.approx(1 / d2, rel=1e-12)


def test_hse_s0_is_twice_the_log_printed_in_eq1():
    # Two antipodal points: distance 2, so log(1/d^2) = -2 log 2 (Eq. 1 as printed: -log 2).
    x = torch.tensor([[1.0, 0.0], [-3.0, 0.0]])
    assert hyperspherical_energy(x, 0) == pytest.approx(-2 * math.log(2))


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 50, 64])
def test_hse_chunked_equals_one_block(chunk_size):
    x = torch.randn(50, 8, generator=torch.Generator().manual_seed(1))
    for s in (0, 1, 2):
        assert hyperspherical_energy(x, s, chunk_size=chunk_size) == pytest.approx(
            hyperspherical_energy(x, s, chunk_size=len(x)), rel=1e-12
        )


def test_hse_lower_for_spread_than_for_clustered_features():
    g = torch.Generator().manual_seed(2)
    spread = torch.randn(200, 16, generator=g)
    clustered = torch.ones(200, 16) + 0.1 * torch.randn(200, 16, generator=g)
    for s in (0, 1, 2):
        assert hyperspherical_energy(spread, s) < hyperspherical_energy(clustered, s)


def test_hse_coincident_points_give_inf():
    x = torch.randn(6, 4, dtype=torch.float64)
    x[4] = 2 * x[1]  # same direction
    for s in (0, 1, 2):
        assert hyperspherical_energy(x, s) == math.inf


def test_hse_close_pairs_are_exact_not_lost_to_cancellation():
    t = 1e-7  # angle; the Gram form 2 - 2cos(t) would be off by about 1%
    x = torch.tensor([[1.0, 0.0, 0.0], [math.cos(t), math.sin(t), 0.0]], dtype=torch.float64)
    d = 2 * math.sin(t / 2)
    assert hyperspherical_energy(x, 2) == pytest.approx(d**-2, rel=1e-8)
    assert hyperspherical_energy(x, 0) == pytest.approx(-2 * math.log(d), rel=1e-8)


def test_hse_accepts_float32_and_matches_float64():
    x = torch.randn(30, 6, dtype=torch.float64)
    assert hyperspherical_energy(x.float(), 1) == pytest.approx(hyperspherical_energy(x, 1), rel=1e-6)


@pytest.mark.parametrize(
    "features, kwargs, match",
    [
        (torch.randn(5), {}, r"\(N, d\)"),
        (torch.randn(1, 4), {}, "N >= 2"),
        (torch.randn(2, 3, 4), {}, r"\(N, d\)"),
        (np.ones((4, 3)), {}, r"\(N, d\)"),
        (torch.randn(4, 3), dict(s=-1), "s must be >= 0"),
        (torch.randn(4, 3), dict(s=float("nan")), "s must be >= 0"),
        (torch.randn(4, 3), dict(chunk_size=0), "chunk_size"),
        (torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]), {}, "all zero"),
        (torch.tensor([[1.0, float("nan")], [0.0, 1.0]]), {}, "NaN or inf"),
    ],
)
def test_hse_rejects_bad_input(features, kwargs, match):
    with pytest.raises(ValueError, match=match):
        hyperspherical_energy(features, **kwargs)


def random_labels(shape, num_classes, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(num_classes, shape, generator=g), torch.randint(num_classes, shape, generator=g)


def test_confusion_matrix_matches_sklearn_on_segmentation_maps():
    pred, target = random_labels((2, 7, 9), 5, seed=0)
    expected = sk_confusion_matrix(target.flatten(), pred.flatten(), labels=range(5))
    np.testing.assert_array_equal(confusion_matrix(pred, target, 5).numpy(), expected)


def test_confusion_matrix_drops_ignored_targets_only():
    pred, target = random_labels((200,), 4, seed=1)
    target[::3] = 255
    kept = target != 255
    expected = sk_confusion_matrix(target[kept], pred[kept], labels=range(4))
    got = confusion_matrix(pred, target, 4, ignore_index=255)
    np.testing.assert_array_equal(got.numpy(), expected)
    assert got.sum() == kept.sum()


def test_per_class_and_mean_class_accuracy_by_hand():
    target = torch.tensor([0, 0, 0, 1, 2, 2])
    pred = torch.tensor([0, 0, 1, 1, 2, 0])
    np.testing.assert_allclose(per_class_accuracy(pred, target, 3).numpy(), [2 / 3, 1, 1 / 2])
    assert mean_class_accuracy(pred, target, 3) == pytest.approx((2 / 3 + 1 + 1 / 2) / 3)


def test_mean_class_accuracy_is_sklearns_balanced_accuracy():
    pred, target = random_labels((500,), 12, seed=2)
    assert mean_class_accuracy(pred, target, 12) == pytest.approx(balanced_accuracy_score(target, pred), rel=1e-12)


def test_absent_class_has_no_accuracy_and_is_left_out_of_the_mean():
    target = torch.tensor([0, 0, 1, 1])
    pred = torch.tensor([0, 3, 1, 1])  # class 3 predicted once, never a target; class 2 absent
    acc = per_class_accuracy(pred, target, 4)
    assert acc[0] == 0.5 and acc[1] == 1 and acc[2:].isnan().all()
    assert mean_class_accuracy(pred, target, 4) == pytest.approx(0.75)


def test_per_class_iou_matches_sklearn_jaccard_and_a_loop():
    pred, target = random_labels((3, 16, 16), 6, seed=3)
    target[:, :4] = 255
    kept = target != 255
    expected = jaccard_score(target[kept], pred[kept], labels=list(range(6)), average=None)
    np.testing.assert_allclose(per_class_iou(pred, target, 6).numpy(), expected, rtol=1e-12)
    p, t = pred[kept].numpy(), target[kept].numpy()
    loop = [((p == c) & (t == c)).sum() / ((p == c) | (t == c)).sum() for c in range(6)]
    assert mean_iou(pred, target, 6) == pytest.approx(np.mean(loop), rel=1e-12)


def test_iou_excludes_classes_absent_from_both_and_zeroes_false_positives():
    target = torch.tensor([[0, 0, 1, 255]])
    pred = torch.tensor([[0, 2, 1, 3]])  # 2: predicted, never true -> IoU 0; 3 only on an ignored pixel; 4 absent
    iou = per_class_iou(pred, target, 5)
    np.testing.assert_allclose(iou[:3].numpy(), [1 / 2, 1, 0])
    assert iou[3:].isnan().all()
    assert mean_iou(pred, target, 5) == pytest.approx((0.5 + 1 + 0) / 3)


def test_confusions_summed_over_batches_give_the_dataset_level_numbers():
    pred, target = random_labels((4, 10, 10), 5, seed=4)
    total = sum(confusion_matrix(p, t, 5, ignore_index=255) for p, t in zip(pred, target))
    assert torch.nanmean(iou_from_confusion(total)).item() == pytest.approx(mean_iou(pred, target, 5))
    # dataset-level IoU differs from the mean of per-image IoUs in general
    per_image = np.mean([mean_iou(p, t, 5) for p, t in zip(pred, target)])
    assert mean_iou(pred, target, 5) != pytest.approx(per_image, rel=1e-9)
    assert torch.nanmean(accuracy_from_confusion(total)).item() == pytest.approx(mean_class_accuracy(pred, target, 5))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: mean_class_accuracy(torch.tensor([0, 1]), torch.tensor([0, 1, 1]), 2), "same shape"),
        (
            lambda: mean_class_accuracy(torch.tensor([0, 1]), torch.tensor([0, 2]), 2),
            r"target has labels outside \[0, 2\)",
        ),
        (
            lambda: mean_class_accuracy(torch.tensor([-1, 1]), torch.tensor([0, 1]), 2),
            r"pred has labels outside \[0, 2\)",
        ),
        (
            lambda: mean_class_accuracy(torch.tensor([0, 1]), torch.tensor([0, 1]), 0),
            "num_classes must be an integer >= 1",
        ),
        (lambda: mean_class_accuracy(torch.tensor([0.2, 0.9]), torch.tensor([0, 1]), 2), "integer class indices"),
        (lambda: mean_iou(torch.tensor([True, False]), torch.tensor([0, 1]), 2), "integer class indices"),
        (lambda: mean_iou(torch.tensor([0, 1]), torch.tensor([0, 254]), 2), "or ignore_index=255"),
        (lambda: mean_iou(torch.tensor([0, 1]), torch.tensor([0, 255]), 2, ignore_index=None), r"outside \[0, 2\)"),
        (lambda: iou_from_confusion(torch.ones(2, 3)), "square"),
        (lambda: accuracy_from_confusion(-torch.ones(2, 2)), "non-negative"),
    ],
)
def test_label_metrics_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_hse_recomputes_many_near_pairs_in_slices(monkeypatch):
    # Collapsed features: most pairs are near or coincident. Slicing the exact recomputation
    # (memory bounded whatever the collapse) must not change the result.
    import csg.metrics as m

    g = torch.Generator().manual_seed(3)
    base = torch.nn.functional.normalize(torch.randn(1, 16, generator=g, dtype=torch.float64), dim=1)
    near = base + 1e-5 * torch.randn(40, 16, generator=g, dtype=torch.float64)
    expected = m.hyperspherical_energy(near, 1)
    monkeypatch.setattr(m, "_EXACT_BATCH", 7)
    assert m.hyperspherical_energy(near, 1) == pytest.approx(expected, rel=1e-12)
    assert m.hyperspherical_energy(torch.cat([near, near[:1]]), 0) == float("inf")


def test_coarse_oracle_at_stride_1_and_on_cell_sized_regions_is_perfect():
    assert coarse_oracle_miou(torch.randint(0, 4, (2, 16, 16)), 1, 4) == pytest.approx(1.0)
    # Two cells of one class each: every pixel's bilinear weight favours its own cell.
    halves = torch.zeros(2, 8, 16, dtype=torch.long)
    halves[0, :, 8:] = 1
    halves[1, :, :8] = 1
    assert coarse_oracle_miou(halves, 8, 2) == pytest.approx(1.0)


def test_coarse_oracle_loses_a_thin_line_by_hand():
    # One 1-pixel line in an 8x8 map: its class holds 1/8 of the only cell, so the
    # oracle predicts background everywhere: IoUs 56/64 (background) and 0 (line).
    target = torch.zeros(8, 8, dtype=torch.long)
    target[:, 3] = 1
    assert coarse_oracle_miou(target, 8, 2) == pytest.approx((56 / 64 + 0) / 2)
    # Ignored pixels neither vote nor count: an ignored line leaves a perfect background.
    assert coarse_oracle_miou(torch.where(target == 1, 255, 0), 8, 2) == pytest.approx(1.0)


def test_coarse_oracle_pads_a_map_the_stride_does_not_divide_with_ignored_pixels():
    g = torch.Generator().manual_seed(0)
    target = (torch.rand(2, 12, 20, generator=g) > 0.6).long()  # 12 x 20: not whole 8 x 8 cells
    padded = torch.full((2, 16, 24), 255, dtype=torch.long)
    padded[:, :12, :20] = target
    assert coarse_oracle_miou(target, 8, 2) == pytest.approx(coarse_oracle_miou(padded, 8, 2))
    with pytest.raises(ValueError, match="dividing the map size"):  # nothing to pad with
        coarse_oracle_miou(torch.zeros(12, 12, dtype=torch.long), 8, 2, ignore_index=None)


@pytest.mark.parametrize("shape", [(10, 13), (3, 9)])
def test_coarse_oracle_pads_each_side_up_to_whole_cells(shape):
    # Sides whose remainders differ from their complements (10 % 8 = 2, pad 6): padded by hand to 16 x 16.
    g = torch.Generator().manual_seed(1)
    target = torch.randint(0, 3, (1, *shape), generator=g)
    padded = torch.full((1, 16, 16), 255, dtype=torch.long)
    padded[:, : shape[0], : shape[1]] = target
    assert coarse_oracle_miou(target, 8, 3) == pytest.approx(coarse_oracle_miou(padded, 8, 3))


def test_coarse_oracle_without_ignore_index_and_its_bad_input():
    g = torch.Generator().manual_seed(2)
    target = torch.randint(0, 3, (2, 16, 8), generator=g)
    assert coarse_oracle_miou(target, 1, 3, ignore_index=None) == pytest.approx(1.0)
    assert coarse_oracle_miou(target, 8, 3, ignore_index=None) == pytest.approx(coarse_oracle_miou(target, 8, 3))
    for stride in (0, 2.5):
        with pytest.raises(ValueError, match="stride must be an integer >= 1"):
            coarse_oracle_miou(target, stride, 3)
    with pytest.raises(ValueError, match="dividing the map size"):  # one side (12) not whole cells
        coarse_oracle_miou(torch.zeros(16, 12, dtype=torch.long), 8, 2, ignore_index=None)
    with pytest.raises(ValueError):  # neither a map nor a batch of maps
        coarse_oracle_miou(torch.zeros(1, 1, 8, 8, dtype=torch.long), 8, 2)


def test_a_single_class_is_a_valid_problem():
    one = torch.zeros(5, dtype=torch.long)
    assert mean_class_accuracy(one, one, 1) == 1.0 and mean_iou(one, one, 1) == 1.0
    assert accuracy_from_confusion(torch.tensor([[3]])).tolist() == [1.0]


def test_hse_defaults_to_s0_and_chunked_close_pairs_stay_exact():
    x = torch.randn(20, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    assert hyperspherical_energy(x) == hyperspherical_energy(x, 0)  # Table 1's first column
    # The exact recomputation of near pairs also runs in off-diagonal blocks (chunk_size 1: every pair is one).
    t = 1e-7
    close = torch.tensor([[1.0, 0.0, 0.0], [math.cos(t), math.sin(t), 0.0]], dtype=torch.float64)
    assert hyperspherical_energy(close, 2, chunk_size=1) == pytest.approx((2 * math.sin(t / 2)) ** -2, rel=1e-8)


def test_a_records_energies_leave_out_and_count_all_zero_features():
    f = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [-1.0, 0.0]])
    e = hse(f)
    nonzero = f[[0, 1, 3]]
    assert e["zero_features"] == 1
    for s in (0, 1, 2):
        assert e[f"s{s}"] == pytest.approx(hyperspherical_energy(nonzero, s))
    # independent values: pair distances sqrt(2), sqrt(2), 2 on the unit circle
    d = np.array([math.sqrt(2), math.sqrt(2), 2.0])
    assert e["s0"] == pytest.approx(np.mean(np.log(1 / d**2))) and e["s1"] == pytest.approx(np.mean(1 / d))
    assert e["s2"] == pytest.approx(np.mean(1 / d**2))
    single = hse(torch.tensor([[1.0, 0.0], [0.0, 0.0]]))
    assert math.isnan(single["s0"]) and single["zero_features"] == 1


def test_two_features_make_one_pair_and_an_energy():
    e = hse(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    assert e["s1"] == pytest.approx(1 / math.sqrt(2)) and e["zero_features"] == 0
