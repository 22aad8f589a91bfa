"""The offline classification benchmark: rendered digits -> real MNIST and MNIST-M-style digits.

Splits (all RGB uint8, ``image_size`` x ``image_size``, 10 classes "0"-"9"):

==================== ========================================================= =========
split                content                                                   size
==================== ========================================================= =========
``train``            synthetic source: font-rendered digits (:func:`render_digits`)  ``train_size``
``synthetic_val``    held-out synthetic digits, same distribution, other seed   ``val_size``
``real_train``       real MNIST digits, small; only for "trained on real" models ``real_train_size``
``real_train_mnistm`` the ``real_train`` digits blended onto photographs          ``real_train_size``
``mnist``            real target 1: the held-out real MNIST digits              5000 - ``real_train_size``
``mnistm``           real target 2: the same held-out digits blended onto real   5000 - ``real_train_size``
                     photographs (MNIST-M's ``|patch - digit|``)
==================== ========================================================= =========

The synthetic splits depend on ``seed``; the real splits only on ``real_split_seed``
(default 0), so every run is scored on the same real digits. Classes are exactly
balanced in the synthetic splits and stratified in the real ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from . import real_digits, render
from .arrays import ArrayClassificationDataset
from .cache import generated_arrays
from .registry import register_benchmark, register_dataset

DIGIT_CLASSES = tuple(str(d) for d in range(10))
DIGITS_SPLITS = ("train", "synthetic_val", "real_train", "real_train_mnistm", "mnist", "mnistm")
SYNTHETIC_SPLITS = ("train", "synthetic_val")

# Images per work unit. Each chunk has its own random stream, derived from
# (seed, split, chunk index), so the result does not depend on the number of workers.
CHUNK_SIZE = 1000
_SPLIT_CODES = {"train": 1, "synthetic_val": 2, "real_train_mnistm": 3, "mnistm": 4}

# Style ranges of the synthetic source (fractions are of the image side).
HEIGHT_FRACTION = (0.45, 0.85)
MAX_CENTER_OFFSET = 0.12
ROTATION_STD_DEG, MAX_ROTATION_DEG = 12.0, 35.0
MAX_SHEAR = 0.3
ASPECT_RANGE = (0.75, 1.3)
STROKE_PROBS = (0.4, 0.25, 0.2, 0.15)  # over render.STROKE_WIDTHS
P_NEIGHBOURS = 0.25  # partial neighbouring digits at the sides, as in house numbers
P_SHADOW = 0.2
P_GRADIENT_INK = 0.25
MIN_CONTRAST = 0.25
P_BLUR, BLUR_RADIUS = 0.5, (0.3, 1.3)
P_NOISE, NOISE_STD = 0.6, (0.01, 0.08)


def _chunk_rng(seed: int, split_code: int, chunk: int) -> np.random.Generator:
    return np.random.default_rng([seed, split_code, chunk])


def balanced_labels(n: int, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` labels with every class count within one of ``n / num_classes``, shuffled."""
    return rng.permutation(np.arange(n) % num_classes).astype(np.int64)


