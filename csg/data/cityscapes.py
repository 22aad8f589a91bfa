"""Cityscapes (Cordts et al. 2016): the real target of Table 5 (500 ``val`` frames).

Official layout (``leftImg8bit_trainvaltest.zip`` + ``gtFine_trainvaltest.zip``)::

    <root>/leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    <root>/gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png

``*_gtFine_labelIds.png`` hold Cityscapes label IDs, mapped here to the 19 train IDs
(255 = ignore). When ``*_gtFine_labelTrainIds.png`` (written by the cityscapesScripts
``createTrainIdLabelImgs`` tool) is present it is used as it is; its values must be
0-18 or 255.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from torch.utils.data import Dataset

from .common import DatasetFormatError, DatasetNotFoundError, open_rgb, read_label_indices, require_dir
from .joint_transforms import as_mask
from .labels import (
    CITYSCAPES_CLASSES,
    IGNORE_INDEX,
    NUM_CITYSCAPES_CLASSES,
    invalid_train_ids,
    label_ids_to_train_ids,
    unknown_label_ids,
)
from .registry import register_dataset

CITYSCAPES_SPLITS = ("train", "val")
CITYSCAPES_SOURCE = (
    "https://www.cityscapes-dataset.com/downloads/ (free registration; "
    "leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip; data/fetch_cityscapes.sh)"
)
CITYSCAPES_LAYOUT = (
    "  <root>/leftImg8bit/<split>/<city>/*_leftImg8bit.png\n"
    "  <root>/gtFine/<split>/<city>/*_gtFine_labelIds.png  (or *_gtFine_labelTrainIds.png)"
)
_IMAGE_SUFFIX = "_leftImg8bit.png"


@register_dataset("cityscapes", task="segmentation", splits=CITYSCAPES_SPLITS, class_names=CITYSCAPES_CLASSES)
class Cityscapes(Dataset):
    """Cityscapes fine annotations as 19-class train-ID maps; items are ``(image, mask)``.

    Args:
        root: folder holding ``leftImg8bit/`` and ``gtFine/``.
        split: ``"val"`` (the paper's evaluation set) or ``"train"``. The public test
            split has no labels and is not offered.
        transform: joint transform called as ``transform(image, mask)``.
        strict_labels: raise instead of mapping label IDs above 33 to 255.

    Frames are listed at construction (sorted by city, then file name); a frame without
    a label file raises an error naming both paths.
    """

    num_classes = NUM_CITYSCAPES_CLASSES
    class_names = CITYSCAPES_CLASSES
    ignore_index = IGNORE_INDEX

    @classmethod
    def from_split(cls, split, root, transform=None, **params):
        return cls(root, split=split, transform=transform, **params)

    def __init__(
        self, root: str | Path, split: str = "val", transform: Callable | None = None, strict_labels: bool = False
    ):
        if split not in CITYSCAPES_SPLITS:
            raise ValueError(
                f"Cityscapes: unknown split {split!r}; accepted: {CITYSCAPES_SPLITS} "
                "(the public test split has no labels)"
            )
        self.root = Path(root)
        self.split = split
        self.transform = transform
        self.strict_labels = strict_labels
        args = ("Cityscapes", CITYSCAPES_LAYOUT, CITYSCAPES_SOURCE)
        require_dir(self.root, *args)
        image_dir = require_dir(self.root / "leftImg8bit" / split, *args)
        label_dir = require_dir(self.root / "gtFine" / split, *args)

        self.samples: list[tuple[Path, Path, bool]] = []  # (image, label, is_train_ids)
        for image_path in sorted(image_dir.glob(f"*/*{_IMAGE_SUFFIX}")):
            city = image_path.parent.name
            stem = image_path.name[: -len(_IMAGE_SUFFIX)]
            train_ids = label_dir / city / f"{stem}_gtFine_labelTrainIds.png"
            label_ids = label_dir / city / f"{stem}_gtFine_labelIds.png"
            if train_ids.is_file():
                self.samples.append((image_path, train_ids, True))
            elif label_ids.is_file():
                self.samples.append((image_path, label_ids, False))
            else:
                raise DatasetNotFoundError(
                    f"Cityscapes: no label file for {image_path}; expected {label_ids} (or {train_ids.name})"
                )
        if not self.samples:
            raise DatasetNotFoundError(
                f"Cityscapes: no '*{_IMAGE_SUFFIX}' files under {image_dir}/<city>/\n"
                f"Expected layout:\n{CITYSCAPES_LAYOUT}\nGet the data from: {CITYSCAPES_SOURCE}."
            )

    def __len__(self) -> int:
        return len(self.samples)

    def load_label(self, index: int):
        """The train-ID map (uint8 array, 255 = ignore) of frame ``index``."""
        _, path, is_train_ids = self.samples[index]
        values = read_label_indices(path)
        if is_train_ids:
            bad = invalid_train_ids(values)
            if bad:
                raise DatasetFormatError(
                    f"Cityscapes: train-ID file {path} holds values {bad} "
                    f"(accepted: 0..{NUM_CITYSCAPES_CLASSES - 1} and {IGNORE_INDEX})"
                )
            return values
        if self.strict_labels:
            unknown = unknown_label_ids(values)
            if unknown:
                raise DatasetFormatError(
                    f"Cityscapes: label file {path} holds values {unknown} that are not "
                    "Cityscapes label IDs (accepted: 0..33)"
                )
        return label_ids_to_train_ids(values)

    def __getitem__(self, index: int):
        image_path, label_path, _ = self.samples[index]
        image = open_rgb(image_path)
        label = self.load_label(index)
        if image.size != (label.shape[1], label.shape[0]):
            raise DatasetFormatError(
                f"Cityscapes: image {image_path} is {image.size[0]}x{image.size[1]} but "
                f"its label map {label_path} is {label.shape[1]}x{label.shape[0]}"
            )
        mask = as_mask(label)
        if self.transform is not None:
            return self.transform(image, mask)
        return image, mask
