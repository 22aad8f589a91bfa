"""Rendering primitives of the offline synthetic source: fonts, glyphs, backgrounds.

The synthetic domain follows the spirit of SynDigits: digits typeset from font files,
randomly sized, placed, rotated, sheared and thickened, coloured, put on procedural
backgrounds (solid, gradient, smooth noise, periodic texture; never photographs, which
belong to the real targets), then blurred and noised.

Speed: every glyph is rasterised once per (font, stroke width) at a reference size;
an image then costs one PIL affine warp of that cached mask (scale, rotation, shear
and translation in a single resampling), and the backgrounds and compositing are
vectorised with numpy over a whole chunk of images.

Determinism: all randomness comes from a ``numpy.random.Generator`` passed in. The
float arithmetic is elementwise (+ - * / sqrt, no vectorised sin/exp and no BLAS), so
the result does not depend on which SIMD code path a CPU takes; it does depend on the
versions of numpy, Pillow (and its FreeType) and of the font files.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# Glyphs are rasterised at this font size and later warped down; large enough that the
# warp (which only shrinks at our image sizes) stays smooth.
REFERENCE_FONT_SIZE = 56
# Extra stroke widths (PIL's stroke_width, pixels at the reference size) that thicken
# the glyphs; 0 keeps the font's own weight.
STROKE_WIDTHS = (0, 1, 2, 4)

_SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts")


# --------------------------------------------------------------------------- fonts


def font_has_digits(path: str | Path) -> bool:
    """True if the font maps '0'-'9' to glyphs named as digits.

    Checking the glyph *names* (``zero`` ... ``nine``, possibly with a suffix such as
    ``zerooldstyle``, or ``uni0030``) rejects fonts that lack the digits
    (DejaVu Display, STIX size variants), symbol fonts that put other glyphs at those
    code points (Computer Modern ``cmex10``/``cmsy10``) and fallback fonts that draw
    one placeholder for everything (Last Resort).
    """
    from matplotlib import ft2font  # FreeType bindings shipped with matplotlib

    try:
        font = ft2font.FT2Font(str(path))
        charmap = font.get_charmap()
        for digit, word in enumerate(DIGIT_WORDS):
            code = ord("0") + digit
            if code not in charmap:
                return False
            name = font.get_glyph_name(charmap[code]).lower()
            if not (name.startswith(word) or name == f"uni{code:04x}"):
                return False
        return True
    except (RuntimeError, OSError, ValueError):
        return False


def _font_identity(path: Path) -> tuple[str, str]:
    from matplotlib import ft2font

    font = ft2font.FT2Font(str(path))
    return (font.family_name, font.style_name)


def matplotlib_font_files() -> list[Path]:
    """The .ttf files shipped with matplotlib (DejaVu, STIX, Computer Modern, ...)."""
    import matplotlib

    return sorted(Path(matplotlib.get_data_path(), "fonts", "ttf").glob("*.ttf"))


def system_font_files() -> list[Path]:
    """TrueType/OpenType files found in the usual system font folders (may be empty)."""
    files: list[Path] = []
    for folder in _SYSTEM_FONT_DIRS:
        root = Path(os.path.expanduser(folder))
        if root.is_dir():
            files += [p for p in root.rglob("*") if p.suffix.lower() in (".ttf", ".otf")]
    return sorted(files)


def digit_fonts(system_fonts: bool = False) -> list[Path]:
    """Font files usable for rendering digits, deduplicated by (family, style).

    Matplotlib's fonts always come first, so the default set (``system_fonts=False``)
    is the same on every machine with the same matplotlib; system fonts add variety
    but make the data depend on the machine.
    """
    candidates = matplotlib_font_files() + (system_font_files() if system_fonts else [])
    seen: set[tuple[str, str]] = set()
    fonts: list[Path] = []
    for path in candidates:
        if not font_has_digits(path):
            continue
        identity = _font_identity(path)
        if identity in seen:
            continue
        seen.add(identity)
        fonts.append(path)
    if not fonts:
        raise RuntimeError("no font with digit glyphs found (matplotlib's fonts missing?)")
    return fonts


# -------------------------------------------------------------------------- glyphs


@dataclass
class GlyphBank:
    """Tight-cropped digit masks, ``masks[font][stroke][digit]`` (PIL "L" images)."""

    fonts: tuple[str, ...]
    masks: list[list[list[Image.Image]]] = field(default_factory=list)

    @classmethod
    def build(cls, fonts: list[Path]) -> GlyphBank:
        bank = cls(fonts=tuple(str(f) for f in fonts))
        for font_path in fonts:
            font = ImageFont.truetype(str(font_path), REFERENCE_FONT_SIZE)
            per_stroke = []
            for stroke in STROKE_WIDTHS:
                per_digit = []
                for digit in range(10):
                    canvas = Image.new("L", (3 * REFERENCE_FONT_SIZE, 3 * REFERENCE_FONT_SIZE), 0)
                    ImageDraw.Draw(canvas).text(
                        (REFERENCE_FONT_SIZE // 2, REFERENCE_FONT_SIZE // 2),
                        str(digit),
                        font=font,
                        fill=255,
                        stroke_width=stroke,
                        stroke_fill=255,
                    )
                    box = canvas.getbbox()
                    if box is None:
                        raise RuntimeError(f"font {font_path} renders an empty '{digit}'")
                    per_digit.append(canvas.crop(box))
                per_stroke.append(per_digit)
            bank.masks.append(per_stroke)
        return bank

    @property
    def num_fonts(self) -> int:
        return len(self.masks)


_BANKS: dict[tuple[str, ...], GlyphBank] = {}


def rendered_params(seed: int, image_size: int, n: int, system_fonts: bool) -> dict:
    """The parameters that decide a rendered split's arrays (its cache key), fonts included."""
    return {"seed": seed, "image_size": image_size, "n": n, "fonts": [Path(f).name for f in digit_fonts(system_fonts)]}


