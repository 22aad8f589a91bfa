"""The offline segmentation benchmark: scenes, labels, alignment, dataset API."""

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import tv_tensors

from csg.data import SCENE_CLASSES, DigitScenes, digit_scenes, real_digits, render, segmentation_train_transform


@pytest.fixture(scope="module")
def bank():
    return render.glyph_bank(render.digit_fonts())


def boundary_contrast(images, labels):
    """Mean image gradient on label boundaries divided by the mean gradient overall."""
    grey = images.astype(np.float32).mean(axis=-1)
    gx = np.abs(np.diff(grey, axis=2))
    edge = labels[:, :, 1:] != labels[:, :, :-1]
    return gx[edge].mean() / gx.mean()


def test_synthetic_scenes_deterministic_labels_and_ranges(bank):
    images, labels = digit_scenes.render_synthetic_scenes(12, 64, np.random.default_rng(0), bank)
    again, again_labels = digit_scenes.render_synthetic_scenes(12, 64, np.random.default_rng(0), bank)
    other, _ = digit_scenes.render_synthetic_scenes(12, 64, np.random.default_rng(1), bank)
    assert np.array_equal(images, again) and np.array_equal(labels, again_labels)
    assert not np.array_equal(images, other)
    assert images.shape == (12, 64, 64, 3) and images.dtype == np.uint8
    assert labels.shape == (12, 64, 64) and labels.dtype == np.uint8
    assert labels.max() <= 10
    for scene in labels:
        present = set(np.unique(scene)) - {0}
        assert 1 <= len(present) <= digit_scenes.LAYOUT.digits[1]
        assert 0.02 < (scene > 0).mean() < 0.6  # digits cover part of the scene, not all


@pytest.mark.parametrize("degrade", [False, True])
def test_synthetic_labels_are_aligned_with_pixels(bank, degrade):
    images, labels = digit_scenes.render_synthetic_scenes(20, 64, np.random.default_rng(2), bank, degrade=degrade)
    aligned = boundary_contrast(images, labels)
    shifted = boundary_contrast(images, np.roll(labels, 4, axis=2))
    assert aligned > 2.0 and aligned > 1.5 * shifted


def test_real_scenes_aligned_and_labelled_from_strokes():
    digits, labels = real_digits.load_mnist_digits()
    rng = np.random.default_rng(0)
    images, maps = digit_scenes.render_real_scenes(15, 64, rng, digits[:50], labels[:50])
    assert images.shape == (15, 64, 64, 3) and maps.shape == (15, 64, 64)
    assert set(np.unique(maps)) <= {0} | {int(label) + 1 for label in labels[:50]}
    aligned = boundary_contrast(images, maps)
    assert aligned > 1.5 * boundary_contrast(images, np.roll(maps, 4, axis=2))


def test_single_real_digit_lands_where_its_label_is():
    # One white bar as the "digit": its labelled pixels are exactly where the ink is.
    bar = np.zeros((1, 28, 28), np.uint8)
    bar[0, 4:24, 12:16] = 255
    rng = np.random.default_rng(0)
    one = digit_scenes.SceneLayout(digits=(1, 1))
    images, maps = digit_scenes.render_real_scenes(1, 60, rng, bar, np.array([7]), one)
    assert set(np.unique(maps)) == {0, 8}
    ys, xs = np.nonzero(maps[0])
    assert (ys.max() - ys.min()) > 2 * (xs.max() - xs.min())  # a vertical bar, as drawn


def test_dataset_api_and_cache(tmp_path):
    ds = DigitScenes("train", cache_dir=tmp_path, train_size=8, image_size=48)
    assert ds.num_classes == 11 and ds.class_names == SCENE_CLASSES and ds.ignore_index == 255
    assert SCENE_CLASSES[0] == "background" and SCENE_CLASSES[1] == "0" and SCENE_CLASSES[10] == "9"
    image, mask = ds[0]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (48, 48)
    assert isinstance(mask, tv_tensors.Mask) and mask.dtype == torch.int64
    assert np.array_equal(mask.numpy(), ds.labels[0])
    again = DigitScenes("train", cache_dir=tmp_path, train_size=8, image_size=48)
    assert np.array_equal(again.images, ds.images) and np.array_equal(again.labels, ds.labels)
    fresh = digit_scenes.generate_synthetic_scenes(8, 0, 48, workers=1)
    assert np.array_equal(fresh[0], ds.images) and np.array_equal(fresh[1], ds.labels)

    real = DigitScenes("mnistm", cache_dir=tmp_path, real_size=5, image_size=48)
    assert len(real) == 5 and real.labels.max() <= 10

    torch.manual_seed(0)
    cropped = DigitScenes(
        "train", cache_dir=tmp_path, train_size=8, image_size=48, transform=segmentation_train_transform(crop_size=40)
    )
    image, mask = cropped[1]
    assert image.size == (40, 40) and tuple(mask.shape) == (40, 40)
    with pytest.raises(ValueError, match="real_train"):
        DigitScenes("val", cache_dir=tmp_path)
