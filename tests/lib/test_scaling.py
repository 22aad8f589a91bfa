"""The scale rule: the paper's exact values at the paper's scale, its ratios at any other."""

import pytest

from csg import scaling
from csg.scaling import PAPER_SCALE, RunScale, scaled_settings


def test_the_paper_scale_gives_the_papers_values():
    assert PAPER_SCALE.steps == 30 * (152_397 // 32) == 142_860
    paper = scaled_settings(PAPER_SCALE)
    assert (paper.queue_size, paper.warmup_iters) == (65_536, 100)
    assert paper.ema_momentum == pytest.approx(0.999, abs=1e-12)


def test_the_ratios_hold_at_another_scale():
    small = RunScale(train_images=4000, batch_size=32, epochs=3)  # the book's Table 1 run: 375 steps
    s = scaled_settings(small)
    assert s.queue_size / 4000 == pytest.approx(65_536 / 152_397, abs=1 / 4000)
    assert s.queue_size < 3 * 4000  # smaller than the keys the run produces: the queue fills and turns over
    horizon = 1 / (1 - s.ema_momentum)
    assert horizon / small.steps == pytest.approx(1000 / 142_860)
    assert s.warmup_iters == 0  # 100 of 142,860 steps is 0.26 of a step here


def test_dense_csg_keeps_the_official_segmentation_runs_queue_share():
    # the official run: K = 65,536 for 8 x 8 patch keys per crop, epochs of 2,000 steps of 6 crops
    official = RunScale(train_images=2_000 * 6, batch_size=6, epochs=50)
    assert scaling.queue_size(official, keys_per_image=64) == 65_536
    ours = RunScale(train_images=5760, batch_size=8, epochs=2)  # chapter 07's textured scenes
    assert scaling.queue_size(ours, keys_per_image=64) == round(65_536 / 768_000 * 5760 * 64) == 31_457


def test_dense_keys_and_tiny_runs():
    scale = RunScale(train_images=1000, batch_size=8, epochs=2)
    assert scaling.queue_size(scale, keys_per_image=64) == round(65_536 * 64_000 / 768_000)
    tiny = RunScale(train_images=64, batch_size=16, epochs=1)
    assert scaling.queue_size(tiny) == 28 and scaling.ema_momentum(tiny) == 0.0  # a horizon under one step
    assert scaling.queue_size(RunScale(10, 16, 1)) == 16  # never less than one batch of keys


@pytest.mark.parametrize("field, value", [("train_images", 0), ("batch_size", 2.5), ("epochs", -1)])
def test_bad_scale_is_refused(field, value):
    kw = dict(train_images=100, batch_size=8, epochs=1) | {field: value}
    with pytest.raises(ValueError, match=f"{field} must be an integer >= 1"):
        RunScale(**kw)


def test_aspp_rates_are_the_papers_at_its_crop_and_keep_their_share_of_the_map():
    assert scaling.aspp_rates(512) == (12, 24, 36)  # DeepLab-v3 at output stride 8, 512-px crops
    assert scaling.aspp_rates(128) == (3, 6, 9)  # a 16-cell map: the same shares of its side
    assert scaling.aspp_rates(16) == (1, 1, 1)  # never below an ordinary convolution
    assert scaling.aspp_rates(8) == (1, 1, 1)  # the smallest crop: a one-cell map
    assert scaling.aspp_rates(64, output_stride=1) == (12, 24, 36)  # the same 64-cell side at stride 1
    with pytest.raises(ValueError, match="crop must be an integer"):
        scaling.aspp_rates(4)


def test_the_rule_rounds_and_keeps_small_horizons():
    # 1,143 steps: the warm-up share is 0.80 of a step, rounded (not floored) to 1.
    assert scaling.warmup_iters(RunScale(train_images=1143 * 32, batch_size=32, epochs=1)) == 1
    # 200 steps: a horizon of 1.4 steps is kept (m = 1 - 1 / 1.4), not dropped to m = 0.
    scale = RunScale(train_images=200 * 16, batch_size=16, epochs=1)
    assert scaling.ema_momentum(scale) == pytest.approx(1 - 142_860 / (1000 * 200), rel=1e-12)
    # Dense keys in a tiny run: the queue still holds one batch of patch keys (CSG refuses less).
    assert scaling.queue_size(RunScale(10, 16, 1), keys_per_image=4) == 64
    # Dense CSG's settings count its patch keys.
    dense = RunScale(train_images=1000, batch_size=8, epochs=2)
    assert scaled_settings(dense, keys_per_image=64).queue_size == round(65_536 * 64_000 / 768_000)