def render_digits(labels: np.ndarray, image_size: int, rng: np.random.Generator, bank: render.GlyphBank) -> np.ndarray:
    """Render one synthetic image per label: uint8 (n, image_size, image_size, 3)."""
    n, s = len(labels), image_size
    size = (s, s)
    font = rng.integers(0, bank.num_fonts, size=n)
    stroke = rng.choice(len(render.STROKE_WIDTHS), size=n, p=STROKE_PROBS)
    height = rng.uniform(*HEIGHT_FRACTION, size=n) * s
    aspect = rng.uniform(*ASPECT_RANGE, size=n)
    angle = np.clip(rng.normal(0.0, ROTATION_STD_DEG, size=n), -MAX_ROTATION_DEG, MAX_ROTATION_DEG)
    shear = rng.uniform(-MAX_SHEAR, MAX_SHEAR, size=n)
    center = s / 2 + rng.uniform(-MAX_CENTER_OFFSET, MAX_CENTER_OFFSET, size=(n, 2)) * s
    has_neighbours = rng.random(n) < P_NEIGHBOURS
    neighbour_digits = rng.integers(0, 10, size=(n, 2))
    neighbour_gap = rng.uniform(0.05, 0.3, size=n)
    has_shadow = rng.random(n) < P_SHADOW
    shadow_shift = rng.choice([-3, -2, -1, 1, 2, 3], size=(n, 2)) * (s / 64)

    ink = np.zeros((n, s, s), dtype=np.float32)  # digit coverage, 0..1
    shadow = np.zeros((n, s, s), dtype=np.float32)  # only filled where has_shadow
    for i in range(n):
        glyphs = bank.masks[font[i]][stroke[i]]
        glyph = glyphs[labels[i]]
        args = (size, height[i], aspect[i], angle[i], shear[i])
        coverage = render.warp_glyph(glyph, *args, tuple(center[i])).astype(np.float32)
        if has_neighbours[i]:
            # Neighbours sit a glyph-width (plus a gap) to the left and right, so at
            # most a part of them shows; the label stays the centre digit's.
            step = height[i] * (glyph.size[0] / glyph.size[1]) * aspect[i] + neighbour_gap[i] * height[i]
            for side, digit in zip((-1.0, 1.0), neighbour_digits[i]):
                c = (center[i, 0] + side * step, center[i, 1])
                coverage = np.maximum(coverage, render.warp_glyph(glyphs[digit], *args, c))
        ink[i] = coverage / 255.0
        if has_shadow[i]:
            shadow[i] = np.roll(ink[i], shift=tuple(int(v) for v in shadow_shift[i]), axis=(0, 1))

    background = render.procedural_backgrounds(rng, n, s, s)
    bg_mean = render.mean_color(background)
    ink_color = render.contrasting_colors(rng, bg_mean, MIN_CONTRAST)
    second_color = render.contrasting_colors(rng, bg_mean, MIN_CONTRAST)
    # Ink colour: solid, or (for some images) a ramp between two contrasting colours.
    gradient_ink = np.flatnonzero(rng.random(n) < P_GRADIENT_INK)
    ramp = render.linear_ramps(rng, len(gradient_ink), s, s)[..., None]
    ink_layer = np.empty((n, s, s, 3), dtype=np.float32)
    ink_layer[:] = ink_color[:, None, None, :]
    ink_layer[gradient_ink] = (
        ink_color[gradient_ink, None, None, :] * (1 - ramp) + second_color[gradient_ink, None, None, :] * ramp
    )

    images = background
    shadowed = np.flatnonzero(has_shadow)
    if shadowed.size:
        shadow_color = np.where(render.luminance(ink_color[shadowed]) > 0.5, 0.0, 1.0).astype(np.float32)
        shadow_alpha = (shadow[shadowed] * 0.7)[..., None]
        images[shadowed] = images[shadowed] * (1 - shadow_alpha) + shadow_color[:, None, None, None] * shadow_alpha
    ink_layer -= images  # in place: this chunk's largest temporaries
    ink_layer *= ink[..., None]
    images += ink_layer

    render.add_noise(rng, images, P_NOISE, NOISE_STD)
    images = render.to_uint8(images)

    blur = rng.random(n) < P_BLUR
    radius = rng.uniform(*BLUR_RADIUS, size=n) * (s / 64)
    for i in np.flatnonzero(blur):
        images[i] = render.gaussian_blur(images[i], radius[i])
    return images


def _render_chunk(task: tuple) -> np.ndarray:
    fonts, labels, image_size, seed, split_code, chunk = task
    bank = render.glyph_bank(fonts)
    return render_digits(labels, image_size, _chunk_rng(seed, split_code, chunk), bank)


