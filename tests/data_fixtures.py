"""Tiny on-disk copies of the real datasets' official layouts, for the loader tests.

Each builder reproduces the structure, file naming and encoding of the official
release (VisDA-2017 image lists; GTA5 palettised label PNGs; Cityscapes
leftImg8bit/gtFine trees) with a few small images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# A few Cityscapes label IDs with their official colours (what GTA5's palette holds).
CITYSCAPES_COLORS = {
    0: (0, 0, 0),  # unlabeled
    7: (128, 64, 128),  # road
    8: (244, 35, 232),  # sidewalk
    11: (70, 70, 70),  # building
    21: (107, 142, 35),  # vegetation
    23: (70, 130, 180),  # sky
    24: (220, 20, 60),  # person
    26: (0, 0, 142),  # car
    33: (119, 11, 32),  # bicycle
}


def cityscapes_palette() -> list[int]:
    """A 256-entry PIL palette: official colours where known, a distinct grey ramp elsewhere."""
    palette = []
    for index in range(256):
        palette += list(CITYSCAPES_COLORS.get(index, (index, 255 - index, (index * 7) % 256)))
    return palette


def save_palettised(path: Path, label_ids: np.ndarray) -> None:
    """Write ``label_ids`` as a palettised PNG whose indices are the IDs (GTA5's encoding)."""
    image = Image.fromarray(label_ids.astype(np.uint8), mode="P")
    image.putpalette(cityscapes_palette())
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def random_rgb(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    return rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


# ---------------------------------------------------------------------------- VisDA


VISDA_FIXTURE = {
    # split: [(relative path, label, greyscale?)]
    "train": [
        ("aeroplane/src_1_02691156_1.png", 0, False),
        ("bicycle/src_1_02834778_2.png", 1, False),
        ("truck/src_2_04467665_3.png", 11, True),
    ],
    "validation": [("aeroplane/n02690373_10.jpg", 0, False), ("person/n00007846_11.jpg", 7, True)],
}


def make_visda(root: Path, seed: int = 0) -> Path:
    """VisDA-2017 classification layout with the entries of :data:`VISDA_FIXTURE`."""
    rng = np.random.default_rng(seed)
    for split, entries in VISDA_FIXTURE.items():
        lines = []
        for rel, label, grey in entries:
            path = root / split / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            pixels = random_rgb(rng, 12, 16)
            image = Image.fromarray(pixels)
            if grey:
                image = image.convert("L")
            image.save(path)
            lines.append(f"{rel} {label}")
        (root / split / "image_list.txt").write_text("\n".join(lines) + "\n")
    return root


# ----------------------------------------------------------------------------- GTA5


def gta5_label_ids(index: int, height: int = 10, width: int = 14) -> np.ndarray:
    """Deterministic label-ID maps using evaluated, non-evaluated and unknown IDs."""
    ids = np.array([7, 8, 11, 21, 23, 24, 26, 33, 0, 1, 4, 30], dtype=np.uint8)
    grid = np.add.outer(np.arange(height), np.arange(width)) + index
    return ids[grid % len(ids)]


def make_gta5(root: Path, frames: int = 3, seed: int = 0) -> Path:
    """GTA5 layout: images/NNNNN.png (RGB), labels/NNNNN.png (palettised IDs), train.txt."""
    rng = np.random.default_rng(seed)
    for k in range(1, frames + 1):
        name = f"{k:05d}.png"
        (root / "images").mkdir(parents=True, exist_ok=True)
        Image.fromarray(random_rgb(rng, 10, 14)).save(root / "images" / name)
        save_palettised(root / "labels" / name, gta5_label_ids(k))
    # The three accepted line forms, out of order on purpose.
    (root / "train.txt").write_text("00003\n\nimages/00001.png\n")
    (root / "val.txt").write_text("00002.png\n")
    return root


# ----------------------------------------------------------------------- Cityscapes

CITYSCAPES_FRAMES = {
    "val": [
        ("frankfurt", "frankfurt_000000_000294"),
        ("frankfurt", "frankfurt_000000_000576"),
        ("lindau", "lindau_000000_000019"),
    ],
    "train": [("aachen", "aachen_000000_000019")],
}


def make_cityscapes(root: Path, with_train_ids: bool = False, seed: int = 0) -> Path:
    """Cityscapes layout with *_leftImg8bit.png and *_gtFine_labelIds.png (8-bit grey).

    ``with_train_ids`` also writes *_gtFine_labelTrainIds.png holding a constant 5 so a
    test can tell which file was read.
    """
    rng = np.random.default_rng(seed)
    for split, frames in CITYSCAPES_FRAMES.items():
        for k, (city, stem) in enumerate(frames):
            image_path = root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png"
            label_dir = root / "gtFine" / split / city
            image_path.parent.mkdir(parents=True, exist_ok=True)
            label_dir.mkdir(parents=True, exist_ok=True)
            Image.fromarray(random_rgb(rng, 8, 16)).save(image_path)
            ids = gta5_label_ids(k, 8, 16)
            Image.fromarray(ids, mode="L").save(label_dir / f"{stem}_gtFine_labelIds.png")
            if with_train_ids:
                Image.fromarray(np.full((8, 16), 5, np.uint8), mode="L").save(
                    label_dir / f"{stem}_gtFine_labelTrainIds.png"
                )
    return root


# A tiny run on a tiny generated benchmark (the engine's and the chapters' tests).
TINY = dict(
    dataset="digits",
    source_images=512,
    source_val_images=128,
    image_size=64,
    batch_size=16,
    train_size=64,
    eval_size=32,
    final_eval_size=32,
    epochs=1,
    warmup_iters=2,
    queue_size=256,
)
