"""One registry of datasets and benchmarks: each declares itself once, where it is defined.

A dataset is a class decorated with ``@register_dataset``: its name, task, splits, class
names, whether it is generated offline (into the cache folder) and which of its size
parameters a run may set (``generation``: a run option -> the class's own parameter).
It opens a split with its ``from_split(split, root, transform, **params)`` classmethod.
A benchmark (``register_benchmark``) names the splits that train, select and test::

    @register_dataset("my_digits", task="classification", splits=("train", "real"), class_names=CLASSES)
    class MyDigits(Dataset):
        @classmethod
        def from_split(cls, split, root, transform=None, **params): ...

    register_benchmark("my_digits", source=("my_digits", "train"), targets=(("my_digits", "real"),))

The engine, the book and the command line find both by name: ``build_dataset(name, split)``
and ``benchmark(name)``. ``root`` is the dataset's own folder; when it is ``None`` the
generated datasets use the cache folder (``$CSG_DATA_DIR`` or ``<repo>/data/cache``), the
real ones ``<data_root>/<name>`` with ``data_root`` = ``$CSG_DATA_ROOT`` or ``<repo>/data``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from torch.utils.data import Dataset

from ..registry import Registry
from .common import default_data_root

# The run options that size a generated benchmark (fields of csg.config.Config); None leaves
# the dataset's own default. They count in a run's identity: a smaller benchmark is another run.
GENERATION_OPTIONS = ("source_images", "source_val_images", "target_images")


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    cls: type  # opens a split: cls.from_split(split, root, transform, **params)
    task: str  # "classification" or "segmentation"
    splits: tuple[str, ...]
    class_names: tuple[str, ...]
    generated: bool  # generated offline into the cache folder (True) or read from a real dataset's folder
    generation: Mapping[str, str]  # run option (GENERATION_OPTIONS) -> the class's size parameter


DATASETS: Registry = Registry("dataset")


def register_dataset(name, *, task, splits, class_names, generated=False, generation=None):
    """Class decorator: register a dataset class as ``name``."""

    def register(cls: type) -> type:
        if task not in ("classification", "segmentation"):
            raise ValueError(f"task must be 'classification' or 'segmentation', got {task!r}")
        unknown = set(generation or {}) - set(GENERATION_OPTIONS)
        if unknown:
            raise ValueError(f"unknown generation options {sorted(unknown)}; accepted: {GENERATION_OPTIONS}")
        DATASETS.add(
            name, DatasetSpec(name, cls, task, tuple(splits), tuple(class_names), generated, dict(generation or {}))
        )
        return cls

    return register


def get_dataset(name: str) -> DatasetSpec:
    return DATASETS.lookup(name)


def build_dataset(
    name: str, split: str, root: str | Path | None = None, transform: Callable | None = None, **params
) -> Dataset:
    """Split ``split`` of dataset ``name``.

    ``transform`` is applied to the image (classification) or jointly as
    ``transform(image, mask)`` (segmentation). Extra ``params`` go to the dataset class
    (e.g. ``seed``, ``image_size``, ``train_size`` for the offline benchmarks;
    ``strict_labels`` for GTA5/Cityscapes). Every returned dataset has ``num_classes``
    and ``class_names``; segmentation ones also ``ignore_index``.
    """
    spec = get_dataset(name)
    if split not in spec.splits:
        raise ValueError(f"{name}: unknown split {split!r}; accepted: {spec.splits}")
    if root is None and not spec.generated:
        root = default_data_root() / name
    return spec.cls.from_split(split, root, transform, **params)


@dataclass(frozen=True)
class BenchmarkSpec:
    """A synthetic-to-real benchmark: the training split, the held-out synthetic split used for
    target-free model selection (None: none), and the real targets as (dataset, split) pairs, the
    headline one first. ``real_train`` names, per target, a split of real images from the
    target's domain, for a model trained on real images (the paper's Sec. 2)."""

    name: str
    source: tuple[str, str]
    source_val: tuple[str, str] | None
    targets: tuple[tuple[str, str], ...]
    real_train: Mapping[str, str] = field(default_factory=dict)


BENCHMARKS: Registry = Registry("dataset")  # the datasets a run can name (Config.dataset)


def register_benchmark(name, *, source, targets, source_val=None, real_train=None) -> BenchmarkSpec:
    """Declare the benchmark ``name`` (its datasets must be registered first)."""
    for ds, split in [source, *([source_val] if source_val else []), *targets]:
        if split not in get_dataset(ds).splits:
            raise ValueError(f"benchmark {name!r}: {ds} has no split {split!r}; accepted: {get_dataset(ds).splits}")
    spec = BenchmarkSpec(name, tuple(source), source_val and tuple(source_val), tuple(targets), dict(real_train or {}))
    return BENCHMARKS.add(name, spec)


@dataclass
class Benchmark:
    """A registered benchmark bound to its data: the real datasets' folder and the sizes its
    generated datasets are generated at. Splits are named for reports: ``train``,
    ``synthetic_val`` and each target's name (its split's, or its dataset's when that
    differs from the source's: GTA5 -> ``cityscapes``)."""

    spec: BenchmarkSpec
    root: str | None = None
    generation: dict = field(default_factory=dict)  # run option (GENERATION_OPTIONS) -> size

    def __post_init__(self):
        source = self.source
        unknown = {k for k, v in self.generation.items() if v is not None} - set(source.generation)
        if unknown:
            accepted = ", ".join(source.generation) or "none (it is not generated)"
            raise ValueError(f"{self.name} does not take {sorted(unknown)}; accepted: {accepted}")

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def source(self) -> DatasetSpec:
        return get_dataset(self.spec.source[0])

    @property
    def task(self) -> str:
        return self.source.task

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.source.class_names

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def targets(self) -> dict[str, tuple[str, str]]:
        return {(split if ds == self.source.name else ds): (ds, split) for ds, split in self.spec.targets}

    @property
    def val_split(self) -> str | None:
        return "synthetic_val" if self.spec.source_val else None

    @property
    def target_splits(self) -> tuple[str, ...]:
        return tuple(self.targets)

    @property
    def real_train(self) -> Mapping[str, str]:
        return self.spec.real_train

    def dataset(self, split: str, transform=None, **params):
        """The dataset behind ``train``, ``synthetic_val``, a target's report name, or any
        other split of the source dataset (e.g. the digits' ``real_train``)."""
        named = {"train": self.spec.source, "synthetic_val": self.spec.source_val, **self.targets}
        name, ds_split = named[split] if split in named else (self.source.name, split)
        spec = get_dataset(name)
        if spec.generated:
            root = None  # the cache folder
            sizes = {
                spec.generation[k]: v for k, v in self.generation.items() if v is not None and k in spec.generation
            }
            params = sizes | params
        else:
            root = None if self.root is None else Path(self.root) / name
        return build_dataset(name, ds_split, root=root, transform=transform, **params)


def benchmark(name: str, data_root: str | None = None, **generation) -> Benchmark:
    """The registered benchmark ``name`` ("digits", "digit_scenes", "visda17", "gta5"), its real
    data under ``data_root``, its generated datasets at the sizes ``generation`` gives."""
    return Benchmark(BENCHMARKS.lookup(name), data_root, dict(generation))
