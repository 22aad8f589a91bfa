"""Data-parallel training over 2 CPU processes (gloo) against one process on the whole batch."""

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from csg.backbones import Frozen, build_backbone
from csg.contrastive import CSG
from csg.models import Classifier
from csg.step import TrainStep

pytestmark = pytest.mark.slow  # trains or launches processes

BATCH, SIZE = 4, 32


def make_step():
    torch.manual_seed(0)
    backbone = build_backbone("efficientnet_lite0", weights=None)
    model = Classifier(backbone, num_classes=3, hidden=8)
    reg = CSG(backbone.channels, stages=(3, 4), queue_size=16, key_attention="teacher", momentum=0.5)
    return TrainStep(model, reg, Frozen(backbone)).train()


def data():
    g = torch.Generator().manual_seed(1)
    return (
        torch.randn(BATCH, 3, SIZE, SIZE, generator=g),
        torch.randn(BATCH, 3, SIZE, SIZE, generator=g),
        torch.randint(0, 3, (BATCH,), generator=g),
    )


def one_step(step, query, key, target, wrapped=None):
    opt = torch.optim.SGD([p for p in step.parameters() if p.requires_grad], lr=0.5)
    loss, _ = (wrapped or step)(query, key, target)
    loss.backward()
    opt.step()
    step.regularizer.queues["4"].commit()
    return step


def worker(rank, port, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    step = make_step()
    ddp = torch.nn.parallel.DistributedDataParallel(step, broadcast_buffers=False)
    query, key, target = data()
    half = slice(rank * BATCH // 2, (rank + 1) * BATCH // 2)
    one_step(step, query[half], key[half], target[half], wrapped=ddp)
    torch.save(
        {"params": [p.detach() for p in step.parameters()], "queue": step.regularizer.queues["4"].keys.clone()},
        out / f"rank{rank}.pt",
    )
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ranks_match_one_process_on_the_whole_batch(tmp_path):
    mp.spawn(worker, args=(free_port(), tmp_path), nprocs=2, join=True)
    single = one_step(make_step(), *data())
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    # Same update: the mean task loss over the batch equals the mean over ranks of each half's
    # mean, and every term here (frozen BN, per-sample InfoNCE) is a per-sample mean.
    for r in ranks:
        for got, want in zip(r["params"], single.parameters()):
            torch.testing.assert_close(got, want.detach(), rtol=1e-4, atol=1e-5)
    # Both ranks' queues hold the keys of the whole batch, gathered from both ranks.
    torch.testing.assert_close(ranks[0]["queue"], ranks[1]["queue"])
    torch.testing.assert_close(ranks[0]["queue"], single.regularizer.queues["4"].keys, rtol=1e-4, atol=1e-5)
