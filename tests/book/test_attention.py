"""Grad-CAM through pytorch-grad-cam on our models, and the share of a map on a mask."""

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from csg.data import Digits, real_digits
from csg.data import digits as digits_module
from csg.data.arrays import ArrayClassificationDataset
from csgbook import attention


class _Stages(nn.Module):
    """A one-stage 'backbone' that passes its input through (a 1x1 identity convolution)."""

    def __init__(self):
        super().__init__()
        conv = nn.Conv2d(3, 3, 1, bias=False)
        with torch.no_grad():
            conv.weight.copy_(torch.eye(3).view(3, 3, 1, 1))
        self.stages = nn.ModuleList([conv])

    def forward(self, x):
        return [self.stages[0](x)]


class _Toy(nn.Module):
    """f_e-shaped: returns (logits, stage maps); logit c = spatial mean of channel c."""

    def __init__(self):
        super().__init__()
        self.backbone = _Stages()

    def forward(self, x):
        maps = self.backbone(x)
        return maps[-1].mean(dim=(2, 3)), maps


def _two_squares():
    x = torch.zeros(1, 3, 16, 16)
    x[0, 1, 2:8, 2:8] = 1.0  # class 1: a 6x6 square (the larger mean: predicted)
    x[0, 0, 11:15, 11:15] = 1.0  # class 0: a 4x4 square elsewhere
    one = np.zeros((1, 16, 16), bool)
    one[0, 2:8, 2:8] = True
    zero = np.zeros((1, 16, 16), bool)
    zero[0, 11:15, 11:15] = True
    return x, one, zero


def test_grad_cam_of_a_known_model_lies_on_the_explained_class():
    # Grad-CAM of class c here is ReLU(channel c) (gradient weight 1/(H*W) for channel c
    # only), so the map sits exactly on class c's square.
    model = _Toy()
    x, one, zero = _two_squares()
    cams, preds = attention.grad_cam(model, x)
    assert cams.shape == (1, 16, 16) and preds.tolist() == [1]
    assert cams.min() >= 0 and cams.max() == pytest.approx(1.0, abs=1e-4)
    assert attention.mass_share(cams, one)[0] == pytest.approx(1.0, abs=1e-4)
    assert attention.mass_share(cams, zero)[0] == pytest.approx(0.0, abs=1e-4)
    cams0, preds0 = attention.grad_cam(model, x, classes=[0])
    assert preds0.tolist() == [1]  # the prediction is reported, whatever class is explained
    assert attention.mass_share(cams0, zero)[0] == pytest.approx(1.0, abs=1e-4)
    assert attention.mass_share(cams0, one)[0] == pytest.approx(0.0, abs=1e-4)


def test_grad_cam_works_on_a_frozen_model_and_in_batches():
    model = _Toy().requires_grad_(False)
    x, one, _ = _two_squares()
    cams, preds = attention.grad_cam(model, x.repeat(3, 1, 1, 1), batch_size=2)
    assert cams.shape == (3, 16, 16) and preds.tolist() == [1, 1, 1]
    assert np.allclose(attention.mass_share(cams, one.repeat(3, 0)), 1.0, atol=1e-4)
    with pytest.raises(ValueError, match="classes"):
        attention.grad_cam(model, x, classes=[0, 1])


def test_mass_share_uniform_map_scores_the_area_and_empty_map_is_nan():
    masks = np.zeros((2, 10, 10), bool)
    masks[:, :3, :] = True  # 30 % of the pixels
    shares = attention.mass_share(np.stack([np.ones((10, 10)), np.zeros((10, 10))]), masks)
    assert shares[0] == pytest.approx(0.3) and np.isnan(shares[1])
    with pytest.raises(ValueError, match="non-negative"):
        attention.mass_share(-np.ones((1, 10, 10)), masks[:1])
    with pytest.raises(ValueError, match="must both be"):
        attention.mass_share(np.ones((1, 10, 10)), masks)


def test_stroke_shares_average_each_models_maps_over_images_and_skip_empty_ones():
    masks = {"mnist": np.zeros((2, 10, 10), bool)}
    masks["mnist"][:, :3, :] = True
    on_strokes = np.zeros((10, 10))
    on_strokes[:3] = 1.0
    cams = {
        ("mnist", "csg", 0): np.stack([on_strokes, np.zeros((10, 10))]),  # 100 %, then no mass (left out)
        ("mnist", "vanilla", 0): np.stack([np.ones((10, 10)), on_strokes]),  # 30 % and 100 %
    }
    shares = attention.stroke_shares(cams, masks)
    assert shares == {("mnist", "csg", 0): pytest.approx(100.0), ("mnist", "vanilla", 0): pytest.approx(65.0)}


