"""The offline classification benchmark: rendering, real splits, cache."""

import hashlib

import numpy as np
import pytest
from PIL import Image

from csg.data import DIGIT_CLASSES, Digits, real_digits, render
from csg.data import digits as digits_module


def test_font_filter_keeps_digit_fonts_and_drops_symbol_and_fallback_fonts():
    names = {p.name for p in render.digit_fonts()}
    assert {"DejaVuSans.ttf", "STIXGeneral.ttf", "cmr10.ttf", "cmtt10.ttf"} <= names
    for rejected in (
        "LastResortHE-Regular.ttf",
        "cmex10.ttf",
        "cmsy10.ttf",
        "DejaVuSansDisplay.ttf",
        "STIXSizOneSymReg.ttf",
    ):
        assert rejected not in names
    assert len(names) >= 15


def test_same_seed_same_arrays_other_seed_other_arrays():
    a_images, a_labels = digits_module.generate_synthetic_digits(40, seed=3, image_size=32, workers=1)
    b_images, b_labels = digits_module.generate_synthetic_digits(40, seed=3, image_size=32, workers=1)
    c_images, _ = digits_module.generate_synthetic_digits(40, seed=4, image_size=32, workers=1)
    assert np.array_equal(a_images, b_images) and np.array_equal(a_labels, b_labels)
    assert not np.array_equal(a_images, c_images)
    v_images, _ = digits_module.generate_synthetic_digits(40, seed=3, image_size=32, split="synthetic_val", workers=1)
    assert not np.array_equal(a_images, v_images)  # held-out split is a different draw


def test_result_does_not_depend_on_worker_count(monkeypatch):
    monkeypatch.setattr(digits_module, "CHUNK_SIZE", 10)
    one, labels_one = digits_module.generate_synthetic_digits(30, seed=0, image_size=24, workers=1)
    two, labels_two = digits_module.generate_synthetic_digits(30, seed=0, image_size=24, workers=2)
    assert np.array_equal(one, two) and np.array_equal(labels_one, labels_two)


