"""CSG (Eqs. 2-6): heads, EMA, queue, multi-layer and dense, against a reference."""

import copy
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

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


def test_csg_refuses_missing_inputs_instead_of_guessing():
    with pytest.raises(ValueError):  # 3 widths for 4 stages
        CSG(CHANNELS[:3])
    # A-pool with the student's key attention must not fall back silently to the teacher's.
    with pytest.raises(ValueError, match="student_on_key"):
        CSG(CHANNELS, key_attention="student")(StepFeatures(maps(), maps(seed=1)))


def test_embedding_size_c_sets_heads_and_queues():
    csg = CSG(CHANNELS, stages=(4,), dim=16, queue_size=4, key_attention="teacher")
    assert csg.heads["4"][2].out_features == 16 and csg.ema_heads["4"][2].out_features == 16
    assert csg.queues["4"].keys.shape == (4, 16)
    csg(StepFeatures(maps(batch=2), maps(batch=2, seed=1)))


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


# --- The mechanism, step by step, against computations written from the definitions ------------


def head_by_hand(head, x):
    """Linear - ReLU - Linear with the head's own weights, then L2-normalised rows."""
    w1, b1, w2, b2 = (p.detach() for p in head.parameters())
    z = (x @ w1.t() + b1).clamp_min(0) @ w2.t() + b2
    return z / z.norm(dim=1, keepdim=True)


def pool_by_hand(v, kind, attention_from=None):
    """GAP, or A-pool: a_ij = <u_ij, mean u> / sum of them over positions, u the attention maps."""
    if kind == "gap":
        return v.mean(dim=(2, 3))
    u = v if attention_from is None else attention_from
    scores = torch.einsum("bchw,bc->bhw", u, u.mean(dim=(2, 3)))  # non-negative maps: no clamp needed
    a = scores / scores.sum(dim=(1, 2), keepdim=True)
    return torch.einsum("bchw,bhw->bc", v, a)


def info_nce_by_hand(q, k, negatives, tau):
    """Mean over rows of -log(e^{q.k/t} / (e^{q.k/t} + sum_n e^{q.n/t}))."""
    pos = (q * k).sum(dim=1) / tau
    neg = q @ negatives.t() / tau
    return (torch.logsumexp(torch.cat([pos[:, None], neg], dim=1), dim=1) - pos).mean()


def csg_with_distinct_heads(**kwargs):
    torch.manual_seed(0)
    csg = CSG(CHANNELS, **kwargs)
    with torch.no_grad():  # h and h~ start equal; make them differ so that using the wrong one shows
        for p in csg.heads.parameters():
            p.mul_(-1.5).add_(0.3)
    return csg


def expected_keys(csg, ema_heads, teacher, on_key, stage):
    t = teacher[stage - 1]
    att = on_key[stage - 1] if csg.pooling == "a_pool" and csg.key_attention == "student" else None
    if csg.patch_grid:
        t = cut_patches(t, csg.patch_grid)
        att = None if att is None else cut_patches(att, csg.patch_grid)
    return head_by_hand(ema_heads[str(stage)], pool_by_hand(t, csg.pooling, att))


