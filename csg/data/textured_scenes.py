"""The CPU-sized segmentation benchmark: cluttered, textured synthetic scenes -> real digits on photographs.

Its synthetic scenes are meant to be of the real target's kind, as GTA5's streets are of
Cityscapes': in the real scenes a digit is a textured region (MNIST-M's ``|photo - ink|``),
not a flat colour, so here a digit is filled with a colour, a procedural texture or the same
difference blend over a procedural background (never a photograph or a real digit), among
distractor strokes and occluders, under random lighting. A pixel an occluder or a stroke
covers is background, whatever lies under it.

Layout: one digit per 64-px scene, so that a digit spans several cells of a stride-8 map (an
8 x 8 map at 64 px). Decided on label-only references of synthetic scenes: the cell-share
oracle caps a 2 x 2 layout of 1-4 digits at 41.2 % mIoU at 64 px and one digit per scene at
72.5 % (``data/scene_layout_oracle.py``, ``results/bench/digit-scenes-layout-64px.json``).

Clutter (:data:`CLUTTER`): up to one distractor stroke under the digit, a stroke over it or
an occluder in one scene of ten each: the most clutter of the levels tried under which the
baseline reaches 40 % mIoU on synthetic_val in 25 minutes of a 2-core CPU, decided on
synthetic scenes only (``results/textured_design/README.md``).

The real target's scenes are :mod:`.digit_scenes`' at this layout. ``textured_scenes_design``
is the same benchmark without its real target: design trials run on it, so none can look at
the target.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial

import numpy as np
from PIL import Image, ImageDraw

from . import render
from .digit_scenes import MIN_CONTRAST, SCENE_DATASET, DigitScenes, Glyphs, SceneLayout, finish_images
from .registry import register_benchmark, register_dataset

LAYOUT = SceneLayout(grid=1, digits=(1, 1), jitter=0.12, synthetic_height=(0.55, 0.9), real_box=(0.8, 1.15))
FILLS = ("colour", "texture", "difference")  # how a digit, a stroke or an occluder is painted


@dataclass(frozen=True)
class Clutter:
    """How much lies around and over the digit: a design choice of the benchmark, made on
    synthetic_val (``results/textured_design/``), and part of its rendered data's identity."""

    strokes_below: tuple[int, int] = (0, 1)  # distractor strokes under the digit, inclusive range
    p_stroke_above: float = 0.1  # a distractor stroke over the digit
    p_occluder: float = 0.1  # a box or an ellipse over part of the digit

    def params(self) -> dict:
        return {f"clutter_{k}": v for k, v in dataclasses.asdict(self).items()}


# Design trial 10 (results/textured_design/README.md): the most clutter of the levels tried under
# which the baseline reached 40 % mIoU on synthetic_val in 25 minutes; design trials 1-7 ran the
# first design, Clutter((0, 3), 0.3, 0.3), under which it stayed near 33 %.
CLUTTER = Clutter()
STROKE_WIDTH = (0.03, 0.1)  # fraction of the scene's side
OCCLUDER_SIZE = (0.15, 0.4)  # fraction of the scene's side
TEXTURE_AMPLITUDE = 0.6  # a texture fill's departure from its colour
LIGHT_GAIN = (0.55, 1.25)  # the lighting field's range of gains
COLOUR_CAST = 0.15  # per-channel gain spread of the light's colour


def _fill(rng: np.random.Generator, images: np.ndarray, coverage: np.ndarray) -> None:
    """Paint one layer over ``images`` (n, S, S, 3) in place, where ``coverage`` (n, S, S) uint8 says.

    Each image draws its fill: a colour contrasting with the image's mean, that colour modulated
    by a procedural texture, or MNIST-M's difference blend ``|image - ink|``.
    """
    n, s = len(images), images.shape[1]
    fill = rng.integers(0, len(FILLS), size=n)
    colors = render.contrasting_colors(rng, render.mean_color(images), MIN_CONTRAST)
    texture = render.procedural_backgrounds(rng, n, s, s)
    texture -= texture.mean(axis=(1, 2), keepdims=True)
    paint = colors[:, None, None, :] + TEXTURE_AMPLITUDE * texture * (fill == 1)[:, None, None, None]
    np.clip(paint, 0.0, 1.0, out=paint)
    alpha = coverage.astype(np.float32)[..., None] / 255.0
    painted = images + (paint - images) * alpha
    blended = np.abs(images - alpha)
    images[:] = np.where((fill == 2)[:, None, None, None], blended, painted)