def test_classes_balanced_and_values_in_range():
    images, labels = digits_module.generate_synthetic_digits(200, seed=0, image_size=48, workers=1)
    assert images.shape == (200, 48, 48, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and np.array_equal(np.bincount(labels, minlength=10), [20] * 10)
    assert images.min() < 30 and images.max() > 225  # the full 8-bit range is used
    per_image_std = images.reshape(200, -1).std(axis=1)
    assert per_image_std.min() > 5  # no blank images: a digit is always drawn
    # Backgrounds vary: corner colours differ widely across images.
    assert images[:, 0, 0].std(axis=0).min() > 40


def test_digit_is_visible_against_its_background():
    # Rendered ink has contrast: the centre region differs from the border ring.
    images, _ = digits_module.generate_synthetic_digits(100, seed=1, image_size=64, workers=1)
    grey = images.mean(axis=-1)
    centre = grey[:, 20:44, 20:44]
    border = np.concatenate([grey[:, :4].reshape(100, -1), grey[:, -4:].reshape(100, -1)], axis=1)
    spread = np.abs(centre.reshape(100, -1) - np.median(border, axis=1, keepdims=True)).max(axis=1)
    assert np.median(spread) > 60


def test_real_digit_split_is_disjoint_stratified_and_fixed():
    _, labels = real_digits.load_mnist_digits()
    assert len(labels) == 5000
    parts = real_digits.split_real_digits(labels, 1000, seed=0)
    train, held_out = parts["real_train"], parts["eval"]
    assert len(np.intersect1d(train, held_out)) == 0
    assert len(train) + len(held_out) == 5000 and len(np.union1d(train, held_out)) == 5000
    assert np.array_equal(np.bincount(labels[train]), [100] * 10)
    assert np.array_equal(np.bincount(labels[held_out]), [400] * 10)
    assert not np.array_equal(np.sort(labels[train][:50]), labels[train][:50])  # shuffled
    again = real_digits.split_real_digits(labels, 1000, seed=0)
    assert np.array_equal(again["real_train"], train)
    with pytest.raises(ValueError, match="multiple of 10"):
        real_digits.split_real_digits(labels, 1005, seed=0)


def test_real_splits_share_digits_and_do_not_leak(tmp_path):
    mnist = Digits("mnist", cache_dir=tmp_path, image_size=32)
    mnistm = Digits("mnistm", cache_dir=tmp_path, image_size=32)
    real_train = Digits("real_train", cache_dir=tmp_path, image_size=32)
    assert len(mnist) == len(mnistm) == 4000 and len(real_train) == 1000
    assert np.array_equal(mnist.labels, mnistm.labels)
    # MNIST is grey on black; MNIST-M-style is coloured photographs.
    assert (mnist.images[..., 0] == mnist.images[..., 2]).all()
    assert np.abs(mnistm.images[..., 0].astype(int) - mnistm.images[..., 2]).mean() > 5
    # No real-training digit appears among the evaluation digits.
    hashes = lambda images: {hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest() for x in images}
    assert not hashes(real_train.images) & hashes(mnist.images)
    # The real splits do not depend on the synthetic seed.
    assert np.array_equal(Digits("mnist", cache_dir=tmp_path, image_size=32, seed=7).images, mnist.images)


def test_mnistm_blend_is_absolute_difference():
    digit = np.array([[[0, 255]]], dtype=np.uint8)
    patch = np.array([[[[10, 200, 30], [10, 200, 255]]]], dtype=np.uint8)
    assert np.array_equal(real_digits.mnistm_blend(digit, patch), [[[[10, 200, 30], [245, 55, 0]]]])


def test_photographs_are_real_rgb_images():
    photos = real_digits.load_photos()
    assert len(photos) == len(real_digits.PHOTO_SOURCES) >= 6
    for photo in photos:
        assert photo.dtype == np.uint8 and photo.ndim == 3 and min(photo.shape[:2]) >= 256


def test_dataset_items_cache_round_trip_and_params(tmp_path):
    ds = Digits("train", cache_dir=tmp_path, train_size=30, image_size=32)
    image, label = ds[0]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (32, 32)
    assert label == int(ds.labels[0]) and isinstance(label, int)
    assert ds.num_classes == 10 and ds.class_names == DIGIT_CLASSES
    assert ds.images.shape == (30, 32, 32, 3) and ds.images.dtype == np.uint8
    entries = list((tmp_path / "digits").iterdir())
    assert len(entries) == 1 and entries[0].name.startswith("train-")
    assert isinstance(ds.images, np.memmap)
    assert ds.meta["params"]["n"] == 30 and ds.meta["generation_seconds"] >= 0

    again = Digits("train", cache_dir=tmp_path, train_size=30, image_size=32)
    assert np.array_equal(again.images, ds.images) and np.array_equal(again.labels, ds.labels)
    assert len(list((tmp_path / "digits").iterdir())) == 1  # read, not regenerated
    fresh, fresh_labels = digits_module.generate_synthetic_digits(30, 0, 32, workers=1)
    assert np.array_equal(fresh, ds.images) and np.array_equal(fresh_labels, ds.labels)

    Digits("train", cache_dir=tmp_path, train_size=30, image_size=32, seed=1)
    assert len(list((tmp_path / "digits").iterdir())) == 2  # another seed, another entry

    in_memory = Digits("train", use_cache=False, train_size=30, image_size=32)
    assert np.array_equal(in_memory.images, ds.images)


def test_transform_and_unknown_split(tmp_path):
    ds = Digits(
        "synthetic_val", cache_dir=tmp_path, val_size=10, image_size=16, transform=lambda im: np.asarray(im).shape
    )
    assert ds[3] == ((16, 16, 3), int(ds.labels[3]))
    assert np.array_equal(np.bincount(ds.labels), [1] * 10)
    with pytest.raises(ValueError, match="mnistm"):
        Digits("svhn", cache_dir=tmp_path)