@pytest.mark.parametrize(
    "pooling, grid, key_attention",
    [("gap", None, "student"), ("a_pool", None, "student"), ("a_pool", None, "teacher"), ("a_pool", 2, "student")],
)
def test_the_queue_holds_this_steps_keys_from_the_teacher_through_the_updated_ema_head(pooling, grid, key_attention):
    # Catches: enqueueing the anchors q instead of the keys k; keys from the student's maps; keys
    # through h instead of h~ or through h~ before its update; A-pool's key attention from the wrong maps.
    csg = csg_with_distinct_heads(
        stages=(2, 4), pooling=pooling, queue_size=16, momentum=0.75, patch_grid=grid, key_attention=key_attention
    )
    student, teacher, on_key = maps(batch=2, seed=11), maps(batch=2, seed=12), maps(batch=2, seed=13)
    updated = copy.deepcopy(csg.ema_heads)
    with torch.no_grad():  # h~ <- m h~ + (1 - m) h, written out
        for e, h in zip(updated.parameters(), csg.heads.parameters()):
            e.copy_(0.75 * e + 0.25 * h)
    csg(StepFeatures(student, teacher, on_key))
    n = 2 * (grid or 1) ** 2
    for stage in (2, 4):
        queue = csg.queues[str(stage)]
        held = queue.negatives()
        assert queue.ptr.item() == n
        k = expected_keys(csg, updated, teacher, on_key, stage)
        torch.testing.assert_close(held[:n], k)  # exactly this step's keys, in patch order
        s = cut_patches(student[stage - 1], grid) if grid else student[stage - 1]
        q = head_by_hand(csg.heads[str(stage)], pool_by_hand(s, pooling))
        assert not torch.allclose(held[:n], q, atol=1e-3)  # ... not the anchors
        assert torch.allclose(held.norm(dim=1), torch.ones(16))


def test_key_attention_student_uses_f_e_on_the_key_view_and_teacher_ignores_it():
    teacher, on_key, other = maps(batch=2, seed=21), maps(batch=2, seed=22), maps(batch=2, seed=23)
    student = maps(batch=2, seed=24)

    def keys(key_attention, student_on_key):
        csg = csg_with_distinct_heads(stages=(4,), queue_size=4, key_attention=key_attention)
        csg(StepFeatures(student, teacher, student_on_key))
        return csg.queues["4"].negatives()[:2]

    assert not torch.allclose(keys("student", on_key), keys("student", other))  # attention follows f_e on x_k
    torch.testing.assert_close(keys("teacher", on_key), keys("teacher", other))  # not used at all
    assert CSG(CHANNELS, pooling="a_pool", key_attention="student").needs_student_on_key
    assert not CSG(CHANNELS, pooling="a_pool", key_attention="teacher").needs_student_on_key
    assert not CSG(CHANNELS, pooling="gap", key_attention="student").needs_student_on_key  # GAP has no attention


def test_queue_is_fifo_across_steps_and_wraps_around_the_end():
    # K = 5, 2 keys a step, m = 0 (h~ = h, fixed here): step t's keys are computable on their own.
    csg = csg_with_distinct_heads(stages=(4,), queue_size=5, momentum=0.0, pooling="gap")
    steps = [maps(batch=2, seed=30 + t) for t in range(3)]
    keys = [head_by_hand(csg.heads["4"], pool_by_hand(t[3], "gap")) for t in steps]
    initial = csg.queues["4"].keys.clone()
    for t in steps:
        csg(StepFeatures(maps(batch=2, seed=40), t))
    held = csg.queues["4"].negatives()
    # slots 0, 1 <- step 1; 2, 3 <- step 2; 4 then 0 <- step 3 (the oldest key, step 1's first, is gone)
    torch.testing.assert_close(held, torch.stack([keys[2][1], keys[0][1], keys[1][0], keys[1][1], keys[2][0]]))
    assert csg.queues["4"].ptr.item() == 1
    assert not torch.allclose(held[4], initial[4])


def test_keys_pushed_at_one_step_are_the_negatives_of_the_next_step_not_of_their_own():
    csg = csg_with_distinct_heads(stages=(3,), queue_size=6, momentum=0.0, pooling="gap", tau=0.2)
    s1, t1, s2, t2 = (maps(batch=2, seed=50 + i) for i in range(4))
    head = csg.heads["3"]
    initial = csg.queues["3"].keys.clone()

    def embed(m):
        return head_by_hand(head, pool_by_hand(m[2], "gap"))

    loss1 = csg(StepFeatures(s1, t1))
    torch.testing.assert_close(loss1, info_nce_by_hand(embed(s1), embed(t1), initial, 0.2))
    loss2 = csg(StepFeatures(s2, t2))
    after_one_step = torch.cat([embed(t1), initial[2:]])
    torch.testing.assert_close(loss2, info_nce_by_hand(embed(s2), embed(t2), after_one_step, 0.2))
    assert not torch.allclose(loss2, info_nce_by_hand(embed(s2), embed(t2), initial, 0.2))


