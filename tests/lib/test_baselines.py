"""The baselines of Table 1 against hand arithmetic and independent library computations."""

import copy
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.stats import entropy
from torch import nn

from csg.backbones import Frozen, build_backbone
from csg.baselines import ASGDistillation, FeatureL2, SynapticIntelligence, WeightL2, freeze_backbone
from csg.regularizers import NoRegularizer, StepFeatures


@pytest.fixture(scope="module")
def imagenet_lite0():
    return build_backbone("efficientnet_lite0")  # offline ImageNet weights


def tiny_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def no_features():
    return StepFeatures(student=[torch.zeros(1, 1, 1, 1)])


def maps(seed, channels=(2, 3, 4, 6), requires_grad=False):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(3, c, 4 // i, 4 // i, generator=g, dtype=torch.float64).requires_grad_(requires_grad)
        for c, i in zip(channels, (1, 1, 2, 2))
    ]


# --- Oracle -------------------------------------------------------------------------


def test_oracle_trains_only_the_new_head_and_keeps_imagenet_bn_statistics(imagenet_lite0):
    backbone = freeze_backbone(build_backbone("efficientnet_lite0", freeze_bn_stats=False))
    head = nn.Linear(backbone.num_features, 3)
    trainable = [p for p in [*backbone.parameters(), *head.parameters()] if p.requires_grad]
    assert [id(p) for p in trainable] == [id(p) for p in head.parameters()]
    backbone.train()
    opt = torch.optim.SGD(trainable, lr=0.1)
    x, y = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 0])
    loss = F.cross_entropy(head(backbone(x)[-1].mean(dim=(2, 3))), y) + NoRegularizer()(StepFeatures(backbone(x)))
    head_before = head.weight.detach().clone()
    loss.backward()
    opt.step()
    for (name, after), before in zip(backbone.state_dict().items(), imagenet_lite0.state_dict().values()):
        assert torch.equal(after, before), name  # weights and BN running statistics alike
    assert not torch.equal(head.weight, head_before)


def test_freeze_backbone_needs_a_backbone():
    with pytest.raises(TypeError, match="Backbone"):
        freeze_backbone(tiny_net())


# --- Weight l2 ----------------------------------------------------------------------


def test_weight_l2_is_zero_at_init_and_the_hand_sum_after_a_perturbation():
    net = tiny_net()
    reg = WeightL2(net, weight=0.5)
    assert reg(no_features()).item() == 0
    rng = np.random.default_rng(0)
    deltas = [rng.normal(size=tuple(p.shape)) for p in net.parameters()]
    with torch.no_grad():
        for p, d in zip(net.parameters(), deltas):
            p.add_(torch.from_numpy(d).float())
    expected = sum((d.astype(np.float32) ** 2).sum() for d in deltas)
    assert reg(no_features()).item() == pytest.approx(expected, rel=1e-5)


def test_weight_l2_gradient_reaches_only_the_student_and_the_anchor_stays():
    net = tiny_net()
    reg = WeightL2(net, weight=1.0)
    assert list(reg.parameters()) == []  # anchors are buffers, never optimised
    assert all(not a.requires_grad for a in reg.anchors)
    with torch.no_grad():
        net[0].weight.add_(1.0)
    reg(no_features()).backward()
    torch.testing.assert_close(net[0].weight.grad, torch.full_like(net[0].weight, 2.0))  # d/dθ (θ - θ0)^2 = 2(θ - θ0)
    assert torch.equal(net[2].bias.grad, torch.zeros_like(net[2].bias))
    torch.testing.assert_close(reg.anchors[0], net[0].weight.detach() - 1.0)
    assert len(reg.state_dict()) == len(list(net.parameters()))


def test_weight_l2_anchors_backbone_parameters_but_not_the_imagenet_classifier(imagenet_lite0):
    reg = WeightL2(imagenet_lite0, weight=1.0)
    assert reg.param_names and not any(n.startswith("imagenet_classifier") for n in reg.param_names)
    assert len(reg.param_names) == len(list(imagenet_lite0.parameters())) - 2  # FC weight and bias left out
    trainable = copy.deepcopy(imagenet_lite0).requires_grad_(True)  # even if someone unfreezes the FC
    assert WeightL2(trainable, weight=1.0).param_names == reg.param_names


def test_weight_space_baselines_skip_frozen_parameters_and_need_some():
    net = tiny_net()
    net[0].requires_grad_(False)
    assert WeightL2(net, 1.0).param_names == ["1.weight", "1.bias", "2.weight", "2.bias"]
    net.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        WeightL2(net, 1.0)


# --- Synaptic Intelligence ----------------------------------------------------------


class Vector(nn.Module):
    def __init__(self, values):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor(values, dtype=torch.float64))


