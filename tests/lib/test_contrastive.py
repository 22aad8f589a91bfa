"""CSG (Eqs. 2-6): heads, EMA, queue, multi-layer and dense, against a reference."""

import copy

import pytest
import torch
import torch.nn.functional as F

from csg.backbones import Frozen, build_backbone
from csg.contrastive import CSG, KeyQueue, ProjectionHead, split_patches
from csg.losses import info_nce
from csg.pooling import a_pool
from csg.regularizers import StepFeatures

CHANNELS = (4, 6, 8, 10)


def maps(batch=3, size=4, seed=0, signed=False):
    g = torch.Generator().manual_seed(seed)
    out = [torch.randn(batch, c, size, size, generator=g) for c in CHANNELS]
    return out if signed else [m.abs() for m in out]


def test_projection_head_shape_is_linear_relu_linear():
    h = ProjectionHead(10, 128)
    assert [type(m).__name__ for m in h] == ["Linear", "ReLU", "Linear"]
    assert h[0].weight.shape == (10, 10) and h[2].weight.shape == (128, 10)


def test_queue_wraps_around_and_drops_the_oldest_keys():
    q = KeyQueue(size=5, dim=2)
    assert torch.allclose(q.keys.norm(dim=1), torch.ones(5))  # random unit init
    a = torch.arange(6.0).reshape(3, 2)
    b = torch.arange(100.0, 106.0).reshape(3, 2)
    before = q.keys.clone()
    q.push(a)
    torch.testing.assert_close(q.keys, before)  # staged until the next read
    q.push(b)  # commits a; b staged
    torch.testing.assert_close(q.keys[3:], before[3:])
    negatives = q.negatives()  # commits b: slots 3, 4, then wraps to 0
    torch.testing.assert_close(negatives, torch.stack([b[2], a[1], a[2], b[0], b[1]]))
    assert q.ptr.item() == 1
    # Staged keys survive a state-dict round trip (checkpoints lose no keys).
    q.push(a)
    copy_ = KeyQueue(size=5, dim=2)
    copy_.load_state_dict(q.state_dict())
    torch.testing.assert_close(copy_.negatives(), q.negatives())
    with pytest.raises(ValueError, match="does not fit a queue of 5"):
        q.push(torch.zeros(6, 2))


def test_split_patches_keeps_regions_aligned():
    x = torch.arange(2 * 1 * 4 * 4.0).reshape(2, 1, 4, 4)
    p = split_patches(x, 2)
    assert p.shape == (8, 1, 2, 2)
    torch.testing.assert_close(p[0], x[0, :, :2, :2])
    torch.testing.assert_close(p[1], x[0, :, :2, 2:])
    torch.testing.assert_close(p[6], x[1, :, 2:, :2])
    with pytest.raises(ValueError, match=r"accepted grids: \[1, 2, 4\]"):
        split_patches(x, 3)
    with pytest.raises(ValueError, match="does not tile"):
        split_patches(x, 8)


def cut_patches(m, n):
    """(B, C, H, W) -> (B * n * n, C, H / n, W / n), image-major, rows then columns: written out."""
    h, w = m.shape[2] // n, m.shape[3] // n
    cells = [
        m[b : b + 1, :, i * h : (i + 1) * h, j * w : (j + 1) * w]
        for b in range(m.shape[0])
        for i in range(n)
        for j in range(n)
    ]
    return torch.cat(cells)


def reference_loss(csg, student, teacher, queues, heads, ema_heads, attention=None):
    """A straightforward recomputation of Eq. 5 with explicit EMA heads and queue snapshots."""
    total = 0.0
    for stage in csg.stages:
        s, t = student[stage - 1], teacher[stage - 1]
        if csg.patch_grid:
            s, t = cut_patches(s, csg.patch_grid), cut_patches(t, csg.patch_grid)
            att = None if attention is None else cut_patches(attention[stage - 1], csg.patch_grid)
        else:
            att = None if attention is None else attention[stage - 1]
        pooled_s = a_pool(s) if csg.pooling == "a_pool" else s.mean((2, 3))
        pooled_t = a_pool(t, att) if csg.pooling == "a_pool" else t.mean((2, 3))
        q = F.normalize(heads[str(stage)](pooled_s), dim=1)
        k = F.normalize(ema_heads[str(stage)](pooled_t), dim=1)
        total = total + info_nce(q, k, queues[str(stage)], csg.tau)
    return total


