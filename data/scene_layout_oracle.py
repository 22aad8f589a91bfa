"""How well can stride-8 features segment a digit-scene layout? The cell-share oracle, on
synthetic scenes only (the real target is never looked at to shape the benchmark).

    python data/scene_layout_oracle.py --out results/bench/digit-scenes-layout.json

For each layout (grid, digits per scene), renders the same number of synthetic scenes
with one fixed seed and reports the share of digit pixels and
:func:`csg.metrics.coarse_oracle_miou` at strides 8 and 4: the mIoU of a model that knew
each cell's true class shares, upsampled bilinearly. The layout with the higher stride-8
oracle gives the paper's DeepLab (output stride 8) more to learn from.
"""

import argparse

import numpy as np
import torch

from csg.data import digit_scenes, render
from csg.metrics import coarse_oracle_miou
from csg.records import provenance, write_json
from csg.runtime import resolve_device

LAYOUTS = {
    "3 x 3 grid, 3-6 digits (first design)": (3, (3, 6)),
    "2 x 2 grid, 1-4 digits": (2, (1, 4)),
    "2 x 2 grid, 1-2 digits": (2, (1, 2)),
    "one digit per scene": (1, (1, 1)),
}


def measure(grid: int, digits: tuple[int, int], n: int, image_size: int, seed: int) -> dict:
    layout = digit_scenes.SceneLayout(grid=grid, digits=digits)
    bank = render.glyph_bank(render.digit_fonts(False))
    _, labels = digit_scenes.render_synthetic_scenes(n, image_size, np.random.default_rng(seed), bank, layout=layout)
    y = torch.as_tensor(labels).long()
    classes = len(digit_scenes.SCENE_CLASSES)
    return {
        "digit_pixels_pct": round((y > 0).float().mean().item() * 100, 2),
        "oracle_miou_stride8_pct": round(coarse_oracle_miou(y, 8, classes) * 100, 2),
        "oracle_miou_stride4_pct": round(coarse_oracle_miou(y, 4, classes) * 100, 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=200)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="JSON record to write")
    args = parser.parse_args()
    layouts = {
        name: measure(grid, digits, args.scenes, args.image_size, args.seed) for name, (grid, digits) in LAYOUTS.items()
    }
    for name, row in layouts.items():
        print(f"{name}: {row}")
    if args.out:
        record = {"scenes": args.scenes, "image_size": args.image_size, "seed": args.seed, "layouts": layouts}
        write_json(args.out, record | provenance(resolve_device("cpu")))


if __name__ == "__main__":
    main()