@pytest.mark.parametrize("m", [0.0, 0.3, 1.0])
def test_ema_heads_start_as_copies_of_h_and_move_towards_h_by_1_minus_m(m):
    torch.manual_seed(0)
    csg = CSG(CHANNELS, stages=(3, 4), queue_size=8, momentum=m, key_attention="teacher")
    for e, h in zip(csg.ema_heads.parameters(), csg.heads.parameters()):
        assert torch.equal(e, h) and e is not h
    assert not any(p.requires_grad for p in csg.ema_heads.parameters())  # never in the optimiser
    assert all(p.requires_grad for p in csg.heads.parameters())
    with torch.no_grad():
        for p in csg.heads.parameters():
            p.add_(1.0)
    before = [p.clone() for p in csg.ema_heads.parameters()]
    csg(StepFeatures(maps(), maps(seed=1)))
    for e, b, h in zip(csg.ema_heads.parameters(), before, csg.heads.parameters()):
        torch.testing.assert_close(e, m * b + (1 - m) * h.detach())  # m = 1: frozen; m = 0: a copy of h


def test_paper_defaults_of_the_csg_term():
    csg = CSG(CHANNELS)
    assert (csg.stages, csg.pooling, csg.tau, csg.momentum, csg.weight) == ((3, 4), "a_pool", 0.07, 0.999, 0.1)
    assert csg.patch_grid is None and csg.key_attention == "student"
    assert csg.queues["4"].keys.shape == (65536, 128) and csg.heads["4"][2].out_features == 128


def test_build_passes_every_option_and_the_scaled_settings_through():
    from csg.config import Config
    from csg.scaling import RunSettings

    options = Config(stages=(2, 3), pooling="gap", tau=0.2, patch_grid=2, key_attention="teacher").method_options
    assert set(options) == {"stages", "pooling", "tau", "patch_grid", "key_attention"}
    backbone = SimpleNamespace(channels=CHANNELS)
    csg = CSG.build(backbone, 0.4, RunSettings(queue_size=24, ema_momentum=0.6, warmup_iters=0), **options)
    assert (csg.stages, csg.pooling, csg.tau, csg.patch_grid, csg.key_attention) == ((2, 3), "gap", 0.2, 2, "teacher")
    assert (csg.weight, csg.momentum) == (0.4, 0.6)
    assert csg.queues["3"].keys.shape == (24, 128) and csg.heads["2"][0].in_features == CHANNELS[1]


def test_train_step_adds_lambda_times_the_term_to_the_task_loss_and_feeds_the_key_view_to_the_teacher():
    # The engine's step (csg.step.TrainStep): Eq. 4, L = L_task + λ · term.
    from csg.step import TrainStep

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            widths = (3, *CHANNELS)
            self.convs = nn.ModuleList(nn.Conv2d(a, b, 1) for a, b in zip(widths, widths[1:]))

        def forward(self, x, upto=4):
            out = []
            for conv in self.convs[:upto]:
                x = conv(x).relu()
                out.append(x)
            return out

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone, self.head = Tiny(), nn.Linear(CHANNELS[-1], 3)

        def forward(self, x):
            m = self.backbone(x)
            return self.head(m[-1].mean(dim=(2, 3))), m

    torch.manual_seed(0)
    model = Model()
    teacher = Frozen(Tiny())
    csg = csg_with_distinct_heads(stages=(3, 4), queue_size=8, weight=0.3)
    reference = copy.deepcopy(csg)
    query, key, target = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4), torch.tensor([0, 2])
    loss, logs = TrainStep(model, csg, teacher)(query, key, target)
    logits, student = model(query)
    with torch.no_grad():
        term = reference(StepFeatures(student, teacher(key), model.backbone(key)))
    task = F.cross_entropy(logits, target)
    torch.testing.assert_close(logs["reg"], term)
    torch.testing.assert_close(loss, task + 0.3 * term)


