"""``python -m csg.bench``: the cost of a CSG step against a plain fine-tuning step.

Times, side by side on the same backbone and batch, one full training step (forward,
backward, SGD update) of
  vanilla -- the task loss alone;
  csg     -- task loss + CSG (A-pool, G = {3, 4}, K = 65,536), A-pool's key attention
             from f_e,o itself (``key_attention="teacher"``, no extra forward);
  csg_paper_attention -- the same with the key attention from f_e on the key view, as
             the paper and the official code (one more forward of f_e, without grad).
Each variant's *floor* is what it cannot avoid: a plain step plus the no-grad forwards
of the backbone it needs (one, of f_e,o, for ``csg``; two, of f_e,o and of f_e on the
key view, for ``csg_paper_attention``). The no-grad forward is timed in the same loop.
Steps alternate within each repeat, and each ratio is taken pair by pair, so a change
in machine load affects both sides of a ratio alike. The last printed line is JSON.
Random weights: speed does not depend on them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from .backbones import Frozen, build_backbone
from .contrastive import CSG
from .engine import TrainStep, resolve_device
from .models import Classifier
from .records import provenance, write_json
from .regularizers import NoRegularizer


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_steps(arch: str, device: torch.device, queue_size: int = 65536) -> dict[str, TrainStep]:
    """The three steps to compare, sharing one model so they differ only in the regulariser."""
    backbone = build_backbone(arch, weights=None)
    model = Classifier(backbone, num_classes=12)
    teacher = Frozen(backbone)
    steps = {"vanilla": TrainStep(model, NoRegularizer(), None)}
    for name, attention in (("csg", "teacher"), ("csg_paper_attention", "student")):
        reg = CSG(
            backbone.channels,
            stages=(3, 4),
            weight=0.1,
            pooling="a_pool",
            queue_size=queue_size,
            key_attention=attention,
        )
        steps[name] = TrainStep(model, reg, teacher)
    for s in steps.values():
        s.to(device, memory_format=torch.channels_last).train()
    return steps


def run(arch="resnet50", batch_size=8, image_size=224, device="auto", repeats=6, warmup=2) -> dict:
    device = resolve_device(device)
    torch.manual_seed(0)
    steps = make_steps(arch, device)
    params = {p for s in steps.values() for p in s.parameters() if p.requires_grad}
    optimizer = torch.optim.SGD(list(params), lr=1e-4, momentum=0.9, weight_decay=5e-4)
    query = torch.randn(batch_size, 3, image_size, image_size, device=device).to(memory_format=torch.channels_last)
    key = torch.randn_like(query)  # an independently augmented view
    target = torch.randint(0, 12, (batch_size,), device=device)

    def one_step(name):
        _sync(device)
        t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss, _ = steps[name](query, None if name == "vanilla" else key, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        _sync(device)
        return time.perf_counter() - t0

    def one_forward():  # what f_e,o (or f_e on the key view) costs: a forward without autograd
        _sync(device)
        t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            steps["csg"].teacher(key)
        _sync(device)
        return time.perf_counter() - t0

    times = {name: [] for name in (*steps, "forward")}
    for r in range(warmup + repeats):
        for name in steps:
            t = one_step(name)
            if r >= warmup:
                times[name].append(t)
        t = one_forward()
        if r >= warmup:
            times["forward"].append(t)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    pairs = lambda name: zip(times[name], times["vanilla"], times["forward"])
    ratio = lambda name: statistics.median(c / v for c, v, _ in pairs(name))
    floor = lambda name, forwards: statistics.median((v + forwards * f) / v for _, v, f in pairs(name))
    out = {
        "arch": arch,
        "batch_size": batch_size,
        "image_size": image_size,
        "repeats": repeats,
        "vanilla_s": med["vanilla"],
        "forward_s": med["forward"],
        "csg_s": med["csg"],
        "ratio": ratio("csg"),
        "floor": floor("csg", 1),
        "csg_paper_attention_s": med["csg_paper_attention"],
        "ratio_paper_attention": ratio("csg_paper_attention"),
        "floor_paper_attention": floor("csg_paper_attention", 2),
        "vanilla_img_per_s": batch_size / med["vanilla"],
        "csg_img_per_s": batch_size / med["csg"],
        **{k: v for k, v in provenance(device).items() if k in ("device", "git_commit", "date")},
    }
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m csg.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--device", default="auto")
    p.add_argument("--repeats", type=int, default=6)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--out", help="also write the JSON result to this file (e.g. results/bench/...json)")
    a = p.parse_args(argv)
    result = run(a.arch, a.batch_size, a.image_size, a.device, a.repeats, a.warmup)
    for k, v in result.items():
        print(f"{k:>24}: {v}")
    if a.out:
        write_json(a.out, result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
