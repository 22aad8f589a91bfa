"""The official recipe, checked against the official formulas written out independently here:
its SGD (learning rate inside the momentum buffer), its warm-up and schedule, and an EMA
momentum that follows the queue's span."""

import numpy as np
import pytest
import torch

from csg.config import Config
from csg.optim import OfficialSGD, lr_factor
from csg.scaling import PAPER_SCALE, RunScale, queue_ema_momentum, scaled_settings


def _official_steps(p0, grads, lrs, momentum, wd):
    """NVlabs/CSG utils/sgd.py, by its definition: buf = mu * buf + lr * (g + wd * p); p -= buf."""
    p, buf = np.array(p0, dtype=np.float64), None
    for g, lr in zip(grads, lrs):
        d = lr * (g(p) + wd * p)
        buf = d if buf is None else momentum * buf + d
        p = p - buf
    return p


def _run(opt_class, p0, grads, lrs, momentum, wd):
    p = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
    opt = opt_class([p], lr=lrs[0], momentum=momentum, weight_decay=wd)
    for g, lr in zip(grads, lrs):
        for group in opt.param_groups:
            group["lr"] = lr
        p.grad = torch.as_tensor(g(p.detach().numpy()))
        opt.step()
    return p.detach().numpy()


P0 = [1.0, -2.0, 0.5]
GRADS = [lambda p, k=k: np.array([2.0, 1.0, -1.0]) * p + 0.1 * k for k in range(8)]  # a quadratic bowl, shifting


def test_official_sgd_steps_as_the_official_formula():
    lrs = [0.01 * (1 + k) ** 2 for k in range(8)]  # a changing rate, as in a warm-up
    ours = _run(OfficialSGD, P0, GRADS, lrs, 0.9, 5e-4)
    np.testing.assert_allclose(ours, _official_steps(P0, GRADS, lrs, 0.9, 5e-4), rtol=0, atol=1e-14)
    # torch's SGD takes other steps when the rate changes, the same ones when it does not
    assert not np.allclose(_run(torch.optim.SGD, P0, GRADS, lrs, 0.9, 5e-4), ours)
    const = [0.05] * 8
    np.testing.assert_allclose(
        _run(torch.optim.SGD, P0, GRADS, const, 0.9, 5e-4), _run(OfficialSGD, P0, GRADS, const, 0.9, 5e-4), atol=1e-14
    )


def test_official_schedule_is_a_quadratic_ramp_times_poly_over_the_whole_run():
    total = 1000
    for it in (0, 1, 37, 99, 100, 101, 500, 999):
        ramp = min(0.01 + 0.99 * (it / 100) ** 2, 1.0)
        assert lr_factor(it, total, 100, "official") == pytest.approx(ramp * (1 - it / total) ** 0.9, abs=1e-15)
    assert lr_factor(0, total, 100, "official") == pytest.approx(0.01)  # 100x below the base rate at step 0
    assert lr_factor(0, total, 0, "book") == 1.0  # the book's recipe with no warm-up starts at the base rate
    assert lr_factor(4, 10, 5, "book") == 1.0 and lr_factor(0, 10, 5, "book") == pytest.approx(0.2)


def test_ema_momentum_follows_the_queue_span():
    # the paper: K = 65,536 keys, 32 per step -> a 2,048-step span; m = 0.999 -> a 1,000-step horizon
    assert queue_ema_momentum(65_536, 32) == pytest.approx(0.999, abs=1e-12)
    span = 1720 / 32
    assert queue_ema_momentum(1720, 32) == pytest.approx(1 - 1 / (1000 / 2048 * span))
    assert 0.96 < queue_ema_momentum(1720, 32) < 0.965
    assert queue_ema_momentum(32, 32) == 0.0  # a horizon under one step: no averaging
    official = scaled_settings(PAPER_SCALE, recipe="official")
    assert (official.queue_size, official.warmup_iters) == (65_536, 100)
    assert official.ema_momentum == pytest.approx(0.999, abs=1e-12)
    small = scaled_settings(RunScale(4000, 32, 3), recipe="official")
    assert small.warmup_iters == 100  # steps, whatever the run's length
    assert small.ema_momentum == pytest.approx(queue_ema_momentum(small.queue_size, 32))
    with pytest.raises(ValueError, match="accepted: book, official"):
        scaled_settings(PAPER_SCALE, recipe="paper")


def test_the_official_recipe_is_the_default_and_builds_the_official_optimizer():
    from csg.regularizers import NoRegularizer
    from csg.step import TrainStep, build_optimizer

    assert Config(recipe="book").run_name != Config().run_name
    assert Config(recipe="official").run_name == Config().run_name
    step = TrainStep(torch.nn.Linear(2, 2), NoRegularizer(), None)
    step.model.backbone = torch.nn.Linear(2, 2)
    assert isinstance(build_optimizer(Config(), step), OfficialSGD)
    assert type(build_optimizer(Config(recipe="book"), step)) is torch.optim.SGD
    with pytest.raises(ValueError, match="unknown recipe 'paper'; accepted: book, official"):
        Config(recipe="paper").validate()


def test_the_book_schedule_decays_by_poly_after_its_linear_warm_up():
    assert lr_factor(7, 10, 2, "book") == pytest.approx((1 - 5 / 8) ** 0.9)
    assert lr_factor(5, 10, 0, "book") == pytest.approx(0.5**0.9)
    assert lr_factor(3, 10, 0, "official") == pytest.approx(0.7**0.9)  # no warm-up: the poly decay alone


def test_official_sgd_keeps_its_settings_and_without_momentum_is_plain_descent():
    p = torch.zeros(2, requires_grad=True)
    group = OfficialSGD([p], lr=0.1, momentum=0.0, weight_decay=0.5).param_groups[0]
    assert (group["lr"], group["momentum"], group["weight_decay"]) == (0.1, 0.0, 0.5)
    lrs = [0.1, 0.3]
    ours = _run(OfficialSGD, P0, GRADS[:2], lrs, 0.0, 0.0)
    np.testing.assert_allclose(ours, _official_steps(P0, GRADS[:2], lrs, 0.0, 0.0), atol=1e-14)
    for bad in (dict(lr=0.0), dict(lr=0.1, momentum=1.0), dict(lr=0.1, weight_decay=-1.0)):
        with pytest.raises(ValueError, match="need lr > 0, momentum in"):
            OfficialSGD([p], **bad)


def test_dense_keys_count_in_the_official_momentum():
    dense = scaled_settings(RunScale(1000, 8, 2), keys_per_image=4, recipe="official")
    assert dense.ema_momentum == pytest.approx(queue_ema_momentum(dense.queue_size, 8 * 4))


def test_the_shortest_warm_up_and_horizon_still_count():
    assert lr_factor(0, 10, 1, "official") == pytest.approx(0.01)  # a one-step ramp starts at 0.01 too
    assert queue_ema_momentum(3072, 1000) == pytest.approx(1 - 1 / 1.5)  # a 1.5-step horizon is kept