def test_a_queue_of_exactly_one_batch_of_keys_is_accepted_and_replaced_each_step():
    # csg.scaling never gives less than one batch of keys, and may give exactly that.
    one = KeyQueue(size=1, dim=2)
    one.push(torch.tensor([[0.0, 1.0]]))
    torch.testing.assert_close(one.negatives(), torch.tensor([[0.0, 1.0]]))
    q = KeyQueue(size=2, dim=2)
    a, b = torch.eye(2), torch.eye(2).flip(0)
    q.push(a)
    torch.testing.assert_close(q.negatives(), a)
    q.push(b)
    torch.testing.assert_close(q.negatives(), b)
    assert q.ptr.item() == 0


def test_split_patches_on_a_non_square_map_and_a_one_by_one_grid():
    x = torch.arange(2 * 8.0).reshape(1, 2, 2, 4)  # H = 2, W = 4
    torch.testing.assert_close(split_patches(x, 2), cut_patches(x, 2))
    with pytest.raises(ValueError, match=r"accepted grids: \[1, 2\]"):
        split_patches(x, 4)  # divides W but not H
    torch.testing.assert_close(split_patches(x, 1), x)
    tall = x.transpose(2, 3).contiguous()  # H = 4, W = 2: the grid may equal the shorter side
    torch.testing.assert_close(split_patches(tall, 2), cut_patches(tall, 2))
    # divides W, fits in H, but does not divide H; the message lists the grids that tile both sides
    with pytest.raises(ValueError, match=r"does not tile a 6x4 feature map; accepted grids: \[1, 2\]$"):
        split_patches(torch.zeros(1, 1, 6, 4), 4)
    # A 1 x 1 grid is the whole map: the same term as the global CSG.
    student, teacher = maps(seed=60), maps(seed=61)
    terms = []
    for grid in (None, 1):
        torch.manual_seed(0)
        terms.append(CSG(CHANNELS, queue_size=8, patch_grid=grid)(StepFeatures(student, teacher, maps(seed=62))))
    torch.testing.assert_close(terms[0], terms[1])


def test_csg_declares_what_the_harness_needs_and_checks_its_options_before_training():
    # dense CSG enqueues one key per patch; the global variant one per image
    assert CSG.keys_per_image(patch_grid=None) == 1 and CSG.keys_per_image(patch_grid=4) == 16
    assert CSG.two_views and CSG.needs_teacher
    sides = {1: 16, 2: 8, 3: 4, 4: 2}
    CSG.validate(sides, stages=(3, 4), pooling="a_pool", tau=0.07, patch_grid=2, key_attention="student")
    with pytest.raises(ValueError, match="4x4 patch grid is larger than the 2x2 feature map of stages"):
        CSG.validate(sides, stages=(3, 4), pooling="a_pool", tau=0.07, patch_grid=4, key_attention="student")
    CSG.validate(sides, stages=(3,), pooling="a_pool", tau=0.07, patch_grid=4, key_attention="student")  # 4x4 map
    for bad, match in [
        (dict(pooling="max"), "accepted: a_pool, gap"),
        (dict(key_attention="query"), "accepted: student, teacher"),
        (dict(tau=0.0), "tau must be > 0"),
        (dict(patch_grid=0), "patch_grid must be None or an integer >= 1"),
        (dict(stages=(5,)), r"subset of \{1, 2, 3, 4\}"),
    ]:
        options = dict(stages=(3, 4), pooling="a_pool", tau=0.07, patch_grid=None, key_attention="student") | bad
        with pytest.raises(ValueError, match=match):
            CSG.validate(sides, **options)
    assert CSG(CHANNELS, stages=(2, 4)).key_stages == (2, 4)