def test_si_path_integral_and_importance_after_two_sgd_steps_by_hand():
    lr, lam, xi = 0.1, 0.5, 1e-3
    model = Vector([1.0, -2.0])
    reg = SynapticIntelligence(model, weight=lam, xi=xi)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(2):  # the engine's step: task loss 0.5 |θ|^2 plus the weighted term
        opt.zero_grad()
        (0.5 * model.theta.pow(2).sum() + reg.weight * reg(no_features())).backward()
        opt.step()
        reg.after_step()

    t0 = np.array([1.0, -2.0])
    g1 = t0  # step 1: Ω = 0, so the gradient is the task's, θ
    t1 = t0 - lr * g1
    w1 = -g1 * (t1 - t0)
    o1 = np.maximum(w1 / ((t1 - t0) ** 2 + xi), 0)
    g2 = t1 + 2 * lam * o1 * (t1 - t0)  # step 2: task gradient plus the SI term's
    t2 = t1 - lr * g2
    w2 = w1 - g2 * (t2 - t1)
    o2 = np.maximum(w2 / ((t2 - t0) ** 2 + xi), 0)
    np.testing.assert_allclose(model.theta.detach().numpy(), t2, rtol=1e-12)
    np.testing.assert_allclose(reg.omegas[0].numpy(), w2, rtol=1e-12)
    np.testing.assert_allclose(reg.importances[0].numpy(), o2, rtol=1e-12)
    assert reg(no_features()).item() == pytest.approx(float((o2 * (t2 - t0) ** 2).sum()), rel=1e-12)


def test_si_term_is_zero_before_any_step_and_importance_is_not_optimised():
    model = Vector([1.0, 2.0])
    reg = SynapticIntelligence(model, weight=1.0)
    assert reg(no_features()).item() == 0
    assert list(reg.parameters()) == []


def test_si_clamps_negative_importance_to_zero():
    model = Vector([0.0, 0.0])
    reg = SynapticIntelligence(model, weight=1.0)
    model.theta.grad = torch.tensor([1.0, 1.0], dtype=torch.float64)
    with torch.no_grad():  # a step *up* the gradient on the first weight: ω = -g Δθ < 0
        model.theta.add_(torch.tensor([0.1, -0.1], dtype=torch.float64))
    reg.after_step()
    np.testing.assert_allclose(reg.omegas[0].numpy(), [-0.1, 0.1])
    assert reg.importances[0][0] == 0 and reg.importances[0][1] == pytest.approx(0.1 / (0.01 + 1e-3))


def test_si_ignores_parameters_the_step_did_not_reach():
    model = Vector([1.0])
    reg = SynapticIntelligence(model, weight=1.0)
    with torch.no_grad():
        model.theta.add_(1.0)  # moved (e.g. by weight decay alone) but no gradient
    reg.after_step()
    assert reg.omegas[0].item() == 0
    model.theta.grad = torch.tensor([-1.0], dtype=torch.float64)
    with torch.no_grad():
        model.theta.add_(0.5)
    reg.after_step()  # only this step's Δθ = 0.5 counts
    assert reg.omegas[0].item() == pytest.approx(0.5)


@pytest.mark.parametrize("xi", [0.0, -1e-3, float("nan")])
def test_si_rejects_non_positive_damping(xi):
    with pytest.raises(ValueError, match="xi must be > 0"):
        SynapticIntelligence(Vector([1.0]), weight=1.0, xi=xi)


# --- Feature l2 ---------------------------------------------------------------------


@pytest.mark.parametrize("stage", [1, 2, 3, 4])
def test_feature_l2_is_the_mean_squared_difference_of_feature_maps(stage):
    student, teacher = maps(0, requires_grad=True), maps(1)
    reg = FeatureL2(weight=1.0, stage=stage)
    s, t = student[stage - 1].detach().numpy(), teacher[stage - 1].numpy()
    b, c, h, w = s.shape
    # ROAD's distance, position by position, averaged: loops over every element
    expected = sum(
        (s[i, k, y, x] - t[i, k, y, x]) ** 2 for i in range(b) for k in range(c) for y in range(h) for x in range(w)
    ) / (b * c * h * w)
    term = reg(StepFeatures(student, teacher))
    assert term.item() == pytest.approx(expected, rel=1e-12)
    term.backward()
    assert student[stage - 1].grad is not None
    assert all(m.grad is None for i, m in enumerate(student) if i != stage - 1)
    assert reg(StepFeatures(teacher, teacher)).item() == 0
    assert FeatureL2.needs_teacher
    # maps with equal means at every channel but different layouts differ on the map, not once pooled
    flipped = [m.flip(-1) for m in teacher]
    assert reg(StepFeatures(teacher, flipped)).item() > 0


# --- ASG ----------------------------------------------------------------------------