def test_stroke_mask_thresholds_the_resized_digit():
    digit = np.zeros((28, 28), np.uint8)
    digit[7:21, 12:16] = 255  # a vertical bar
    mask = attention.stroke_mask(Image.fromarray(digit).convert("RGB"), 56)
    assert mask.shape == (56, 56)
    assert mask[14:42, 26:30].all() and not mask[:, :20].any() and not mask[:, 36:].any()


@pytest.mark.slow
def test_mnistm_holds_the_mnist_digits_in_the_same_order(tmp_path):
    # The stroke masks rely on it: mnistm[i] is |photo patch - mnist[i]|, image by image.
    size = 28
    mnist = Digits("mnist", cache_dir=tmp_path, image_size=size)
    mnistm = Digits("mnistm", cache_dir=tmp_path, image_size=size)
    rng = np.random.default_rng([0, digits_module._SPLIT_CODES["mnistm"], size])
    patches = real_digits.photo_patches(rng, len(mnist), size, size)
    assert np.array_equal(real_digits.mnistm_blend(mnist.images[..., 0], patches), mnistm.images)
    shifted = real_digits.mnistm_blend(np.roll(mnist.images[..., 0], 1, axis=0), patches)
    assert not np.array_equal(shifted, mnistm.images)


class _Bench:
    def __init__(self, sets):
        self.sets = sets

    def dataset(self, split, transform=None):
        ds = self.sets[split]
        return ArrayClassificationDataset(ds.images, ds.labels, ds.class_names, transform=transform)


def test_target_images_and_stroke_masks_pair_up_and_check_the_order():
    rng = np.random.default_rng(0)
    plain = np.zeros((4, 8, 8, 3), np.uint8)
    plain[:, 2:6, 3:5] = 255
    photos = rng.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1])
    bench = _Bench(
        {
            "mnist": ArrayClassificationDataset(plain, labels, tuple("0123456789")),
            "mnistm": ArrayClassificationDataset(photos, labels, tuple("0123456789")),
        }
    )
    to_tensor = lambda img: torch.from_numpy(np.array(img)).permute(2, 0, 1).float()
    inputs, got_labels = attention.target_images(bench, "mnistm", to_tensor, n=3)
    assert inputs.shape == (3, 3, 8, 8) and got_labels.tolist() == [3, 1, 4]
    assert torch.equal(inputs[1], to_tensor(photos[1]))
    masks = attention.stroke_masks(bench, "mnistm", 8, n=3)
    assert masks.shape == (3, 8, 8) and masks[:, 2:6, 3:5].all() and masks.sum() == 3 * 8
    bench.sets["mnist"] = ArrayClassificationDataset(plain, labels[::-1].copy(), tuple("0123456789"))
    with pytest.raises(ValueError, match="same digits"):
        attention.stroke_masks(bench, "mnistm", 8, n=3)


def test_paired_difference_drops_nan_pairs_and_counts_wins():
    out = attention.paired_difference([0.2, 0.4, np.nan, 0.5], [0.3, 0.6, 0.9, 0.4])
    assert out["n"] == 3
    assert out["mean_a"] == pytest.approx(1.1 / 3) and out["mean_b"] == pytest.approx(1.3 / 3)
    assert out["diff"] == pytest.approx(0.2 / 3) and out["b_higher"] == pytest.approx(2 / 3)
    assert out["ci95"][0] < out["diff"] < out["ci95"][1]
    with pytest.raises(ValueError):
        attention.paired_difference([0.1], [0.1, 0.2])


def test_plot_cams_draws_one_row_per_model():
    import matplotlib

    matplotlib.use("Agg")
    images = torch.rand(3, 3, 8, 8)
    maps = np.random.default_rng(0).random((3, 8, 8))
    fig = attention.plot_cams(
        images,
        [1, 2, 3],
        {"a": (maps, np.array([1, 0, 3])), "b": (maps, np.array([1, 2, 3]))},
        [str(i) for i in range(10)],
        n=2,
    )
    axes = np.array(fig.axes).reshape(3, 2)
    assert axes[1, 1].get_title() == "0 ✗" and axes[2, 1].get_title() == "2 ✓"
    assert axes[2, 0].get_ylabel() == "b"
