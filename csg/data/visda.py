"""VisDA-2017 classification (synthetic renders -> real photographs), as the paper uses it.

Official layout (after extracting ``train.tar`` and ``validation.tar``)::

    <root>/train/image_list.txt          "aeroplane/src_1_02691156_xxx__y.png 0"
    <root>/train/<class>/<file>.png      152,397 synthetic renders
    <root>/validation/image_list.txt     "aeroplane/n02690373_xxx.jpg 0"
    <root>/validation/<class>/<file>.jpg 55,388 real photographs (MS-COCO crops)

Each list line is ``<path relative to root/<split>/> <label>``, label 0-11 in the
order of :data:`VISDA_CLASSES`. Some images are greyscale; items are always RGB.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from .common import DatasetFormatError, DatasetNotFoundError, open_rgb, require_dir
from .registry import register_benchmark, register_dataset

VISDA_CLASSES = (
    "aeroplane",
    "bicycle",
    "bus",
    "car",
    "horse",
    "knife",
    "motorcycle",
    "person",
    "plant",
    "skateboard",
    "train",
    "truck",
)
# "train" and "synthetic_val" partition the official train split: a fixed, seeded 2 % of its
# renders is held out for target-free model and λ selection ("train_full" is all of it).
VISDA_SPLITS = ("train", "synthetic_val", "train_full", "validation")
HELD_OUT_FRACTION = 0.02
HELD_OUT_SEED = 2017
VISDA_SOURCE = "http://ai.bu.edu/visda-2017/ (classification track; data/fetch_visda17.sh)"
VISDA_LAYOUT = (
    "  <root>/train/image_list.txt         lines '<relative/path> <label 0-11>'\n"
    "  <root>/train/<class>/*.png\n"
    "  <root>/validation/image_list.txt\n"
    "  <root>/validation/<class>/*.jpg"
)


def parse_image_list(list_file: Path, num_classes: int) -> list[tuple[str, int]]:
    """Parse an ``image_list.txt``: one ``relative/path label`` per non-blank line.

    Raises :class:`DatasetFormatError` naming the file and line number when a line
    does not have exactly two fields or its label is not an integer in
    ``0..num_classes-1``.
    """
    entries: list[tuple[str, int]] = []
    with open(list_file, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue  # tolerate blank lines (e.g. a trailing newline)
            where = f"{list_file}, line {line_no}"
            if len(fields) != 2:
                raise DatasetFormatError(
                    f"{where}: expected '<relative/path> <label>' (2 fields), got "
                    f"{len(fields)} field(s): {line.rstrip()!r}"
                )
            path, label_text = fields
            try:
                label = int(label_text)
            except ValueError:
                raise DatasetFormatError(
                    f"{where}: label {label_text!r} is not an integer (accepted: 0..{num_classes - 1})"
                ) from None
            if not 0 <= label < num_classes:
                raise DatasetFormatError(f"{where}: label {label} out of range (accepted: 0..{num_classes - 1})")
            entries.append((path, label))
    return entries


def held_out_indices(n: int) -> list[int]:
    """The held-out renders among ``n``: a fixed, seeded draw of 2 % of them (at least one)."""
    count = max(1, round(n * HELD_OUT_FRACTION))
    return sorted(np.random.default_rng(HELD_OUT_SEED).permutation(n)[:count].tolist())


@register_dataset("visda17", task="classification", splits=VISDA_SPLITS, class_names=VISDA_CLASSES)
class VisDA17(Dataset):
    """VisDA-2017 classification split; items are ``(image, label)``.

    Args:
        root: folder holding ``train/`` and ``validation/``.
        split: ``"train"`` (the synthetic source, less the held-out renders),
            ``"synthetic_val"`` (the held-out renders: 2 % of the official train split,
            drawn once with a fixed seed), ``"train_full"`` (the official train split,
            all 152,397 renders, as the paper trains) or ``"validation"`` (real target).
        transform: applied to the PIL RGB image; ``None`` returns the PIL image.

    Images are opened lazily; a missing or unreadable one raises an error naming it.
    """

    num_classes = len(VISDA_CLASSES)
    class_names = VISDA_CLASSES

    @classmethod
    def from_split(cls, split, root, transform=None, **params):
        return cls(root, split=split, transform=transform, **params)

    def __init__(self, root: str | Path, split: str = "train", transform: Callable | None = None):
        if split not in VISDA_SPLITS:
            raise ValueError(f"VisDA17: unknown split {split!r}; accepted: {VISDA_SPLITS}")
        self.root = Path(root)
        self.split = split
        self.transform = transform
        require_dir(self.root, "VisDA17", VISDA_LAYOUT, VISDA_SOURCE)
        folder = "validation" if split == "validation" else "train"
        split_dir = require_dir(self.root / folder, "VisDA17", VISDA_LAYOUT, VISDA_SOURCE)
        list_file = split_dir / "image_list.txt"
        if not list_file.is_file():
            raise DatasetNotFoundError(
                f"VisDA17: list file not found: {list_file}\nExpected layout:\n"
                f"{VISDA_LAYOUT}\nGet the data from: {VISDA_SOURCE}."
            )
        self.split_dir = split_dir
        self.samples = parse_image_list(list_file, self.num_classes)
        if not self.samples:
            raise DatasetFormatError(f"VisDA17: {list_file} lists no images")
        if split in ("train", "synthetic_val"):
            held_out = held_out_indices(len(self.samples))
            keep = held_out if split == "synthetic_val" else sorted(set(range(len(self.samples))) - set(held_out))
            self.samples = [self.samples[i] for i in keep]
        self.targets = [label for _, label in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        relative_path, label = self.samples[index]
        image = open_rgb(self.split_dir / relative_path)
        if self.transform is not None:
            image = self.transform(image)
        return image, label


register_benchmark(
    "visda17",
    source=("visda17", "train"),
    source_val=("visda17", "synthetic_val"),
    targets=(("visda17", "validation"),),
)
