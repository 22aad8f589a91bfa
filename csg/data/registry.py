"""One entry point to every dataset: ``build_dataset(name, split, root=None, ...)``.

The engine and the book switch benchmarks with the one ``name`` parameter:

============== ============== ========================================= ====================
name           task           splits                                    root
============== ============== ========================================= ====================
digits         classification train, synthetic_val, real_train,         cache folder
                              real_train_mnistm, mnist, mnistm
digit_scenes   segmentation   train, synthetic_val, real_train, mnistm   cache folder
visda17        classification train, synthetic_val, train_full,          ``<data_root>/visda17``
                              validation
gta5           segmentation   all, train, val, test                     ``<data_root>/gta5``
cityscapes     segmentation   train, val                                ``<data_root>/cityscapes``
============== ============== ========================================= ====================

``root`` is the dataset's own folder. When it is ``None``: the offline benchmarks use
the cache folder (``$CSG_DATA_DIR`` or ``<repo>/data/cache``), the real datasets
``<data_root>/<name>`` with ``data_root`` = ``$CSG_DATA_ROOT`` or ``<repo>/data``.
For GTA5, ``all`` is every frame and ``train``/``val``/``test`` read the split list
``<root>/<split>.txt`` (written by ``data/fetch_gta5.sh``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from torch.utils.data import Dataset

from .cityscapes import CITYSCAPES_SPLITS, Cityscapes
from .common import default_data_root
from .digit_scenes import SCENE_SPLITS, DigitScenes
from .digits import DIGITS_SPLITS, Digits
from .gta5 import GTA5
from .visda import VISDA_SPLITS, VisDA17

GTA5_SPLITS = ("all", "train", "val", "test")
# The offline benchmarks: generated from what the package registries ship, into the cache folder.
GENERATED = ("digits", "digit_scenes")

DATASET_SPLITS: dict[str, tuple[str, ...]] = {
    "digits": DIGITS_SPLITS,
    "digit_scenes": SCENE_SPLITS,
    "visda17": VISDA_SPLITS,
    "gta5": GTA5_SPLITS,
    "cityscapes": CITYSCAPES_SPLITS,
}
DATASET_TASKS: dict[str, str] = {
    "digits": "classification",
    "digit_scenes": "segmentation",
    "visda17": "classification",
    "gta5": "segmentation",
    "cityscapes": "segmentation",
}
# Source and target splits of each syn-to-real benchmark, for code that wants to be
# told only the benchmark's name. The first target is the headline one. "real_train"
# names, per target, a split of real images from the target's domain, for a model
# trained on real images (the paper's Sec. 2); a benchmark without one has none.
BENCHMARKS: dict[str, dict] = {
    "digits": {
        "source": ("digits", "train"),
        "source_val": ("digits", "synthetic_val"),
        "targets": (("digits", "mnist"), ("digits", "mnistm")),
        "real_train": {"mnist": "real_train", "mnistm": "real_train_mnistm"},
    },
    "digit_scenes": {
        "source": ("digit_scenes", "train"),
        "source_val": ("digit_scenes", "synthetic_val"),
        "targets": (("digit_scenes", "mnistm"),),
    },
    "visda17": {
        "source": ("visda17", "train"),
        "source_val": ("visda17", "synthetic_val"),
        "targets": (("visda17", "validation"),),
    },
    "gta5": {"source": ("gta5", "train"), "source_val": ("gta5", "val"), "targets": (("cityscapes", "val"),)},
}


def build_dataset(
    name: str, split: str, root: str | Path | None = None, transform: Callable | None = None, **params
) -> Dataset:
    """Build split ``split`` of dataset ``name``.

    ``transform`` is applied to the image (classification) or jointly as
    ``transform(image, mask)`` (segmentation). Extra ``params`` go to the dataset class
    (e.g. ``seed``, ``image_size``, ``train_size`` for the offline benchmarks;
    ``strict_labels`` for GTA5/Cityscapes). Every returned dataset has
    ``num_classes`` and ``class_names``; segmentation ones also ``ignore_index``.
    """
    if name not in DATASET_SPLITS:
        raise ValueError(f"unknown dataset {name!r}; accepted: {tuple(DATASET_SPLITS)}")
    if split not in DATASET_SPLITS[name]:
        raise ValueError(f"{name}: unknown split {split!r}; accepted: {DATASET_SPLITS[name]}")

    if name == "digits":
        return Digits(split, cache_dir=root, transform=transform, **params)
    if name == "digit_scenes":
        return DigitScenes(split, cache_dir=root, transform=transform, **params)

    root = Path(root) if root is not None else default_data_root() / name
    if name == "visda17":
        return VisDA17(root, split=split, transform=transform, **params)
    if name == "cityscapes":
        return Cityscapes(root, split=split, transform=transform, **params)
    split_list = None if split == "all" else root / f"{split}.txt"
    return GTA5(root, split_list=split_list, transform=transform, **params)
