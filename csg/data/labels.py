"""Cityscapes label IDs and the 19 evaluated "train IDs" shared by GTA5 and Cityscapes.

GTA5 label maps are stored with Cityscapes label IDs (0-33), as are Cityscapes'
``*_gtFine_labelIds.png``. Evaluation (the paper's Table 5) uses the 19 classes below;
every other ID (void, license plate, classes ignored in evaluation, and any value
outside 0-33) maps to ``IGNORE_INDEX``.
"""

from __future__ import annotations

import numpy as np

IGNORE_INDEX = 255

# (label ID, class name) for the 19 evaluated classes, in train-ID order 0..18.
_EVALUATED = (
    (7, "road"),
    (8, "sidewalk"),
    (11, "building"),
    (12, "wall"),
    (13, "fence"),
    (17, "pole"),
    (19, "traffic light"),
    (20, "traffic sign"),
    (21, "vegetation"),
    (22, "terrain"),
    (23, "sky"),
    (24, "person"),
    (25, "rider"),
    (26, "car"),
    (27, "truck"),
    (28, "bus"),
    (31, "train"),
    (32, "motorcycle"),
    (33, "bicycle"),
)

CITYSCAPES_CLASSES: tuple[str, ...] = tuple(name for _, name in _EVALUATED)
NUM_CITYSCAPES_CLASSES = len(CITYSCAPES_CLASSES)

# Label IDs defined by Cityscapes (0 unlabeled ... 33 bicycle). Values above 33 do not
# occur in well-formed files; they are mapped to IGNORE_INDEX unless strict checking
# is asked for.
MAX_CITYSCAPES_LABEL_ID = 33


def _build_lut() -> np.ndarray:
    lut = np.full(256, IGNORE_INDEX, dtype=np.uint8)
    for train_id, (label_id, _) in enumerate(_EVALUATED):
        lut[label_id] = train_id
    return lut


# Lookup table: lut[label_id] = train ID (0..18) or 255.
LABEL_ID_TO_TRAIN_ID: np.ndarray = _build_lut()
LABEL_ID_TO_TRAIN_ID.setflags(write=False)


def label_ids_to_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """Map an array of Cityscapes label IDs (uint8) to train IDs (uint8, 255 = ignore)."""
    return LABEL_ID_TO_TRAIN_ID[np.asarray(label_ids, dtype=np.uint8)]


def unknown_label_ids(label_ids: np.ndarray) -> list[int]:
    """Values in ``label_ids`` that are not Cityscapes label IDs (i.e. above 33)."""
    values = np.unique(label_ids)
    return [int(v) for v in values if v > MAX_CITYSCAPES_LABEL_ID]


def invalid_train_ids(train_ids: np.ndarray) -> list[int]:
    """Values in a train-ID map that are neither 0..18 nor 255."""
    values = np.unique(train_ids)
    return [int(v) for v in values if v >= NUM_CITYSCAPES_CLASSES and v != IGNORE_INDEX]
