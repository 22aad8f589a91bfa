"""A run's configuration: its fields, their validation, and the run's identity (its name).

A run's name is derived from the settings that decide its numbers, so the same run always
gets the same name and a recorded run is found again. Only the settings that differ from
their defaults are hashed, with the task's version in :data:`IDENTITY_VERSIONS`: a new
option with a default that changes nothing renames no record. Bump a task's version when a
default's *meaning* changes for its runs (a new default value, or a default that now trains
differently): every run of that task is then a new run, and the other task's keep their names.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from .backbones import ARCHS, check_stages, stage_reductions
from .data import GENERATION_OPTIONS, Benchmark, benchmark, get_dataset
from .data.registry import BENCHMARKS
from .registry import METHODS, get_method
from .scaling import RECIPES, RunSettings

# 3: the official recipe by default. Segmentation 4: its head reads EfficientNet's last block;
# 5: the textured scenes' clutter at the design's level (csg.data.textured_scenes.CLUTTER).
IDENTITY_VERSIONS = {"classification": 3, "segmentation": 5}
# What a record written before an option existed trained with (Config.from_record): the book's
# recipe, and its final evaluation on the same images as every epoch's.
PREDATING = {"recipe": lambda config: "book", "final_eval_size": lambda config: config.get("eval_size")}
# Where a run is written and what executes it: not part of what it computes.
RUN_ONLY_FIELDS = ("run_dir", "results_dir", "name", "resume", "device", "num_workers")
SCALED_FIELDS = tuple(f.name for f in dataclasses.fields(RunSettings))  # None = set by csg.scaling
# Classification pools the last stage (stride 32); segmentation dilates to stride 8 (DeepLab).
OUTPUT_STRIDE = {"classification": 32, "segmentation": 8}


@dataclass
class Config:
    """Everything that defines a run. Defaults: the offline digits benchmark, sized for a 2-core CPU."""

    method: str = "csg"
    dataset: str = "digits"
    train_split: str = "train"  # the synthetic source; "real_train" trains the motivating example's real model
    data_root: str | None = None
    arch: str = "efficientnet_lite0"
    weights: str | None = "imagenet"
    # The name of a finished run whose trained backbone replaces these weights, as f_e's
    # initialisation and as f_e,o (a prior that fits the target: the positive control).
    prior: str | None = None
    image_size: int = 96
    epochs: int = 3
    batch_size: int = 32
    # The heads' learning rate (the backbone's is lr * backbone_lr_mult). 1e-2 won over 1e-3 on the
    # held-out *synthetic* split with the plain baseline (records in results/; book chapter 08).
    lr: float = 1e-2
    backbone_lr_mult: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    # "official": the official code's SGD, its quadratic 100-step warm-up, and m from the queue's
    # span; "book" (the book's first recipe): torch's SGD, a linear warm-up and an EMA horizon
    # with the paper's share of the run (csg.optim, csg.scaling).
    recipe: str = "official"
    warmup_iters: int | None = None  # None: set by the recipe (csg.scaling)
    weight: float | None = None  # λ; None = the method's default (csg.registry)
    stages: tuple[int, ...] = (3, 4)
    pooling: str = "a_pool"
    key_attention: str = "student"
    # RandAugment M; "auto" = the paper's protocol (CSG: 6; every other method: none);
    # None = no augmentation (one view, seen by both models).
    magnitude: int | str | None = "auto"
    queue_size: int | None = None  # K; None: the paper's share of the training set (csg.scaling)
    tau: float = 0.07
    ema_momentum: float | None = None  # m; None: the paper's share of the run (csg.scaling)
    patch_grid: int | None = None  # None for classification; 8 for the paper's segmentation
    train_size: int | None = 4000  # synthetic training images (None = the whole split)
    eval_size: int | None = 1000  # images per evaluation split scored every epoch (None = all final ones)
    final_eval_size: int | None = None  # images per evaluation split scored at the end (None = the whole split)
    # Sizes a generated benchmark is generated at (None: the dataset's own; csg.data.registry).
    source_images: int | None = None  # synthetic training images generated
    source_val_images: int | None = None  # held-out synthetic images generated
    target_images: int | None = None  # real-target images composed (digit_scenes)
    seed: int = 0
    device: str = "auto"
    num_workers: int | None = None  # data-loading processes; None: 0 on a CPU, several per GPU
    run_dir: str | None = None  # checkpoints; None = the repository's runs/
    results_dir: str | None = None  # None = the repository's results/
    name: str | None = None
    resume: bool = False

    def __post_init__(self):
        self.stages = tuple(self.stages)

    @classmethod
    def from_record(cls, config: dict) -> Config:
        """The configuration a record or checkpoint was written with (an option it predates takes
        the value it trained with, :data:`PREDATING`; any other its default)."""
        return cls(**{name: value(config) for name, value in PREDATING.items() if name not in config} | config)

    def benchmark(self) -> Benchmark:
        """The benchmark this run trains and tests on, its data where this run says, at its sizes."""
        return benchmark(self.dataset, self.data_root, **self.generation)

    @property
    def task(self) -> str | None:
        spec = BENCHMARKS.get(self.dataset)
        return get_dataset(spec.source[0]).task if spec else None

    @property
    def weight_or_default(self) -> float:
        """λ this run trains with: the given one, else the method's default for the task (0 without a regulariser)."""
        return self.weight if self.weight is not None else get_method(self.method).weight(self.task)

    @property
    def effective_magnitude(self) -> int | None:
        """The RandAugment magnitude this run trains with (None: no augmentation)."""
        return get_method(self.method).magnitude if self.magnitude == "auto" else self.magnitude

    @property
    def generation(self) -> dict[str, int]:
        """The generated benchmark's sizes this run sets (csg.data.GENERATION_OPTIONS)."""
        return {k: getattr(self, k) for k in GENERATION_OPTIONS if getattr(self, k) is not None}

    @property
    def method_options(self) -> dict:
        """The options the method declares it takes (``Regularizer.options``), by name."""
        return {k: getattr(self, k) for k in get_method(self.method).regularizer.options}

    def identity(self) -> dict:
        """What decides a run's numbers: every setting that differs from its default, with the
        task's identity version. λ and the magnitude count as default when they equal what the default
        gives, and λ of a method without a regulariser never counts: the same run has one name."""
        defaults = type(self)()
        fields = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in RUN_ONLY_FIELDS and getattr(self, f.name) != getattr(defaults, f.name)
        }
        method = METHODS.get(self.method)
        if "weight" in fields and (
            (method and not method.regularized) or (self.task and self.weight == method.weight(self.task))
        ):
            del fields["weight"]
        if "magnitude" in fields and method and self.magnitude == method.magnitude:
            del fields["magnitude"]
        return {"identity_version": IDENTITY_VERSIONS[self.task or "classification"], **fields}

    @property
    def run_name(self) -> str:
        """``name``, or one derived from the identity: the same run always gets the same name."""
        digest = hashlib.sha1(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:8]
        return self.name or f"{self.dataset}-{self.method}-{self.arch}-seed{self.seed}-{digest}"

    def validate(self) -> None:
        """Every bad parameter is reported, with the accepted values, before any training starts."""

        def need(ok, msg):
            if not ok:
                raise ValueError(msg)

        method = get_method(self.method)  # unknown: a ValueError naming the registered methods
        BENCHMARKS.lookup(self.dataset)  # unknown: a ValueError naming the benchmarks
        need(self.arch in ARCHS, f"unknown arch {self.arch!r}; accepted: {', '.join(ARCHS)}")
        check_stages(self.stages)
        splits = get_dataset(BENCHMARKS[self.dataset].source[0]).splits
        need(self.train_split in splits, f"unknown train_split {self.train_split!r}; accepted: {', '.join(splits)}")
        need(isinstance(self.epochs, int) and self.epochs >= 0, "epochs must be an integer >= 0")
        need(self.recipe in RECIPES, f"unknown recipe {self.recipe!r}; accepted: {', '.join(RECIPES)}")
        for name in ("batch_size", "image_size"):
            need(isinstance(getattr(self, name), int) and getattr(self, name) >= 1, f"{name} must be an integer >= 1")
        for name in ("eval_size", "final_eval_size"):
            value = getattr(self, name)
            need(value is None or (isinstance(value, int) and value >= 1), f"{name} must be None or an integer >= 1")
        for name in ("warmup_iters", "queue_size", *GENERATION_OPTIONS):
            lowest = 0 if name == "warmup_iters" else 1
            value = getattr(self, name)
            need(
                value is None or (isinstance(value, int) and value >= lowest),
                f"{name} must be None or an integer >= {lowest}, got {value!r}",
            )
        need(
            self.ema_momentum is None or 0 <= self.ema_momentum <= 1,
            f"ema_momentum must be None (scaled) or in [0, 1], got {self.ema_momentum!r}",
        )
        need(self.lr > 0 and self.backbone_lr_mult >= 0, "lr must be > 0 and backbone_lr_mult >= 0")
        need(self.weight is None or self.weight >= 0, f"weight (λ) must be >= 0, got {self.weight}")
        need(
            self.magnitude in ("auto", None) or (isinstance(self.magnitude, int) and 0 <= self.magnitude <= 30),
            f"magnitude must be 'auto', None or an integer in [0, 30], got {self.magnitude!r}",
        )
        need(
            self.num_workers is None or (isinstance(self.num_workers, int) and self.num_workers >= 0),
            "num_workers must be None (automatic) or an integer >= 0",
        )
        need(
            self.device in ("auto", "cpu") or self.device.startswith("cuda"),
            "device must be 'auto', 'cpu' or 'cuda[:N]'",
        )
        map_sides = {s: self.image_size // r for s, r in enumerate(stage_reductions(OUTPUT_STRIDE[self.task]), 1)}
        method.regularizer.validate(map_sides, **self.method_options)
