"""bf16 against fp32 over the first steps of a VisDA-17-shaped CSG run (a GPU check).

    python .ci/precision_check.py --device cuda --steps 200 --out "$OUT/precision.json"

The engine trains under bf16 autocast on CUDA. This trains one CSG run twice from the same
weights on the same batches (a tree of renders in VisDA-17's layout, as
data/pipeline_bench.py writes it; the loader reseeded for each pass), once under bf16
autocast and once in fp32, at a constant learning rate, and records both loss curves and
their differences step by step: whether bf16 changes the course of training.

Tested on a CPU with
    python .ci/precision_check.py --device cpu --arch efficientnet_lite0 --image-size 32 \\
        --batch-size 4 --steps 3 --renders 48 --size 32
"""

import argparse
import copy
import runpy
import statistics
import tempfile
from pathlib import Path

import torch

from csg.config import Config
from csg.loaders import train_loader
from csg.records import provenance, write_json
from csg.runtime import resolve_device, seed_everything, to_device
from csg.step import build_optimizer, build_step, run_settings

REPO = Path(__file__).resolve().parents[1]


def losses(cfg, bench, device, initial, steps: int, bf16: bool) -> list[float]:
    """The task + CSG loss of the first ``steps`` steps from a copy of ``initial``, with or without bf16 autocast."""
    seed_everything(cfg.seed)
    step = copy.deepcopy(initial).train()
    optimizer = build_optimizer(cfg, step)
    loader = train_loader(cfg, bench, step.model.backbone, device)
    loader.generator.manual_seed(cfg.seed)
    out = []
    while len(out) < steps:
        for (query, key), target in loader:
            query, key, target = to_device(query, device), to_device(key, device), target.to(device)  # as the engine
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss, _ = step(query, key, target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            out.append(loss.item())
            if len(out) == steps:
                break
    return out


def run(device, arch, image_size, batch_size, steps, renders, size, workers) -> dict:
    device = resolve_device(device)
    write_renders = runpy.run_path(str(REPO / "data" / "pipeline_bench.py"))["write_renders"]
    with tempfile.TemporaryDirectory() as folder:
        write_renders(Path(folder), renders, size)
        cfg = Config(
            method="csg", dataset="visda17", data_root=folder, arch=arch, weights=None, image_size=image_size,
            batch_size=batch_size, epochs=1, lr=1e-4, num_workers=workers,
        )  # fmt: skip
        bench = cfg.benchmark()
        seed_everything(cfg.seed)
        initial = build_step(cfg, bench, device, run_settings(cfg, bench))
        curves = {name: losses(cfg, bench, device, initial, steps, name == "bf16") for name in ("bf16", "fp32")}
    diffs = [abs(a - b) for a, b in zip(curves["bf16"], curves["fp32"])]
    relative = [d / abs(b) for d, b in zip(diffs, curves["fp32"])]
    return {
        "arch": arch, "image_size": image_size, "batch_size": batch_size, "steps": steps, "lr": cfg.lr,
        "loss_bf16": [round(x, 5) for x in curves["bf16"]],
        "loss_fp32": [round(x, 5) for x in curves["fp32"]],
        "median_abs_diff": round(statistics.median(diffs), 5),
        "max_rel_diff": round(max(relative), 5),
        **{k: v for k, v in provenance(device).items() if k in ("device", "git_commit", "date")},
    }  # fmt: skip


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto")
    p.add_argument("--arch", default="resnet101")
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--renders", type=int, default=2048, help="renders in the tree (default 2048)")
    p.add_argument("--size", type=int, default=384, help="side of a render in pixels")
    p.add_argument("--workers", type=int, default=None, help="loader workers (default: the engine's)")
    p.add_argument("--out")
    a = p.parse_args(argv)
    result = run(a.device, a.arch, a.image_size, a.batch_size, a.steps, a.renders, a.size, a.workers)
    print({k: v for k, v in result.items() if not k.startswith("loss_")})
    if a.out:
        write_json(a.out, result)


if __name__ == "__main__":
    main()
