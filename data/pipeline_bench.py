"""The input pipeline of a VisDA-17 run: how many images a second one loader worker gives.

    python data/pipeline_bench.py --out results/bench/pipeline-visda17.json

Writes a VisDA-17-shaped tree of renders (PNG, ``--size`` pixels a side, smooth random
content, some in grey as a few renders are) into a temporary folder, then times the
engine's own training loader for CSG on it (decode, two RandAugment views, resize and
crop to 224, normalisation; batches of 32) in one process with one thread, as a
DataLoader worker runs. Decoding alone is timed too, so the record says where the time
goes. Whether a GPU waits for its data is a comparison with the step's rate: with W
workers the loader gives about W times the rate recorded here, and the CSG step's rate on
the GPU is ``csg_img_per_s`` of ``python -m csg.bench --device cuda``.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from csg.backbones import build_backbone
from csg.config import Config
from csg.data import benchmark
from csg.data.visda import VISDA_CLASSES
from csg.loaders import train_loader
from csg.records import provenance, write_json


def write_renders(root: Path, n: int, size: int, seed: int = 0) -> list[Path]:
    """``n`` smooth random RGB renders (every 10th in grey) in VisDA-17's train/ layout, plus
    one validation image (the loader checks for both folders)."""
    rng = np.random.default_rng(seed)
    paths, lines = [], []
    for i in range(n):
        label = i % len(VISDA_CLASSES)
        rel = f"{VISDA_CLASSES[label]}/src_1_{i:08d}_1.png"
        coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)  # upsampled: smooth, like a render
        image = Image.fromarray(coarse).resize((size, size), Image.BICUBIC)
        path = root / "visda17" / "train" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        (image.convert("L") if i % 10 == 0 else image).save(path)
        paths.append(path)
        lines.append(f"{rel} {label}")
    (root / "visda17" / "train" / "image_list.txt").write_text("\n".join(lines) + "\n")
    val = root / "visda17" / "validation"
    (val / VISDA_CLASSES[0]).mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(val / VISDA_CLASSES[0] / "v.jpg")
    (val / "image_list.txt").write_text(f"{VISDA_CLASSES[0]}/v.jpg 0\n")
    return paths


def run(n: int, size: int, repeats: int) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a DataLoader worker
    try:
        return _timed(n, size, repeats)
    finally:
        torch.set_num_threads(threads)


def _timed(n: int, size: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        paths = write_renders(Path(folder), n, size)
        cfg = Config(method="csg", dataset="visda17", data_root=folder, image_size=224, batch_size=32, num_workers=0)
        backbone = build_backbone("resnet50", weights=None)  # the transform needs only its mean and std
        loader = train_loader(cfg, benchmark("visda17", folder), backbone, torch.device("cpu"))
        decode, pipeline = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            for p in paths:
                Image.open(p).convert("RGB")
            decode.append(len(paths) / (time.perf_counter() - start))
            start, seen = time.perf_counter(), 0
            for (query, _key), _ in loader:
                seen += len(query)
            pipeline.append(seen / (time.perf_counter() - start))
    return {
        "renders": n,
        "size": size,
        "views": "CSG: two RandAugment views (M = 6), resize + crop 224",
        "repeats": repeats,
        "decode_img_per_s": [round(x, 1) for x in decode],
        "pipeline_img_per_s": [round(x, 1) for x in pipeline],
        "threads": 1,
        **{k: v for k, v in provenance(torch.device("cpu")).items() if k in ("device", "git_commit", "date")},
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--renders", type=int, default=640, help="images written and read (default 640)")
    p.add_argument("--size", type=int, default=384, help="side of a render in pixels (default 384)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", help="also write the JSON result to this file")
    a = p.parse_args(argv)
    result = run(a.renders, a.size, a.repeats)
    print(result)
    if a.out:
        write_json(a.out, result)


if __name__ == "__main__":
    main()
