"""GTA5 ("Playing for Data", Richter et al. 2016): the synthetic source of Table 5.

Official layout (after unzipping ``01_images.zip`` ... ``10_labels.zip``)::

    <root>/images/00001.png ... 24966.png   1914x1052 RGB frames
    <root>/labels/00001.png ... 24966.png   palettised PNGs, index = Cityscapes label ID

Optional split lists written by ``data/fetch_gta5.sh`` from the authors' ``split.mat``
(train 12,403 / val 6,382 / test 6,181 frames): ``<root>/train.txt`` etc., one frame
per line as ``00001``, ``00001.png`` or ``images/00001.png``.

Labels: the PNG palette indices are read with PIL (they are the label IDs; OpenCV's
greyscale read converts the palette colours instead and returns wrong values), the 19
evaluated IDs become train IDs 0-18 and everything else 255 (see :mod:`.labels`).
IDs above 33 do not exist in Cityscapes; by default they become 255 like any
non-evaluated ID, and ``strict_labels=True`` turns them into an error naming the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image
from torch.utils.data import Dataset

from . import cityscapes  # noqa: F401  (registers the benchmark's target first)
from .common import DatasetFormatError, DatasetNotFoundError, open_rgb, read_label_indices, require_dir
from .joint_transforms import as_mask
from .labels import CITYSCAPES_CLASSES, IGNORE_INDEX, NUM_CITYSCAPES_CLASSES, label_ids_to_train_ids, unknown_label_ids
from .registry import register_benchmark, register_dataset

GTA5_SOURCE = "https://download.visinf.tu-darmstadt.de/data/from_games/ (data/fetch_gta5.sh)"
GTA5_LAYOUT = (
    "  <root>/images/NNNNN.png   RGB frames\n"
    "  <root>/labels/NNNNN.png   palettised label PNGs (index = Cityscapes label ID)\n"
    "  <root>/train.txt          optional split list, one 'NNNNN[.png]' per line"
)


def parse_split_list(list_file: Path) -> list[str]:
    """Read a GTA5 split list and return frame file names (``'00001.png'``).

    Accepted line forms: ``00001``, ``00001.png``, ``images/00001.png``. Blank lines are
    skipped; anything else raises :class:`DatasetFormatError` with the line number.
    """
    list_file = Path(list_file)
    if not list_file.is_file():
        raise DatasetNotFoundError(
            f"GTA5: split list not found: {list_file}\n"
            "Accepted: a text file with one frame per line ('00001', '00001.png' or "
            "'images/00001.png'); data/fetch_gta5.sh writes train.txt/val.txt/test.txt."
        )
    names: list[str] = []
    with open(list_file, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            text = line.strip()
            if not text:
                continue
            stem = text[len("images/") :] if text.startswith("images/") else text
            stem = stem[: -len(".png")] if stem.endswith(".png") else stem
            if not stem.isdigit():
                raise DatasetFormatError(
                    f"{list_file}, line {line_no}: {text!r} is not a GTA5 frame name "
                    "(accepted: '00001', '00001.png' or 'images/00001.png')"
                )
            names.append(f"{int(stem):05d}.png")
    if not names:
        raise DatasetFormatError(f"GTA5: split list {list_file} names no frames")
    return names


GTA5_SPLITS = ("all", "train", "val", "test")


@register_dataset("gta5", task="segmentation", splits=GTA5_SPLITS, class_names=CITYSCAPES_CLASSES)
class GTA5(Dataset):
    """GTA5 frames with 19-class train-ID label maps; items are ``(image, mask)``.

    Args:
        root: folder holding ``images/`` and ``labels/``.
        split_list: optional list file restricting and ordering the frames (e.g. the
            paper's 12,403-frame train split); ``None`` uses every frame in
            ``images/`` (sorted).
        transform: joint transform called as ``transform(image, mask)``.
        strict_labels: raise instead of mapping IDs above 33 to 255.
        size_mismatch: what to do when a frame and its label map differ in size,
            which the dataset's authors report for 60 frames: ``"resize"`` (default)
            resizes the frame (bilinear) to its label map, keeping the labels exact;
            ``"error"`` raises an error naming both files.

    Items follow the package's segmentation convention (see
    :mod:`csg.data.joint_transforms`): PIL RGB image and ``tv_tensors.Mask`` int64.
    """

    num_classes = NUM_CITYSCAPES_CLASSES
    class_names = CITYSCAPES_CLASSES
    ignore_index = IGNORE_INDEX

    @classmethod
    def from_split(cls, split, root, transform=None, **params):
        """``all``: every frame; ``train``/``val``/``test``: the split list ``<root>/<split>.txt``
        (written by ``data/fetch_gta5.sh``)."""
        split_list = None if split == "all" else Path(root) / f"{split}.txt"
        return cls(root, split_list=split_list, transform=transform, **params)

    def __init__(
        self,
        root: str | Path,
        split_list: str | Path | None = None,
        transform: Callable | None = None,
        strict_labels: bool = False,
        size_mismatch: str = "resize",
    ):
        if size_mismatch not in ("error", "resize"):
            raise ValueError(f"size_mismatch must be 'error' or 'resize'; got {size_mismatch!r}")
        self.root = Path(root)
        self.transform = transform
        self.strict_labels = strict_labels
        self.size_mismatch = size_mismatch
        require_dir(self.root, "GTA5", GTA5_LAYOUT, GTA5_SOURCE)
        self.image_dir = require_dir(self.root / "images", "GTA5", GTA5_LAYOUT, GTA5_SOURCE)
        self.label_dir = require_dir(self.root / "labels", "GTA5", GTA5_LAYOUT, GTA5_SOURCE)
        if split_list is not None:
            names = parse_split_list(Path(split_list))
        else:
            names = sorted(p.name for p in self.image_dir.glob("*.png"))
            if not names:
                raise DatasetNotFoundError(f"GTA5: no .png frames in {self.image_dir}\nExpected layout:\n{GTA5_LAYOUT}")
        self.names = names

    def __len__(self) -> int:
        return len(self.names)

    def load_label(self, name: str):
        """The train-ID map (uint8 array, 255 = ignore) of frame ``name``."""
        path = self.label_dir / name
        label_ids = read_label_indices(path)
        if self.strict_labels:
            unknown = unknown_label_ids(label_ids)
            if unknown:
                raise DatasetFormatError(
                    f"GTA5: label file {path} holds values {unknown} that are not "
                    "Cityscapes label IDs (accepted: 0..33)"
                )
        return label_ids_to_train_ids(label_ids)

    def __getitem__(self, index: int):
        name = self.names[index]
        image = open_rgb(self.image_dir / name)
        label = self.load_label(name)
        if image.size != (label.shape[1], label.shape[0]):
            if self.size_mismatch == "error":
                raise DatasetFormatError(
                    f"GTA5: frame {self.image_dir / name} is {image.size[0]}x{image.size[1]} "
                    f"but its label map {self.label_dir / name} is "
                    f"{label.shape[1]}x{label.shape[0]} (size_mismatch='resize' resizes such "
                    "frames to their label maps)"
                )
            image = image.resize((label.shape[1], label.shape[0]), Image.BILINEAR)
        mask = as_mask(label)
        if self.transform is not None:
            return self.transform(image, mask)
        return image, mask


register_benchmark("gta5", source=("gta5", "train"), source_val=("gta5", "val"), targets=(("cityscapes", "val"),))
