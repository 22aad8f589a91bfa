"""Datasets over in-memory (or memory-mapped) uint8 arrays, with the real datasets' items.

The offline benchmark produces arrays; these wrappers give them exactly the item
format of VisDA17 (classification) and GTA5/Cityscapes (segmentation), so code that
works on one works on the other. The arrays stay reachable as ``.images`` and
``.labels`` for engines that batch straight from them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from .joint_transforms import as_mask
from .labels import IGNORE_INDEX


class _ArrayDataset(Dataset):
    """What both array datasets share: uint8 (N, H, W, 3) images, labels of a given shape."""

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        label_shape: tuple,
        class_names: Sequence[str],
        transform: Callable | None = None,
        meta: dict | None = None,
    ):
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 (N, H, W, 3); got {images.dtype} {images.shape}")
        if labels.shape != label_shape:
            raise ValueError(f"labels must have shape {label_shape}; got {labels.shape}")
        self.images = images
        self.labels = labels
        self.class_names = tuple(class_names)
        self.num_classes = len(self.class_names)
        self.transform = transform
        self.meta = meta or {}

    def __len__(self) -> int:
        return len(self.images)


class ArrayClassificationDataset(_ArrayDataset):
    """Items ``(PIL RGB image, int label)``; ``transform`` applies to the image.

    Attributes:
        images: uint8 (N, H, W, 3).
        labels: int64 (N,).
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        class_names: Sequence[str],
        transform: Callable | None = None,
        meta: dict | None = None,
    ):
        super().__init__(images, labels, (len(images),), class_names, transform, meta)

    @property
    def targets(self) -> list[int]:
        """Labels as a list, as torchvision's classification datasets expose them."""
        return [int(v) for v in self.labels]

    def __getitem__(self, index: int):
        image = Image.fromarray(np.asarray(self.images[index]))
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])


class ArraySegmentationDataset(_ArrayDataset):
    """Items ``(PIL RGB image, tv_tensors.Mask int64)``; ``transform(image, mask)`` jointly.

    Attributes:
        images: uint8 (N, H, W, 3).
        labels: uint8 (N, H, W) label maps (``ignore_index`` = 255 where unscored).
    """

    ignore_index = IGNORE_INDEX

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        class_names: Sequence[str],
        transform: Callable | None = None,
        meta: dict | None = None,
    ):
        super().__init__(images, labels, images.shape[:3], class_names, transform, meta)

    def __getitem__(self, index: int):
        image = Image.fromarray(np.asarray(self.images[index]))
        mask = as_mask(np.asarray(self.labels[index]))
        if self.transform is not None:
            return self.transform(image, mask)
        return image, mask
