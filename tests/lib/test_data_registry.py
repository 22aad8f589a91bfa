"""build_dataset: one parameter switches between every dataset, same item formats."""

import numpy as np
import pytest
import torch
from data_fixtures import make_cityscapes, make_gta5, make_visda
from PIL import Image
from torchvision import tv_tensors

import csg.data as data
from csg.data import BENCHMARKS, DATASETS, DatasetNotFoundError, build_dataset


def test_unknown_name_and_split_list_accepted_values():
    with pytest.raises(ValueError) as err:
        build_dataset("svhn", "train")
    for name in ("digits", "digit_scenes", "visda17", "gta5", "cityscapes"):
        assert name in str(err.value)
    with pytest.raises(ValueError) as err:
        build_dataset("digits", "test")
    assert "mnist" in str(err.value) and "synthetic_val" in str(err.value)


def test_every_dataset_has_the_shared_item_format(tmp_path):
    make_visda(tmp_path / "visda17")
    make_gta5(tmp_path / "gta5")
    make_cityscapes(tmp_path / "cityscapes")
    built = {
        "visda17": build_dataset("visda17", "train", root=tmp_path / "visda17"),
        "digits": build_dataset("digits", "train", root=tmp_path / "cache", train_size=10, image_size=16),
        "gta5": build_dataset("gta5", "train", root=tmp_path / "gta5"),
        "cityscapes": build_dataset("cityscapes", "val", root=tmp_path / "cityscapes"),
        "digit_scenes": build_dataset("digit_scenes", "train", root=tmp_path / "cache", train_size=2, image_size=32),
    }
    assert len(built["gta5"]) == 2  # the train.txt list, not every frame
    assert len(build_dataset("gta5", "all", root=tmp_path / "gta5")) == 3
    for name, ds in built.items():
        image, target = ds[0]
        assert isinstance(image, Image.Image) and image.mode == "RGB"
        assert ds.num_classes == len(ds.class_names)
        if DATASETS[name].task == "classification":
            assert isinstance(target, int) and 0 <= target < ds.num_classes
        else:
            assert isinstance(target, tv_tensors.Mask) and target.dtype == torch.int64
            assert ds.ignore_index == 255
            values = set(np.unique(target.numpy()))
            assert values <= set(range(ds.num_classes)) | {255}
    assert (tmp_path / "cache" / "digits").is_dir() and (tmp_path / "cache" / "digit_scenes").is_dir()


def test_default_root_comes_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CSG_DATA_ROOT", str(tmp_path / "datasets"))
    with pytest.raises(DatasetNotFoundError, match=str(tmp_path / "datasets" / "visda17")):
        build_dataset("visda17", "validation")
    make_gta5(tmp_path / "datasets" / "gta5")
    assert len(build_dataset("gta5", "val")) == 1
    monkeypatch.setenv("CSG_DATA_DIR", str(tmp_path / "cache"))
    assert data.default_cache_dir() == tmp_path / "cache"
    build_dataset("digits", "synthetic_val", val_size=10, image_size=16)
    assert any((tmp_path / "cache" / "digits").iterdir())


def test_every_listed_split_is_accepted_by_its_class():
    # The registry's split lists and the classes' own lists agree.
    assert DATASETS["digits"].splits == data.digits.DIGITS_SPLITS
    assert DATASETS["digit_scenes"].splits == data.digit_scenes.SCENE_SPLITS
    assert DATASETS["visda17"].splits == ("train", "synthetic_val", "train_full", "validation")
    assert DATASETS["cityscapes"].splits == ("train", "val")
    for benchmark in BENCHMARKS.values():
        for name, split in [benchmark.source, benchmark.source_val, *benchmark.targets]:
            assert split in DATASETS[name].splits


@pytest.mark.slow
def test_a_new_benchmark_is_one_declaration_each_and_trains(tmp_path):
    # A toy dataset declared where it is defined, its benchmark, then a run by name.
    from csg.config import Config
    from csg.data import registry
    from csg.engine import train

    @registry.register_dataset("toy", task="classification", splits=("train", "real"), class_names=("a", "b"))
    class Toy(torch.utils.data.Dataset):
        class_names = ("a", "b")

        def __init__(self, split):
            self.rng = np.random.default_rng(0 if split == "train" else 1)

        @classmethod
        def from_split(cls, split, root, transform=None, **params):
            ds = cls(split)
            ds.transform = transform
            return ds

        def __len__(self):
            return 32

        def __getitem__(self, i):
            label = i % 2
            pixels = np.full((32, 32, 3), 200 * label, np.uint8) + self.rng.integers(0, 50, (32, 32, 3), np.uint8)
            return self.transform(Image.fromarray(pixels)), label

    try:
        registry.register_benchmark("toy", source=("toy", "train"), targets=(("toy", "real"),))
        cfg = Config(method="csg", dataset="toy", weights=None, image_size=32, batch_size=8, epochs=1, eval_size=None)
        record = train(cfg, run_dir=str(tmp_path / "runs"), results_dir=str(tmp_path / "results")).record
        assert set(record["final"]) == {"real"} and record["class_names"] == ["a", "b"]
        with pytest.raises(ValueError, match="registered twice"):
            registry.register_benchmark("toy", source=("toy", "train"), targets=(("toy", "real"),))
        with pytest.raises(ValueError, match="has no split 'test'"):
            registry.register_benchmark("toy2", source=("toy", "train"), targets=(("toy", "test"),))
    finally:
        registry.BENCHMARKS.pop("toy", None), registry.DATASETS.pop("toy", None)


def test_generation_sizes_reach_the_generated_datasets_and_nothing_else(tmp_path, monkeypatch):
    from csg.data import benchmark

    monkeypatch.setenv("CSG_DATA_DIR", str(tmp_path / "cache"))
    bench = benchmark("digits", source_images=20, source_val_images=10)
    assert len(bench.dataset("train")) == 20 and len(bench.dataset("synthetic_val")) == 10
    with pytest.raises(ValueError, match="visda17 does not take .*source_images.*accepted: none"):
        benchmark("visda17", source_images=20)
    with pytest.raises(ValueError, match="digits does not take .*target_images.*accepted: source_images"):
        benchmark("digits", target_images=20)