def imagenet_like_classifier(in_dim=6, classes=5):
    torch.manual_seed(3)
    return nn.Linear(in_dim, classes).double()


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_asg_kl_matches_scipy_on_hand_logits(temperature):
    fc = imagenet_like_classifier()
    student, teacher = maps(0, requires_grad=True), maps(1)
    reg = ASGDistillation(fc, weight=1.0, temperature=temperature)
    W, b = fc.weight.detach().numpy(), fc.bias.detach().numpy()

    def probs(m):
        z = (m.detach().numpy().mean(axis=(2, 3)) @ W.T + b) / temperature
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    p_student, p_teacher = probs(student[-1]), probs(teacher[-1])
    expected = np.mean([entropy(p_teacher[i], p_student[i]) for i in range(3)])  # KL(teacher || student)
    assert reg(StepFeatures(student, teacher)).item() == pytest.approx(expected, rel=1e-10)
    assert reg(StepFeatures(teacher, teacher)).item() == pytest.approx(0, abs=1e-15)


def test_asg_gradient_reaches_the_student_features_not_the_frozen_classifier():
    fc = imagenet_like_classifier()
    reg = ASGDistillation(fc, weight=1.0)
    student = maps(0, requires_grad=True)
    teacher = maps(1, requires_grad=True)  # even if handed maps that track gradients
    reg(StepFeatures(student, teacher)).backward()
    assert student[-1].grad.abs().sum() > 0
    assert teacher[-1].grad is None
    assert all(p.grad is None and not p.requires_grad for p in reg.classifier.parameters())
    assert all(p.grad is None for p in fc.parameters())
    assert [p.requires_grad for p in fc.parameters()] == [True, True]  # the caller's layer is untouched
    reg.train()
    assert reg.training and not reg.classifier.training


@pytest.mark.slow
def test_asg_on_a_real_backbone_is_zero_at_init_and_the_step_changes_only_the_student(imagenet_lite0):
    student = build_backbone("efficientnet_lite0")
    teacher = Frozen(student)
    reg = ASGDistillation(student.imagenet_classifier, weight=1.0)
    classifier_before = [p.clone() for p in reg.classifier.parameters()]
    x = torch.randn(2, 3, 32, 32)
    student.eval()  # same function as the teacher: the term is exactly the KL of equal distributions
    assert reg(StepFeatures(student(x), teacher(x))).item() == pytest.approx(0, abs=1e-6)
    opt = torch.optim.SGD([p for n, p in student.named_parameters() if not n.startswith("imagenet_classifier")], lr=1.0)
    x2 = torch.randn(2, 3, 32, 32)
    term = reg(StepFeatures(student(x2), teacher(x)))
    assert term.item() > 0
    term.backward()
    opt.step()
    assert not torch.equal(student.stages[3][0][0].conv_pw.weight, imagenet_lite0.stages[3][0][0].conv_pw.weight)
    for after, before in zip(teacher.backbone.state_dict().values(), imagenet_lite0.state_dict().values()):
        assert torch.equal(after, before)
    assert all(torch.equal(a, b) for a, b in zip(reg.classifier.parameters(), classifier_before))


# --- Bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: WeightL2(tiny_net(), weight=-1.0), "weight must be >= 0"),
        (lambda: SynapticIntelligence(tiny_net(), weight=-0.1), "weight must be >= 0"),
        (lambda: FeatureL2(weight=-1.0), "weight must be >= 0"),
        (lambda: FeatureL2(weight=1.0, stage=0), "stage must be one of 1, 2, 3, 4"),
        (lambda: FeatureL2(weight=1.0, stage=5), "stage must be one of 1, 2, 3, 4"),
        (lambda: ASGDistillation(imagenet_like_classifier(), weight=-1.0), "weight must be >= 0"),
        (lambda: ASGDistillation(imagenet_like_classifier(), weight=1.0, temperature=0.0), "temperature must be > 0"),
        (lambda: ASGDistillation(imagenet_like_classifier(), weight=1.0, temperature=-2.0), "temperature must be > 0"),
        (
            lambda: ASGDistillation(build_backbone("efficientnet_lite0", weights=None).imagenet_classifier, weight=1.0),
            "weights='imagenet'",
        ),
    ],
)
def test_baselines_reject_bad_input(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_defaults_feature_l2_on_stage_4_and_asg_at_temperature_1():
    student, teacher = maps(0), maps(1)
    assert FeatureL2(1.0)(StepFeatures(student, teacher)).item() == pytest.approx(
        ((student[3] - teacher[3]) ** 2).mean().item(), rel=1e-12
    )
    fc = imagenet_like_classifier()
    assert ASGDistillation(fc, 1.0)(StepFeatures(student, teacher)).item() == pytest.approx(
        ASGDistillation(fc, 1.0, temperature=1.0)(StepFeatures(student, teacher)).item(), rel=1e-12
    )


def test_build_makes_each_baseline_on_the_given_backbone_and_weight():
    net = tiny_net()
    for cls in (WeightL2, SynapticIntelligence):
        reg = cls.build(net, 0.7, None)
        assert type(reg) is cls and reg.weight == 0.7 and reg.params == list(net.parameters())
    assert FeatureL2.build(net, 0.2, None).weight == 0.2
    fc = imagenet_like_classifier()
    asg = ASGDistillation.build(SimpleNamespace(imagenet_classifier=fc), 0.3, None)
    assert asg.weight == 0.3 and torch.equal(asg.classifier.weight, fc.weight)
