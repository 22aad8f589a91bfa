"""Storage of the offline benchmark: the .npy memory maps we use against Hugging Face
``datasets`` (Arrow on disk, ``ClassLabel`` names, ``load_from_disk``), side by side in one run.

    python data/storage_bench.py --out results/bench/storage-digits.json

Times, on the digits training split (50,000 renderings): writing each store, opening it,
and one training epoch's input pipeline (4,000 shuffled items through the engine's
baseline transform, batches of 32, in the main process), three times each. The Arrow
reader is tried item by item and a batch at a time (one Arrow read per batch).
"""

import argparse
import json
import tempfile
import time

import datasets
import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Subset

from csg.backbones import build_backbone
from csg.config import Config
from csg.data import DIGIT_CLASSES, Digits, benchmark
from csg.data.arrays import ArrayClassificationDataset
from csg.records import provenance, write_json
from csg.runtime import resolve_device
from csg.views import train_transform


class ArrowItems(Dataset):
    """The Arrow store as the engine's datasets look: (transformed image, label)."""

    def __init__(self, table, transform):
        self.table, self.transform = table, transform

    def __len__(self):
        return len(self.table)

    def _item(self, image, label):
        return self.transform(Image.fromarray(np.asarray(image, dtype=np.uint8))), int(label)

    def __getitem__(self, i):
        row = self.table[int(i)]
        return self._item(row["image"], row["label"])


class ArrowBatches(ArrowItems):
    def __getitems__(self, indices):  # the DataLoader asks for a whole batch: one Arrow read
        rows = self.table[[int(i) for i in indices]]
        return [self._item(im, y) for im, y in zip(rows["image"], rows["label"])]


class BatchedSubset(Subset):
    def __getitems__(self, indices):
        return self.dataset.__getitems__([self.indices[i] for i in indices])


def time_storage(folder: str, images, labels, transform, n: int, repeats: int) -> dict:
    """Seconds to write, open and read an epoch of ``images`` as .npy memory maps and as Arrow (items, batches)."""
    times = {}

    def timed(name, fn):
        start = time.perf_counter()
        value = fn()
        times.setdefault(name, []).append(round(time.perf_counter() - start, 4))
        return value

    features = datasets.Features(
        {"image": datasets.Array3D(images.shape[1:], "uint8"), "label": datasets.ClassLabel(names=list(DIGIT_CLASSES))}
    )
    timed(
        "write_arrow_s",
        lambda: datasets.Dataset.from_dict({"image": images, "label": labels}, features=features).save_to_disk(
            f"{folder}/arrow"
        ),
    )
    timed("write_npy_s", lambda: (np.save(f"{folder}/images.npy", images), np.save(f"{folder}/labels.npy", labels)))
    for _ in range(repeats):
        npy = timed(
            "open_npy_s",
            lambda: ArrayClassificationDataset(
                np.load(f"{folder}/images.npy", mmap_mode="r"),
                np.load(f"{folder}/labels.npy", mmap_mode="r"),
                DIGIT_CLASSES,
                transform,
            ),
        )
        arrow = timed("open_arrow_s", lambda: datasets.load_from_disk(f"{folder}/arrow").with_format("numpy"))
        times.setdefault("epoch_npy_s", []).append(round(epoch_seconds(npy, n), 3))
        times.setdefault("epoch_arrow_items_s", []).append(round(epoch_seconds(ArrowItems(arrow, transform), n), 3))
        times.setdefault("epoch_arrow_batches_s", []).append(round(epoch_seconds(ArrowBatches(arrow, transform), n), 3))
    return times


def epoch_seconds(dataset, n: int) -> float:
    idx = np.random.default_rng(0).permutation(len(dataset))[:n].tolist()
    subset = (BatchedSubset if hasattr(dataset, "__getitems__") else Subset)(dataset, idx)
    start = time.perf_counter()
    for _ in DataLoader(subset, 32, shuffle=True, drop_last=True):
        pass
    return time.perf_counter() - start


def main(out: str | None, n: int = 4000, repeats: int = 3) -> dict:
    torch.set_num_threads(1)
    train = Digits("train", image_size=64)
    images, labels = np.asarray(train.images), np.asarray(train.labels)
    transform = train_transform(
        benchmark("digits"), Config(method="vanilla"), build_backbone("efficientnet_lite0", None)
    )
    with tempfile.TemporaryDirectory() as folder:  # gigabytes of copies: never left behind
        times = time_storage(folder, images, labels, transform, n, repeats)
    record = {
        "times": times,
        "items": len(images),
        "epoch_items": n,
        "image_shape": list(images.shape[1:]),
        "datasets": datasets.__version__,
        **provenance(resolve_device("cpu")),
    }
    print(json.dumps(record["times"], indent=1))
    if out:
        write_json(out, record)
    return record


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the timings (and their provenance) to this JSON file")
    main(parser.parse_args().out)
