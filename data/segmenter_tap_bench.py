"""What a segmentation step costs when DeepLab's ASPP reads EfficientNet-Lite0's last block
(320 channels, ``features_only``) instead of its 1x1 ``conv_head`` (1,280 channels).

    python data/segmenter_tap_bench.py --out results/bench/segmenter-tap-64px.json

One training step each (forward, backward; batch 8, 64-px scenes, output stride 8, 11
classes), alternating within each repeat so that a change in machine load falls on both;
the ratio is taken repeat by repeat. Random inputs, ImageNet weights: speed does not depend
on them. The last printed line is JSON.
"""

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

from csg import scaling
from csg.backbones import build_backbone
from csg.models import Segmenter
from csg.records import provenance, write_json
from csg.runtime import resolve_device


def step_seconds(model: Segmenter, images: torch.Tensor, labels: torch.Tensor) -> float:
    start = time.perf_counter()
    model.zero_grad()
    logits, _ = model(images)
    F.cross_entropy(logits, labels).backward()
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=12)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rates = scaling.aspp_rates(args.size, 8)
    models = {
        tap: Segmenter(
            build_backbone("efficientnet_lite0", output_stride=8, features_only=tap == "last block"), 11, rates
        )
        for tap in ("conv_head", "last block")
    }
    images = torch.randn(args.batch, 3, args.size, args.size)
    labels = torch.randint(0, 11, (args.batch, args.size, args.size))
    times = {tap: [] for tap in models}
    for r in range(args.repeats + 2):  # the first two warm up
        for tap in sorted(models, reverse=r % 2 == 1):  # alternate which goes first
            t = step_seconds(models[tap].train(), images, labels)
            if r >= 2:
                times[tap].append(t)
    ratios = [a / b for a, b in zip(times["last block"], times["conv_head"])]
    out = {
        "what": "training step of DeepLab (ASPP, output stride 8) on EfficientNet-Lite0, one thread",
        "batch": args.batch,
        "image_size": args.size,
        "median_step_s": {tap: statistics.median(t) for tap, t in times.items()},
        "ratio_last_block_to_conv_head": {
            "median": statistics.median(ratios),
            "quartiles": statistics.quantiles(ratios, n=4)[::2],
        },
    } | provenance(resolve_device("cpu"))
    if args.out:
        write_json(args.out, out)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
