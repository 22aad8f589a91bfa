"""Segmentation item convention and the joint (image + label map) transforms.

Convention for every segmentation dataset in ``csg.data`` (GTA5, Cityscapes,
digit scenes): an item is ``(image, mask)`` where ``image`` is a PIL RGB image and
``mask`` is a ``torchvision.tv_tensors.Mask`` of shape (H, W), dtype ``torch.int64``,
holding train IDs with ``IGNORE_INDEX = 255`` for pixels that are not scored. Being a
``Mask`` lets torchvision's v2 transforms treat it as a label map (nearest-neighbour
resizing, its own padding value) while applying the same geometry as to the image;
being int64 lets it go straight into ``CrossEntropyLoss(ignore_index=255)`` after the
default collate.

A dataset's ``transform`` is called as ``transform(image, mask)`` and must return the
pair, which every ``torchvision.transforms.v2`` transform does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image
from torchvision import tv_tensors
from torchvision.transforms import v2

from .labels import IGNORE_INDEX

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def as_mask(label_map: np.ndarray) -> tv_tensors.Mask:
    """Wrap an (H, W) integer label map as the package's segmentation label type."""
    label_map = np.asarray(label_map)
    if label_map.ndim != 2:
        raise ValueError(f"a label map must be 2-D (H, W); got shape {label_map.shape}")
    return tv_tensors.Mask(torch.from_numpy(label_map.astype(np.int64, copy=False)))


class RandomScale(v2.Transform):
    """Resize image and label map by one random factor drawn from ``scale_range``.

    The factor is relative to each image's own size (GTA5 and Cityscapes frames differ
    in size), which none of torchvision's stock resizers offers. The resizing itself
    is ``v2.functional.resize``: bilinear (antialiased) for the image, nearest-exact
    for a ``Mask``, which so keeps its label values.
    """

    def __init__(self, scale_range: Sequence[float] = (0.75, 1.25)):
        super().__init__()
        low, high = float(scale_range[0]), float(scale_range[1])
        if not 0 < low <= high:
            raise ValueError(f"scale_range must satisfy 0 < low <= high; got {scale_range}")
        self.scale_range = (low, high)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        sizes = {
            tuple(v2.functional.get_size(x))
            for x in flat_inputs
            if isinstance(x, (Image.Image, tv_tensors.Image, tv_tensors.Mask))
        }
        if len(sizes) != 1:
            raise ValueError(f"image and label map sizes differ: {sorted(sizes)}")
        height, width = sizes.pop()
        # torch's RNG, as torchvision's own random transforms use: torch.manual_seed
        # (per DataLoader worker, which PyTorch seeds) makes the draw reproducible.
        scale = float(torch.empty(1).uniform_(*self.scale_range))
        size = [max(1, round(height * scale)), max(1, round(width * scale))]
        return {"size": size}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if isinstance(inpt, tv_tensors.Mask):
            # "nearest-exact" samples at pixel centres, like the bilinear image resize;
            # plain "nearest" (torchvision's default for masks) shifts labels by up to
            # half a pixel against the image.
            return v2.functional.resize(inpt, params["size"], interpolation=v2.InterpolationMode.NEAREST_EXACT)
        if isinstance(inpt, (Image.Image, tv_tensors.Image)):
            return v2.functional.resize(inpt, params["size"], antialias=True)
        return inpt


def segmentation_train_transform(
    crop_size: int | Sequence[int], scale_range: Sequence[float] = (0.75, 1.25), hflip: bool = True
) -> v2.Compose:
    """The paper's segmentation training augmentation, applied jointly.

    Random scale in ``scale_range`` -> random crop of ``crop_size`` (padding the image
    with 0 and the label map with 255 where the scaled frame is smaller) -> random
    horizontal flip. Returns PIL image + Mask; compose with
    :func:`segmentation_tensor_transform` for a normalised float tensor.
    """
    steps: list[v2.Transform] = [
        RandomScale(scale_range),
        v2.RandomCrop(crop_size, pad_if_needed=True, fill={tv_tensors.Mask: IGNORE_INDEX, "others": 0}),
    ]
    if hflip:
        steps.append(v2.RandomHorizontalFlip(p=0.5))
    return v2.Compose(steps)


def segmentation_tensor_transform(
    mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD
) -> v2.Compose:
    """PIL image -> normalised float32 tensor (C, H, W); the Mask passes unchanged."""
    return v2.Compose(
        [
            v2.ToImage(),
            v2.ToDtype({tv_tensors.Image: torch.float32, "others": None}, scale=True),
            v2.Normalize(mean=list(mean), std=list(std)),
        ]
    )
