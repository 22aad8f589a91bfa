"""``python -m csg.bench``: the cost of a CSG step against a plain fine-tuning step.

Times, side by side on the same backbone and batch, one full training step (forward,
backward, SGD update) of
  vanilla -- the task loss alone;
  csg     -- task loss + CSG (A-pool, G = {3, 4}, K = 65,536), A-pool's key attention
             from f_e,o itself (``key_attention="teacher"``, no extra forward);
  csg_paper_attention -- the same with the key attention from f_e on the key view, as
             the paper and the official code (one more forward of f_e, without grad).
Each variant's *floor* is what it cannot avoid: a plain step that also runs the no-grad
forwards of the backbone the variant asks for (f_e,o on the key view for ``csg``; f_e,o
and f_e on the key view for ``csg_paper_attention``) and adds no term. The floors are
timed as steps of their own in the same loop, so they see the same memory and caches as
the CSG steps; a variant's *gap* is what its CSG term costs on top (heads, pooling, the
InfoNCE over the queue, the EMA), as a fraction of a plain step. Steps alternate within
each repeat, and each ratio and gap is taken repeat by repeat, so a change in machine
load affects both sides alike; the order of the steps rotates from one repeat to the next,
so none always follows the same one. Gaps come with their quartiles over the repeats, a
measure of the machine's noise. The last printed line is JSON.
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
from .models import Classifier
from .records import provenance, write_json
from .regularizers import NoRegularizer, Regularizer, StepFeatures
from .runtime import resolve_device
from .step import TrainStep


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class ForwardsOnly(Regularizer):
    """A floor: the no-grad forwards a CSG variant asks of the engine, and a zero term."""

    needs_teacher = True

    def __init__(self, csg: CSG):
        super().__init__(weight=0.0)
        self.key_stages, self.needs_student_on_key = csg.key_stages, csg.needs_student_on_key

    def forward(self, features: StepFeatures) -> torch.Tensor:
        return features.student[-1].new_zeros(())


VARIANTS = {"csg": "teacher", "csg_paper_attention": "student"}  # name -> CSG's key_attention


def make_steps(arch: str, device: torch.device, queue_size: int = 65536) -> dict[str, TrainStep]:
    """The steps to compare, sharing one model so they differ only in the regulariser:
    vanilla, each CSG variant, and each variant's floor (``floor_<variant>``)."""
    backbone = build_backbone(arch, weights=None)
    model = Classifier(backbone, num_classes=12)
    teacher = Frozen(backbone)
    steps = {"vanilla": TrainStep(model, NoRegularizer(), None)}
    for name, attention in VARIANTS.items():
        csg = CSG(backbone.channels, (3, 4), 0.1, "a_pool", queue_size=queue_size, key_attention=attention)
        steps[name] = TrainStep(model, csg, teacher)
        steps[f"floor_{name}"] = TrainStep(model, ForwardsOnly(csg), teacher)
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

    times = {name: [] for name in steps}
    names = list(steps)
    for r in range(warmup + repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # each repeat starts one step later
            t = one_step(name)
            if r >= warmup:
                times[name].append(t)
    plain = times["vanilla"]

    def over_repeats(f, name):  # f(step, floor, plain step) in each repeat, sorted
        return sorted(f(c, v, p) for c, v, p in zip(times[name], times[f"floor_{name}"], plain))

    out = {"arch": arch, "batch_size": batch_size, "image_size": image_size, "repeats": repeats}
    out["vanilla_s"] = statistics.median(plain)
    for name in VARIANTS:
        out[f"{name}_s"] = statistics.median(times[name])
        out[f"floor_{name}_s"] = statistics.median(times[f"floor_{name}"])
        out[f"ratio_{name}"] = statistics.median(over_repeats(lambda c, _, p: c / p, name))
        out[f"floor_{name}"] = statistics.median(over_repeats(lambda _, f, p: f / p, name))
        gaps = over_repeats(lambda c, f, p: (c - f) / p, name)
        out[f"gap_{name}"] = statistics.median(gaps)
        out[f"gap_{name}_quartiles"] = [round(gaps[round(q * (len(gaps) - 1))], 4) for q in (0.25, 0.75)]
    out["vanilla_img_per_s"] = batch_size / out["vanilla_s"]
    out["csg_img_per_s"] = batch_size / out["csg_paper_attention_s"]
    out |= {k: v for k, v in provenance(device).items() if k in ("device", "git_commit", "date")}
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
