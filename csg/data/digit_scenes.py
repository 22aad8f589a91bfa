"""The offline segmentation benchmark: synthetic digit scenes -> real digits on photographs.

A scene is an ``image_size`` x ``image_size`` RGB image with 1-4 digits laid out on a
jittered 2 x 2 grid (so digits seldom overlap, and when they do the later one is on
top in both image and labels). Digits fill about half to nine tenths of a cell's height,
so at 128 px a digit spans about 4-7 cells of a stride-8 feature map. The first layout
(3-6 digits on a 3 x 3 grid) left digits too small for stride-8 features: a model that
knew each stride-8 cell's true class shares would reach only 54.5 % mIoU on 200
synthetic scenes of 128 px, against 73.9 % with this layout (``metrics.coarse_oracle_miou``,
``data/scene_layout_oracle.py``; decided on synthetic scenes only).

Label convention (11 classes, scored by 11-class mIoU):

    0       background
    1..10   digit 0..9   (label = digit + 1)
    255     ignore (reserved; the generators never emit it)

Splits:

``train`` / ``synthetic_val``
    synthetic source: font-rendered digits (same style ranges as :mod:`.digits`) on
    procedural backgrounds; a digit pixel is one the glyph covers by >= 50 %.
``real_train`` / ``mnistm``
    real target: real MNIST digits composited MNIST-M-style (``|photo - digit|``) onto
    patches of real photographs; a digit pixel is one whose MNIST stroke intensity is
    >= 128. ``real_train`` uses the real-training digits, ``mnistm`` the held-out ones
    (the same digits as the classification benchmark's ``mnist``/``mnistm``).

Items follow the segmentation convention of :mod:`csg.data.joint_transforms`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image

from . import real_digits, render
from .arrays import ArraySegmentationDataset
from .cache import generated_arrays
from .digits import (
    ASPECT_RANGE,
    BLUR_RADIUS,
    MAX_ROTATION_DEG,
    MAX_SHEAR,
    MIN_CONTRAST,
    NOISE_STD,
    P_BLUR,
    P_NOISE,
    ROTATION_STD_DEG,
    STROKE_PROBS,
    _start_methods,
)
from .registry import register_benchmark, register_dataset

SCENE_CLASSES = ("background",) + tuple(str(d) for d in range(10))
SCENE_SPLITS = ("train", "synthetic_val", "real_train", "mnistm")
SYNTHETIC_SCENE_SPLITS = ("train", "synthetic_val")
REAL_ROTATION_DEG = 10.0
STROKE_THRESHOLD = 128  # MNIST intensity from which a pixel is labelled digit
REAL_TRAIN_DIGITS = 1000  # the real-digit split shared with the classification benchmark
CHUNK_SIZE = 250
_SPLIT_CODES = {"train": 11, "synthetic_val": 12, "real_train": 13, "mnistm": 14}


@dataclass(frozen=True)
class SceneLayout:
    """Where a scene's digits sit and how large they are (sizes as fractions of a grid cell)."""

    grid: int = 2  # digits sit in distinct cells of a grid x grid layout
    digits: tuple[int, int] = (1, 4)  # digits per scene, inclusive range
    jitter: float = 0.15  # centre jitter
    synthetic_height: tuple[float, float] = (0.55, 0.95)  # rendered digit height
    real_box: tuple[float, float] = (0.8, 1.2)  # MNIST 28x28 box side (digit + margin)

    def params(self) -> dict:
        """Part of a split's cache key (a changed layout never reads stale arrays). Fields at their
        defaults beyond grid and digits are left out, so the first layout's caches stay valid."""
        key = {"grid": self.grid, "digits_per_scene": list(self.digits)}
        first = SceneLayout()
        for f in ("jitter", "synthetic_height", "real_box"):
            if getattr(self, f) != getattr(first, f):
                key[f] = getattr(self, f)
        return key

    def place(self, rng: np.random.Generator, n: int, image_size: int):
        """Per scene: number of digits, the (x, y) centres of up to ``digits[1]`` digits, the cell side."""
        lo, hi = self.digits
        count = rng.integers(lo, hi + 1, size=n)
        cell = image_size / self.grid
        cells = np.argsort(rng.random((n, self.grid * self.grid)), axis=1)[:, :hi]  # distinct cells
        jitter = rng.uniform(-self.jitter, self.jitter, size=(n, hi, 2)) * cell
        centers = np.stack([(cells % self.grid + 0.5) * cell, (cells // self.grid + 0.5) * cell], axis=-1) + jitter
        return count, centers, cell


LAYOUT = SceneLayout()  # this benchmark's


@dataclass
class Glyphs:
    """One draw of every digit slot's glyph: class, font, stroke and shape, arrays (n, slots)."""

    digit: np.ndarray
    font: np.ndarray
    stroke: np.ndarray
    height: np.ndarray  # pixels
    aspect: np.ndarray
    angle: np.ndarray
    shear: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, slots: int, cell: float, num_fonts: int, layout: SceneLayout):
        digit = rng.integers(0, 10, size=(n, slots))
        font = rng.integers(0, num_fonts, size=(n, slots))
        stroke = rng.choice(len(render.STROKE_WIDTHS), size=(n, slots), p=STROKE_PROBS)
        height = rng.uniform(*layout.synthetic_height, size=(n, slots)) * cell
        aspect = rng.uniform(*ASPECT_RANGE, size=(n, slots))
        angle = np.clip(rng.normal(0.0, ROTATION_STD_DEG, size=(n, slots)), -MAX_ROTATION_DEG, MAX_ROTATION_DEG)
        shear = rng.uniform(-MAX_SHEAR, MAX_SHEAR, size=(n, slots))
        return cls(digit, font, stroke, height, aspect, angle, shear)

    def coverage(self, bank: render.GlyphBank, i: int, j: int, size: int, center) -> np.ndarray:
        """Slot j of scene i placed at ``center``: its (size, size) uint8 coverage."""
        glyph = bank.masks[self.font[i, j]][self.stroke[i, j]][self.digit[i, j]]
        return render.warp_glyph(
            glyph, (size, size), self.height[i, j], self.aspect[i, j], self.angle[i, j], self.shear[i, j], tuple(center)
        )


def finish_images(rng: np.random.Generator, images: np.ndarray, image_size: int, degrade: bool = True) -> np.ndarray:
    """Float images in [0, 1] -> uint8, with the synthetic source's noise and blur when ``degrade``."""
    n = len(images)
    if degrade:
        render.add_noise(rng, images, P_NOISE, NOISE_STD)
    images = render.to_uint8(images)
    if degrade:
        blur = rng.random(n) < P_BLUR
        radius = rng.uniform(*BLUR_RADIUS, size=n) * (image_size / 128)
        for i in np.flatnonzero(blur):
            images[i] = render.gaussian_blur(images[i], radius[i])
    return images


def render_synthetic_scenes(
    n: int,
    image_size: int,
    rng: np.random.Generator,
    bank: render.GlyphBank,
    degrade: bool = True,
    layout: SceneLayout = LAYOUT,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` synthetic scenes: images uint8 (n, S, S, 3), labels uint8 (n, S, S).

    ``degrade=False`` skips the final blur and noise (used by tests to check that
    labels and pixels agree exactly).
    """
    s = image_size
    count, centers, cell = layout.place(rng, n, s)
    slots = layout.digits[1]
    glyphs = Glyphs.draw(rng, n, slots, cell, bank.num_fonts, layout)
    images = render.procedural_backgrounds(rng, n, s, s)
    bg_mean = render.mean_color(images)
    labels = np.zeros((n, s, s), dtype=np.uint8)
    for j in range(slots):
        colors = render.contrasting_colors(rng, bg_mean, MIN_CONTRAST)
        for i in np.flatnonzero(count > j):
            coverage = glyphs.coverage(bank, i, j, s, centers[i, j])
            alpha = coverage.astype(np.float32)[..., None] / 255.0
            images[i] += (colors[i] - images[i]) * alpha
            labels[i][coverage >= 128] = glyphs.digit[i, j] + 1
    return finish_images(rng, images, s, degrade), labels


def render_real_scenes(
    n: int,
    image_size: int,
    rng: np.random.Generator,
    digits: np.ndarray,
    digit_labels: np.ndarray,
    layout: SceneLayout = LAYOUT,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` real-target scenes from the real digits given (28x28 uint8) and their labels."""
    s = image_size
    count, centers, cell = layout.place(rng, n, s)
    slots = layout.digits[1]
    pick = rng.integers(0, len(digits), size=(n, slots))
    box = rng.uniform(*layout.real_box, size=(n, slots)) * cell
    angle = rng.uniform(-REAL_ROTATION_DEG, REAL_ROTATION_DEG, size=(n, slots))
    patches = real_digits.photo_patches(rng, n, s, s)
    ink = np.zeros((n, s, s), dtype=np.uint8)
    labels = np.zeros((n, s, s), dtype=np.uint8)
    digit_images = [Image.fromarray(d) for d in digits]
    for i in range(n):
        for j in range(count[i]):
            k = pick[i, j]
            placed = render.warp_glyph(digit_images[k], (s, s), box[i, j], 1.0, angle[i, j], 0.0, tuple(centers[i, j]))
            np.maximum(ink[i], placed, out=ink[i])
            labels[i][placed >= STROKE_THRESHOLD] = digit_labels[k] + 1
    return real_digits.mnistm_blend(ink, patches), labels


def _synthetic_chunk(task: tuple) -> tuple[np.ndarray, np.ndarray]:
    renderer, layout, fonts, n, image_size, seed, code, chunk = task
    rng = np.random.default_rng([seed, code, chunk])
    return renderer(n, image_size, rng, render.glyph_bank(fonts), layout=layout)


def generate_synthetic_scenes(
    n: int,
    seed: int,
    image_size: int = 128,
    split: str = "train",
    system_fonts: bool = False,
    workers: int | None = None,
    renderer: Callable = render_synthetic_scenes,
    layout: SceneLayout = LAYOUT,
) -> tuple[np.ndarray, np.ndarray]:
    """Render ``n`` synthetic scenes, deterministic in (seed, split, n, image_size, fonts, renderer, layout)."""
    if split not in SYNTHETIC_SCENE_SPLITS:
        raise ValueError(f"unknown synthetic split {split!r}; accepted: {SYNTHETIC_SCENE_SPLITS}")
    fonts = render.digit_fonts(system_fonts)
    render.glyph_bank(fonts)
    code = _SPLIT_CODES[split]
    tasks = [
        (renderer, layout, fonts, min(CHUNK_SIZE, n - start), image_size, seed, code, k)
        for k, start in enumerate(range(0, n, CHUNK_SIZE))
    ]
    workers = min(2, os.cpu_count() or 1) if workers is None else workers
    if workers > 1 and len(tasks) > 1 and "fork" in _start_methods():
        with get_context("fork").Pool(workers) as pool:
            parts = pool.map(_synthetic_chunk, tasks, chunksize=1)
    else:
        parts = [_synthetic_chunk(t) for t in tasks]
    if not parts:
        return np.zeros((0, image_size, image_size, 3), np.uint8), np.zeros((0, image_size, image_size), np.uint8)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def generate_real_scenes(
    split: str, n: int, image_size: int = 128, real_split_seed: int = 0, layout: SceneLayout = LAYOUT
) -> tuple[np.ndarray, np.ndarray]:
    """``real_train`` or ``mnistm`` scenes from the fixed real-digit split."""
    digits, labels = real_digits.load_mnist_digits()
    parts = real_digits.split_real_digits(labels, REAL_TRAIN_DIGITS, real_split_seed)
    idx = parts["real_train"] if split == "real_train" else parts["eval"]
    rng = np.random.default_rng([real_split_seed, _SPLIT_CODES[split], image_size, n])
    return render_real_scenes(n, image_size, rng, digits[idx], labels[idx], layout)


# How every scene benchmark's dataset registers (this one and its variants, e.g. textured_scenes).
SCENE_DATASET = dict(
    task="segmentation",
    splits=SCENE_SPLITS,
    class_names=SCENE_CLASSES,
    generated=True,
    generation={"source_images": "train_size", "source_val_images": "val_size", "target_images": "real_size"},
)


@register_dataset("digit_scenes", **SCENE_DATASET)
class DigitScenes(ArraySegmentationDataset):
    """One split of the offline segmentation benchmark; items ``(PIL image, Mask)``.

    Args:
        split: one of :data:`SCENE_SPLITS`.
        seed: seed of the synthetic splits.
        image_size: side of the square scenes.
        train_size, val_size: scenes in ``train`` / ``synthetic_val``.
        real_train_size, real_size: scenes in ``real_train`` / ``mnistm``.
        real_split_seed: seed of the real-digit split and of the real scenes.
        system_fonts, cache_dir, use_cache, workers: as in :class:`csg.data.digits.Digits`.
        transform: joint transform ``transform(image, mask)``.

    ``.images`` uint8 (N, S, S, 3) and ``.labels`` uint8 (N, S, S) are memory-mapped.
    A variant of the benchmark subclasses it with its own name, layout and synthetic renderer.
    """

    name = "digit_scenes"
    layout = LAYOUT
    renderer = staticmethod(render_synthetic_scenes)

    @classmethod
    def from_split(cls, split, root, transform=None, **params):
        return cls(split, cache_dir=root, transform=transform, **params)

    def scene_params(self) -> dict:
        """What else the renderer's synthetic scenes depend on (it keys their cache): nothing here."""
        return {}

    def __init__(
        self,
        split: str = "train",
        *,
        seed: int = 0,
        image_size: int = 128,
        train_size: int = 10_000,
        val_size: int = 1_000,
        real_train_size: int = 500,
        real_size: int = 1_000,
        real_split_seed: int = 0,
        system_fonts: bool = False,
        cache_dir: str | Path | None = None,
        use_cache: bool = True,
        transform: Callable | None = None,
        workers: int | None = None,
    ):
        if split not in SCENE_SPLITS:
            raise ValueError(f"{self.name}: unknown split {split!r}; accepted: {SCENE_SPLITS}")
        if split in SYNTHETIC_SCENE_SPLITS:
            n = train_size if split == "train" else val_size
            params = (
                render.rendered_params(seed, image_size, n, system_fonts) | self.layout.params() | self.scene_params()
            )
            build = partial(
                generate_synthetic_scenes, n, seed, image_size, split, system_fonts, workers, self.renderer, self.layout
            )
        else:
            n = real_train_size if split == "real_train" else real_size
            params = {"image_size": image_size, "n": n, "real_split_seed": real_split_seed} | self.layout.params()
            build = partial(generate_real_scenes, split, n, image_size, real_split_seed, self.layout)
        images, labels, meta = generated_arrays(self.name, split, params, build, cache_dir, use_cache)
        super().__init__(images, labels, SCENE_CLASSES, transform=transform, meta=meta)
        self.split = split


register_benchmark(
    "digit_scenes",
    source=("digit_scenes", "train"),
    source_val=("digit_scenes", "synthetic_val"),
    targets=(("digit_scenes", "mnistm"),),
)
