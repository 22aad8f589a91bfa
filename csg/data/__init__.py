"""Datasets of the book: the paper's real benchmarks and the offline syn-to-real benchmark.

Real benchmarks (data not shipped; see data/README.md):
    VisDA17     -- classification, 12 classes, synthetic "train" -> real "validation"
    GTA5        -- segmentation source, 19 Cityscapes train IDs
    Cityscapes  -- segmentation target, 19 train IDs, the 500 "val" frames

Offline benchmark (generated from what the package registries ship, cached):
    Digits      -- rendered digits -> real MNIST / MNIST-M-style digits, 10 classes
    DigitScenes -- scenes of rendered digits -> real digits on photographs, 11 classes
    TexturedScenes -- cluttered, textured 64-px scenes of one digit -> the same real scenes (CPU-sized)

Item formats (the same for real and offline datasets):
    classification  (PIL RGB image, int label); ``transform(image)``
    segmentation    (PIL RGB image, tv_tensors.Mask (H, W) int64, 255 = ignore);
                    ``transform(image, mask)`` -- see :mod:`csg.data.joint_transforms`

Switch datasets with one parameter through :func:`build_dataset`; each dataset and benchmark
is declared once, beside its class (:mod:`csg.data.registry`).
"""

from .arrays import ArrayClassificationDataset, ArraySegmentationDataset
from .cityscapes import Cityscapes
from .common import DatasetFormatError, DatasetNotFoundError, default_cache_dir, default_data_root
from .digit_scenes import SCENE_CLASSES, DigitScenes
from .digits import DIGIT_CLASSES, Digits
from .gta5 import GTA5
from .joint_transforms import RandomScale, as_mask, segmentation_tensor_transform, segmentation_train_transform
from .labels import CITYSCAPES_CLASSES, IGNORE_INDEX, label_ids_to_train_ids
from .registry import (
    BENCHMARKS,
    DATASETS,
    GENERATION_OPTIONS,
    Benchmark,
    benchmark,
    build_dataset,
    get_dataset,
    register_benchmark,
    register_dataset,
)
from .textured_scenes import TexturedScenes
from .visda import VISDA_CLASSES, VisDA17

__all__ = [
    "ArrayClassificationDataset",
    "ArraySegmentationDataset",
    "BENCHMARKS",
    "Benchmark",
    "DATASETS",
    "GENERATION_OPTIONS",
    "CITYSCAPES_CLASSES",
    "Cityscapes",
    "DIGIT_CLASSES",
    "DatasetFormatError",
    "DatasetNotFoundError",
    "DigitScenes",
    "Digits",
    "GTA5",
    "IGNORE_INDEX",
    "RandomScale",
    "SCENE_CLASSES",
    "TexturedScenes",
    "VISDA_CLASSES",
    "VisDA17",
    "as_mask",
    "benchmark",
    "build_dataset",
    "get_dataset",
    "register_benchmark",
    "register_dataset",
    "default_cache_dir",
    "default_data_root",
    "label_ids_to_train_ids",
    "segmentation_tensor_transform",
    "segmentation_train_transform",
]