def _strokes(rng: np.random.Generator, draw: np.ndarray, size: int) -> np.ndarray:
    """Coverage (n, S, S) uint8 of one curved three-point stroke in each scene where ``draw`` is true."""
    n = len(draw)
    points = rng.uniform(0.0, size, size=(n, 3, 2))
    width = rng.uniform(*STROKE_WIDTH, size=n) * size
    out = np.zeros((n, size, size), np.uint8)
    for i in np.flatnonzero(draw):
        canvas = Image.new("L", (size, size), 0)
        line = [tuple(p) for p in points[i]]
        ImageDraw.Draw(canvas).line(line, fill=255, width=max(1, round(width[i])), joint="curve")
        out[i] = np.asarray(canvas)
    return out


def _occluders(rng: np.random.Generator, draw: np.ndarray, centers: np.ndarray, size: int) -> np.ndarray:
    """Coverage (n, S, S) uint8 of a box or an ellipse near each scene's digit where ``draw`` is true."""
    n = len(draw)
    ellipse = rng.random(n) < 0.5
    half = rng.uniform(*OCCLUDER_SIZE, size=(n, 2)) * size / 2
    middle = centers + rng.uniform(-0.3, 0.3, size=(n, 2)) * size
    out = np.zeros((n, size, size), np.uint8)
    for i in np.flatnonzero(draw):
        canvas = Image.new("L", (size, size), 0)
        box = [*(middle[i] - half[i]), *(middle[i] + half[i])]
        shape = ImageDraw.Draw(canvas).ellipse if ellipse[i] else ImageDraw.Draw(canvas).rectangle
        shape(box, fill=255)
        out[i] = np.asarray(canvas)
    return out


def _light(rng: np.random.Generator, images: np.ndarray) -> None:
    """Random lighting in place: a smooth gain field over the scene, tinted by a colour cast."""
    n, s = len(images), images.shape[1]
    field = render.smooth_noise(rng, n, s, s, cells=2)
    lo, hi = LIGHT_GAIN
    gain = lo + (hi - lo) * field
    cast = 1.0 + COLOUR_CAST * (rng.random((n, 3), dtype=np.float32) - 0.5) * 2
    images *= gain[..., None] * cast[:, None, None, :]


def render_textured_scenes(
    n: int,
    image_size: int,
    rng: np.random.Generator,
    bank: render.GlyphBank,
    degrade: bool = True,
    layout: SceneLayout = LAYOUT,
    clutter: Clutter = CLUTTER,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` textured, cluttered synthetic scenes: images uint8 (n, S, S, 3), labels uint8 (n, S, S).

    Layers, back to front: a procedural background, distractor strokes, the digits, a stroke
    and an occluder over them; then the light, then the source's noise and blur (``degrade``).
    """
    s = image_size
    count, centers, cell = layout.place(rng, n, s)
    slots = layout.digits[1]
    glyphs = Glyphs.draw(rng, n, slots, cell, bank.num_fonts, layout)
    images = render.procedural_backgrounds(rng, n, s, s)
    labels = np.zeros((n, s, s), dtype=np.uint8)
    low, high = clutter.strokes_below
    below = rng.integers(low, high + 1, size=n)
    for k in range(high):
        _fill(rng, images, _strokes(rng, below > k, s))
    for j in range(slots):
        coverage = np.zeros((n, s, s), np.uint8)
        for i in np.flatnonzero(count > j):
            coverage[i] = glyphs.coverage(bank, i, j, s, centers[i, j])
            labels[i][coverage[i] >= 128] = glyphs.digit[i, j] + 1
        _fill(rng, images, coverage)
    over = [
        _strokes(rng, rng.random(n) < clutter.p_stroke_above, s),
        _occluders(rng, rng.random(n) < clutter.p_occluder, centers[:, 0], s),
    ]
    for coverage in over:
        _fill(rng, images, coverage)
        labels[coverage >= 128] = 0
    _light(rng, images)
    return finish_images(rng, images, s, degrade), labels


@register_dataset("textured_scenes", **SCENE_DATASET)
class TexturedScenes(DigitScenes):
    """One split of the CPU-sized segmentation benchmark; as :class:`DigitScenes`, 64-px scenes by default."""

    name = "textured_scenes"
    layout = LAYOUT
    clutter = CLUTTER

    def __init__(self, split: str = "train", *, image_size: int = 64, **params):
        super().__init__(split, image_size=image_size, **params)

    @property
    def renderer(self):
        return partial(render_textured_scenes, clutter=self.clutter)

    def scene_params(self) -> dict:
        return self.clutter.params()


SOURCE = {"source": ("textured_scenes", "train"), "source_val": ("textured_scenes", "synthetic_val")}
register_benchmark("textured_scenes", **SOURCE, targets=(("textured_scenes", "mnistm"),))
register_benchmark("textured_scenes_design", **SOURCE, targets=())