@pytest.mark.parametrize(
    "pooling, grid, key_attention",
    [("a_pool", None, "student"), ("gap", None, "teacher"), ("a_pool", 2, "teacher"), ("a_pool", 2, "student")],
)
def test_csg_loss_equals_reference_and_updates_ema_then_queue(pooling, grid, key_attention):
    torch.manual_seed(0)
    csg = CSG(
        CHANNELS,
        stages=(2, 4),
        pooling=pooling,
        queue_size=64,
        momentum=0.9,
        patch_grid=grid,
        key_attention=key_attention,
        tau=0.1,
    )
    with torch.no_grad():  # make h and h~ differ so the EMA step is visible
        for p in csg.heads.parameters():
            p.add_(0.5)
    student, teacher, on_key = maps(seed=1), maps(seed=2), maps(seed=3)
    heads, ema_before = copy.deepcopy(csg.heads), copy.deepcopy(csg.ema_heads)
    queues = {k: csg.queues[k].keys.clone() for k in csg.queues}
    expected_ema = copy.deepcopy(ema_before)
    with torch.no_grad():
        for e, h in zip(expected_ema.parameters(), heads.parameters()):
            e.copy_(0.9 * e + 0.1 * h)
    loss = csg(StepFeatures(student, teacher, on_key if csg.needs_student_on_key else None))
    attention = on_key if csg.needs_student_on_key else None
    expected = reference_loss(csg, student, teacher, queues, heads, expected_ema, attention)
    torch.testing.assert_close(loss, expected)
    for e, got in zip(expected_ema.parameters(), csg.ema_heads.parameters()):
        torch.testing.assert_close(got, e)
    # Each queue received this step's keys (B x patches of them), newest at the pointer.
    per_image = (grid or 1) ** 2
    for key, q in csg.queues.items():
        q.commit()
        assert q.ptr.item() == 3 * per_image
        assert not torch.allclose(q.keys[: 3 * per_image], queues[key][: 3 * per_image])
        torch.testing.assert_close(q.keys[3 * per_image :], queues[key][3 * per_image :])


def test_multi_layer_is_the_sum_of_single_layers():
    student, teacher = maps(seed=5), maps(seed=6)
    torch.manual_seed(1)
    both = CSG(CHANNELS, stages=(3, 4), queue_size=32, key_attention="teacher")
    singles = []
    for stage in (3, 4):
        single = CSG(CHANNELS, stages=(stage,), queue_size=32, key_attention="teacher")
        single.load_state_dict({k: v for k, v in both.state_dict().items() if f".{stage}." in k})
        singles.append(single(StepFeatures(student, teacher)))
    torch.testing.assert_close(both(StepFeatures(student, teacher)), sum(singles))


def test_gradients_reach_the_student_and_h_only_and_the_frozen_model_never_changes():
    torch.manual_seed(0)
    student = build_backbone("efficientnet_lite0", weights=None)
    teacher = Frozen(student)
    state_before = {k: v.clone() for k, v in teacher.state_dict().items()}
    csg = CSG(student.channels, stages=(3, 4), queue_size=16)
    student.train(), teacher.train(), csg.train()  # teacher.train() must not unfreeze it
    x = torch.randn(2, 3, 64, 64)
    feats = StepFeatures(student(x), teacher(x), None)
    feats.student_on_key = [m.detach() for m in feats.student]
    params = list(student.parameters()) + list(csg.parameters())
    opt = torch.optim.SGD([p for p in params if p.requires_grad], lr=0.1)
    loss = csg(feats)
    loss.backward()
    opt.step()
    assert all(p.grad is None for p in teacher.parameters())
    assert all(p.grad is None for p in csg.ema_heads.parameters())
    assert all(p.grad is not None for p in csg.heads.parameters())
    assert student.stages[3][0][0].conv_pw.weight.grad.abs().sum() > 0
    assert all(torch.equal(v, teacher.state_dict()[k]) for k, v in state_before.items())
    assert not teacher.training and not teacher.backbone.training


def test_student_keeps_imagenet_bn_statistics_while_training():
    student = build_backbone("efficientnet_lite0", weights=None)
    before = student.stages[1][0].bn1.running_mean.clone()
    student.train()
    student(torch.randn(4, 3, 64, 64) * 5 + 3)
    torch.testing.assert_close(student.stages[1][0].bn1.running_mean, before)
    free = build_backbone("efficientnet_lite0", weights=None, freeze_bn_stats=False).train()
    free(torch.randn(4, 3, 64, 64) * 5 + 3)
    assert not torch.equal(free.stages[1][0].bn1.running_mean, before)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(stages=(5,)), r"subset of \{1, 2, 3, 4\}"),
        (dict(stages=()), "non-empty"),
        (dict(weight=-0.1), ">= 0"),
        (dict(tau=0.0), "tau"),
        (dict(pooling="max"), "a_pool, gap"),
        (dict(key_attention="query"), "student, teacher"),
        (dict(momentum=1.5), r"\[0, 1\]"),
        (dict(queue_size=0), "queue size"),
        (dict(patch_grid=0), "patch_grid"),
    ],
)
def test_csg_rejects_bad_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CSG(CHANNELS, **kwargs)


def test_csg_rejects_a_queue_smaller_than_a_batch_of_keys():
    csg = CSG(CHANNELS, queue_size=2, key_attention="teacher")
    with pytest.raises(ValueError, match="queue size must be >= keys per step"):
        csg(StepFeatures(maps(batch=3), maps(batch=3)))


def test_csg_needs_teacher_features():
    with pytest.raises(ValueError, match="teacher"):
        CSG(CHANNELS, key_attention="teacher")(StepFeatures(maps()))


def test_keys_of_one_step_are_negatives_of_the_next_and_backward_still_works():
    csg = CSG(CHANNELS, stages=(4,), queue_size=8, key_attention="teacher")
    student = [m.requires_grad_() for m in maps(batch=2, seed=7)]
    csg(StepFeatures(student, maps(batch=2, seed=8))).backward()
    pushed = csg.queues["4"].staged.clone()
    csg(StepFeatures(student, maps(batch=2, seed=9))).backward()  # commits the first step's keys
    torch.testing.assert_close(csg.queues["4"].keys[:2], pushed)
    assert csg.queues["4"].ptr.item() == 2
