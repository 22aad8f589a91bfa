"""The verdict rule against scipy's own t-interval and paired t-test."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from csg.stats import Interval, mean_ci, paired_difference, verdict


def test_mean_ci_is_scipys_t_interval():
    x = [43.1, 45.9, 44.2, 41.7, 46.3]
    ci = mean_ci(x)
    low, high = sps.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=sps.sem(x))
    assert (ci.mean, ci.low, ci.high, ci.n) == pytest.approx((np.mean(x), low, high, 5))
    assert ci.half_width == pytest.approx((high - low) / 2)
    assert ci.format() == f"{np.mean(x):.2f} ± {(high - low) / 2:.2f}"


def test_paired_difference_pairs_seeds_and_agrees_with_the_paired_t_test():
    a = {0: 47.6, 1: 44.1, 2: 46.0, 3: 45.2, 9: 99.0}  # seed 9 has no partner: left out
    b = {0: 45.2, 1: 43.9, 2: 44.5, 3: 43.0}
    d = paired_difference(a, b)
    assert d.n == 4 and d.mean == pytest.approx(np.mean([2.4, 0.2, 1.5, 2.2]))
    # the CI excludes 0 exactly when the two-sided paired t-test rejects at 5 %
    p = sps.ttest_rel([a[s] for s in range(4)], [b[s] for s in range(4)]).pvalue
    assert (d.low > 0) == (p < 0.05)


@pytest.mark.parametrize(
    "low, high, direction, expected",
    [
        (0.5, 2.0, 1, "reproduced"),
        (0.5, 2.0, -1, "contradicted"),
        (-2.0, -0.5, -1, "reproduced"),
        (-2.0, -0.5, 1, "contradicted"),
        (-0.5, 2.0, 1, "inconclusive"),
        (-0.5, 2.0, -1, "inconclusive"),
    ],
)
def test_verdict_rule(low, high, direction, expected):
    assert verdict(Interval((low + high) / 2, low, high, 5), direction) == expected


def test_one_seed_is_an_anecdote():
    one = mean_ci([3.0])
    assert one.n == 1 and math.isnan(one.low) and one.format() == "3.00 (1 seed)"
    assert verdict(paired_difference({0: 5.0}, {0: 1.0}), 1) == "inconclusive"
    assert mean_ci([]).format() == "—"
    for values in ([], [3.0]):  # no interval: NaN-wide, never a number or None
        ci = mean_ci(values)
        assert math.isnan(ci.low) and math.isnan(ci.high) and math.isnan(ci.half_width)
    assert math.isnan(mean_ci([]).mean)


@pytest.mark.parametrize("bad", [[1.0, float("nan")], [[1.0, 2.0]]])
def test_bad_values_are_refused(bad):
    with pytest.raises(ValueError, match="finite numbers"):
        mean_ci(bad)


def test_bad_direction_is_refused():
    with pytest.raises(ValueError, match=r"direction must be \+1"):
        verdict(mean_ci([1.0, 2.0]), 0)


def test_two_seeds_are_enough_and_an_interval_touching_zero_is_inconclusive():
    two = paired_difference({0: 5.0, 1: 5.2}, {0: 1.0, 1: 1.1})
    assert two.n == 2 and verdict(two, 1) == "reproduced" and verdict(two, -1) == "contradicted"
    assert verdict(Interval(1.0, 0.0, 2.0, 5), 1) == "inconclusive"  # 0 is in [0, 2]: not excluded
    assert verdict(Interval(-1.0, -2.0, 0.0, 5), -1) == "inconclusive"
    assert verdict(Interval(0.0, -0.5, 0.5, 5), 1) == "inconclusive"  # a narrow interval around 0


def test_paired_difference_at_another_level_and_the_format_of_two_seeds():
    a, b = {0: 3.0, 1: 5.0, 2: 4.5}, {0: 1.0, 1: 2.5, 2: 2.0}
    d = [2.0, 2.5, 2.5]
    low, high = sps.t.interval(0.8, 2, loc=np.mean(d), scale=sps.sem(d))
    got = paired_difference(a, b, level=0.8)
    assert (got.low, got.high) == pytest.approx((low, high))
    two = mean_ci([1.0, 2.0])
    assert two.format() == f"1.50 ± {two.half_width:.2f}"  # two seeds have an interval


def test_signed_format_of_a_difference():
    # The chapters print paired differences with their sign.
    assert Interval(1.026, -1.074, 3.126, 4).format(signed=True) == "+1.03 ± 2.10"
    assert Interval(-0.5, -1.0, 0.0, 3).format(signed=True, digits=1) == "-0.5 ± 0.5"
    assert Interval(0.25, math.nan, math.nan, 1).format(signed=True) == "+0.25 (1 seed)"