def glyph_bank(fonts: list[Path]) -> GlyphBank:
    """A per-process cached :class:`GlyphBank` for ``fonts`` (workers inherit it on fork)."""
    key = tuple(str(f) for f in fonts)
    if key not in _BANKS:
        _BANKS[key] = GlyphBank.build(fonts)
    return _BANKS[key]


def warp_glyph(
    glyph: Image.Image,
    out_size: tuple[int, int],
    height: float,
    aspect: float,
    angle_deg: float,
    shear: float,
    center: tuple[float, float],
) -> np.ndarray:
    """Place ``glyph`` into an ``out_size`` (W, H) canvas with one affine warp.

    The glyph is scaled so its height is ``height`` pixels (width additionally scaled by
    ``aspect``), sheared by ``shear`` (x += shear * y), rotated by ``angle_deg``
    (counter-clockwise) and centred at ``center`` (x, y). Returns the (H, W) uint8
    coverage mask (bilinear resampling, so edges are anti-aliased).
    """
    gw, gh = glyph.size
    scale_y = height / gh
    scale_x = scale_y * aspect
    cos, sin = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    # Forward map (glyph centre -> output): out = C + R @ Sh @ S @ (p - g_centre).
    # Image y points down, so a counter-clockwise rotation on screen uses -angle.
    r00, r01, r10, r11 = cos, sin, -sin, cos
    # A = R @ Sh @ S with Sh = [[1, shear], [0, 1]], S = diag(scale_x, scale_y).
    a00 = r00 * scale_x
    a01 = (r00 * shear + r01) * scale_y
    a10 = r10 * scale_x
    a11 = (r10 * shear + r11) * scale_y
    det = a00 * a11 - a01 * a10
    # PIL wants the inverse map (output -> glyph): p = A^-1 (out - C) + g_centre.
    i00, i01, i10, i11 = a11 / det, -a01 / det, -a10 / det, a00 / det
    cx, cy = center
    gx, gy = gw / 2.0, gh / 2.0
    coeffs = (i00, i01, gx - i00 * cx - i01 * cy, i10, i11, gy - i10 * cx - i11 * cy)
    warped = glyph.transform(out_size, Image.AFFINE, coeffs, resample=Image.BILINEAR)
    return np.asarray(warped)