def generate_synthetic_digits(
    n: int,
    seed: int,
    image_size: int = 64,
    split: str = "train",
    system_fonts: bool = False,
    workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Render ``n`` synthetic digits: (uint8 (n, S, S, 3), int64 (n,)), deterministic in
    (seed, split, n, image_size, fonts) and independent of ``workers``.

    ``workers`` defaults to ``min(2, cpu count)`` processes when there are several
    chunks (fork start method; elsewhere one process).
    """
    if split not in SYNTHETIC_SPLITS:
        raise ValueError(f"unknown synthetic split {split!r}; accepted: {SYNTHETIC_SPLITS}")
    code = _SPLIT_CODES[split]
    labels = balanced_labels(n, 10, np.random.default_rng([seed, code, 0xBA1]))
    fonts = render.digit_fonts(system_fonts)
    render.glyph_bank(fonts)  # build once here; forked workers inherit it
    tasks = [
        (fonts, labels[start : start + CHUNK_SIZE], image_size, seed, code, k)
        for k, start in enumerate(range(0, n, CHUNK_SIZE))
    ]
    workers = min(2, os.cpu_count() or 1) if workers is None else workers
    if workers > 1 and len(tasks) > 1 and "fork" in _start_methods():
        with get_context("fork").Pool(workers) as pool:
            parts = pool.map(_render_chunk, tasks, chunksize=1)
    else:
        parts = [_render_chunk(t) for t in tasks]
    images = np.concatenate(parts) if parts else np.zeros((0, image_size, image_size, 3), np.uint8)
    return images, labels


def _start_methods() -> list[str]:
    from multiprocessing import get_all_start_methods

    return get_all_start_methods()


def real_digit_arrays(
    split: str, image_size: int = 64, real_train_size: int = 1000, real_split_seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """One of the real splits (``real_train``, ``real_train_mnistm``, ``mnist``, ``mnistm``)."""
    digits, labels = real_digits.load_mnist_digits()
    parts = real_digits.split_real_digits(labels, real_train_size, real_split_seed)
    idx = parts["real_train"] if split.startswith("real_train") else parts["eval"]
    grey = real_digits.resize_digits(digits[idx], image_size)
    if split in ("real_train", "mnist"):
        return real_digits.grey_to_rgb(grey), labels[idx].copy()
    rng = np.random.default_rng([real_split_seed, _SPLIT_CODES[split], image_size])
    patches = real_digits.photo_patches(rng, len(idx), image_size, image_size)
    return real_digits.mnistm_blend(grey, patches), labels[idx].copy()


@register_dataset(
    "digits",
    task="classification",
    splits=DIGITS_SPLITS,
    class_names=DIGIT_CLASSES,
    generated=True,
    generation={"source_images": "train_size", "source_val_images": "val_size"},
)
class Digits(ArrayClassificationDataset):
    """One split of the offline digit benchmark; items ``(PIL RGB image, int label)``.

    Args:
        split: one of :data:`DIGITS_SPLITS`.
        seed: seed of the synthetic splits.
        image_size: side of the square RGB images.
        train_size, val_size: sizes of ``train`` and ``synthetic_val``.
        real_train_size: real digits set aside for ``real_train`` (multiple of 10);
            the other ``5000 - real_train_size`` form ``mnist``/``mnistm``.
        real_split_seed: seed of the real split and of the MNIST-M photo patches.
        system_fonts: also render with system fonts (machine-dependent data).
        cache_dir: cache root (default :func:`csg.data.common.default_cache_dir`);
            ``None`` together with ``use_cache=False`` keeps everything in memory.
        transform: applied to the PIL image.
        workers: rendering processes (default up to 2).

    ``.images`` (uint8 N x S x S x 3) and ``.labels`` (int64 N) are memory-mapped from
    the cache; ``.meta`` holds the parameters and the generation time.
    """

    @classmethod
    def from_split(cls, split, root, transform=None, **params):
        return cls(split, cache_dir=root, transform=transform, **params)

    def __init__(
        self,
        split: str = "train",
        *,
        seed: int = 0,
        image_size: int = 64,
        train_size: int = 50_000,
        val_size: int = 5_000,
        real_train_size: int = 1000,
        real_split_seed: int = 0,
        system_fonts: bool = False,
        cache_dir: str | Path | None = None,
        use_cache: bool = True,
        transform: Callable | None = None,
        workers: int | None = None,
    ):
        if split not in DIGITS_SPLITS:
            raise ValueError(f"digits: unknown split {split!r}; accepted: {DIGITS_SPLITS}")
        if split in SYNTHETIC_SPLITS:
            n = train_size if split == "train" else val_size
            params = render.rendered_params(seed, image_size, n, system_fonts)
            build = partial(generate_synthetic_digits, n, seed, image_size, split, system_fonts, workers)
        else:
            params = {"image_size": image_size, "real_train_size": real_train_size, "real_split_seed": real_split_seed}
            build = partial(real_digit_arrays, split, image_size, real_train_size, real_split_seed)
        images, labels, meta = generated_arrays("digits", split, params, build, cache_dir, use_cache)
        super().__init__(images, labels, DIGIT_CLASSES, transform=transform, meta=meta)
        self.split = split


register_benchmark(
    "digits",
    source=("digits", "train"),
    source_val=("digits", "synthetic_val"),
    targets=(("digits", "mnist"), ("digits", "mnistm")),
    real_train={"mnist": "real_train", "mnistm": "real_train_mnistm"},
)