# --------------------------------------------------------------------- backgrounds


def random_colors(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random RGB colours in [0, 1], float32 (n, 3)."""
    return rng.random((n, 3), dtype=np.float32)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of RGB values in [0, 1] (last axis = channels)."""
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _unit_directions(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random 2-D unit vectors (n, 2), from normalised Gaussians (no trigonometry)."""
    v = rng.standard_normal((n, 2)).astype(np.float32)
    norm = np.sqrt((v * v).sum(axis=1, keepdims=True))
    return v / np.maximum(norm, 1e-6)


def _coordinate_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in [0, 1], shapes (1, h, w)."""
    ys = ((np.arange(h, dtype=np.float32) + 0.5) / h)[None, :, None]
    xs = ((np.arange(w, dtype=np.float32) + 0.5) / w)[None, None, :]
    return np.broadcast_to(ys, (1, h, w)), np.broadcast_to(xs, (1, h, w))


def linear_ramps(rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
    """Per-image linear ramps in [0, 1] along a random direction, float32 (n, h, w)."""
    ys, xs = _coordinate_grid(h, w)
    d = _unit_directions(rng, n)
    t = xs * d[:, 0, None, None] + ys * d[:, 1, None, None]
    # A linear function's extremes over the grid lie at its corner pixels.
    corners = t[:, [0, 0, -1, -1], [0, -1, 0, -1]]
    t_min = corners.min(axis=1)[:, None, None]
    t_max = corners.max(axis=1)[:, None, None]
    t -= t_min
    t /= np.maximum(t_max - t_min, 1e-6)
    return t


def smooth_noise(rng: np.random.Generator, n: int, h: int, w: int, cells: int) -> np.ndarray:
    """Value noise: a random ``cells`` x ``cells`` grid bilinearly upsampled, (n, h, w).

    Separable: interpolate the small grid along x first, then the result along y, so
    only two gathers touch full-size arrays.
    """
    grid = rng.random((n, cells + 1, cells + 1), dtype=np.float32)
    fy = (np.arange(h, dtype=np.float32) + 0.5) / h * cells
    fx = (np.arange(w, dtype=np.float32) + 0.5) / w * cells
    y0, x0 = fy.astype(np.int64), fx.astype(np.int64)
    wy, wx = (fy - y0)[None, :, None], (fx - x0)[None, None, :]
    rows = grid[:, :, x0] * (1 - wx) + grid[:, :, x0 + 1] * wx  # (n, cells + 1, w)
    return rows[:, y0] * (1 - wy) + rows[:, y0 + 1] * wy


def periodic_texture(rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
    """Stripes, plaids and checkerboards from triangle waves, values in [0, 1], (n, h, w)."""
    ys, xs = _coordinate_grid(h, w)

    def triangle_wave() -> np.ndarray:
        d = _unit_directions(rng, n)
        freq = rng.uniform(2.0, 10.0, size=n).astype(np.float32)[:, None, None]
        phase = rng.random(n, dtype=np.float32)[:, None, None]
        t = (xs * d[:, 0, None, None] + ys * d[:, 1, None, None]) * freq + phase
        return np.abs(2.0 * (t - np.floor(t)) - 1.0)  # 0..1..0 per period

    first, second = triangle_wave(), triangle_wave()
    style = rng.integers(0, 3, size=n)[:, None, None]
    plaid = 0.5 * (first + second)
    checker = ((first > 0.5) ^ (second > 0.5)).astype(np.float32)
    return np.where(style == 0, first, np.where(style == 1, plaid, checker))


BACKGROUND_KINDS = ("solid", "gradient", "noise", "texture")


def procedural_backgrounds(rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
    """``n`` procedural backgrounds, float32 (n, h, w, 3) in [0, 1], kinds mixed equally.

    Every kind blends two random colours with a per-pixel weight field: constant
    (solid), a linear ramp (gradient), two octaves of value noise (noise) or a periodic
    pattern (texture); a little fine-grained value noise is added to all but solids.
    """
    kind = rng.integers(0, len(BACKGROUND_KINDS), size=n)
    c1, c2 = random_colors(rng, n), random_colors(rng, n)
    weight = np.zeros((n, h, w), dtype=np.float32)
    for k, name in enumerate(BACKGROUND_KINDS):
        idx = np.flatnonzero(kind == k)
        if idx.size == 0:
            continue
        if name == "gradient":
            weight[idx] = linear_ramps(rng, idx.size, h, w)
        elif name == "noise":
            coarse = smooth_noise(rng, idx.size, h, w, cells=int(rng.integers(2, 5)))
            fine = smooth_noise(rng, idx.size, h, w, cells=int(rng.integers(6, 13)))
            weight[idx] = 0.65 * coarse + 0.35 * fine
        elif name == "texture":
            weight[idx] = periodic_texture(rng, idx.size, h, w)
    textured = np.flatnonzero(kind != 0)
    weight[textured] += 0.15 * (smooth_noise(rng, textured.size, h, w, cells=max(4, h // 3)) - 0.5)
    np.clip(weight, 0.0, 1.0, out=weight)
    out = np.empty((n, h, w, 3), dtype=np.float32)
    np.multiply(weight[..., None], (c2 - c1)[:, None, None, :], out=out)
    out += c1[:, None, None, :]
    return out


def contrasting_colors(rng: np.random.Generator, background_mean: np.ndarray, min_contrast: float) -> np.ndarray:
    """Random colours whose luma differs from ``background_mean`` (n, 3) by >= min_contrast.

    Colours too close in luma are pushed to the far side (dark on light backgrounds,
    light on dark ones), keeping their hue; the digit must stay legible for the label
    to be meaningful.
    """
    colors = random_colors(rng, len(background_mean))
    bg_luma = luminance(background_mean)
    luma = luminance(colors)
    too_close = np.abs(luma - bg_luma) < min_contrast
    target = np.where(
        bg_luma > 0.5,
        bg_luma - min_contrast - 0.2 * rng.random(len(colors)),
        bg_luma + min_contrast + 0.2 * rng.random(len(colors)),
    )
    shift = (target - luma).astype(np.float32)[:, None]
    colors = np.where(too_close[:, None], np.clip(colors + shift, 0.0, 1.0), colors)
    return colors.astype(np.float32)


def add_noise(rng: np.random.Generator, images: np.ndarray, probability: float, std_range: tuple[float, float]) -> None:
    """Add zero-mean pixel noise in place to a random ``probability`` share of ``images``.

    The noise is uniform with a per-image standard deviation drawn from ``std_range``
    (uniform rather than Gaussian because it is 3-4x cheaper to draw, and at these
    amplitudes the two look alike).
    """
    noisy = np.flatnonzero(rng.random(len(images)) < probability)
    std = rng.uniform(*std_range, size=noisy.size).astype(np.float32)
    half_width = (std * np.float32(math.sqrt(3.0)))[:, None, None, None]
    noise = rng.random((noisy.size,) + images.shape[1:], dtype=np.float32)
    noise -= 0.5
    noise *= 2 * half_width
    images[noisy] += noise


def gaussian_blur(image: np.ndarray, radius: float) -> np.ndarray:
    """Blur an (H, W, 3) uint8 image with PIL's Gaussian blur (radius in pixels)."""
    if radius <= 0:
        return image
    return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(float(radius))))


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8 with rounding (works in place on ``images``)."""
    np.clip(images, 0.0, 1.0, out=images)
    images *= 255.0
    images += 0.5
    return images.astype(np.uint8)


def mean_color(images: np.ndarray, step: int = 4) -> np.ndarray:
    """Approximate per-image mean colour (n, 3) from every ``step``-th pixel."""
    return images[:, ::step, ::step].mean(axis=(1, 2))
