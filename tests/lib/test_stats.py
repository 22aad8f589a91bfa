"""The verdict rule against scipy's own t-interval and paired t-test."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from csg.stats import Interval, holm_verdicts, mean_ci, paired_difference, seeds_needed, verdict


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


def _power(effect_over_sd: float, n: int, alpha: float = 0.05) -> float:
    """Power of the two-sided one-sample t-test, from the noncentral t (scipy), written apart from statsmodels."""
    crit = sps.t.ppf(1 - alpha / 2, n - 1)
    nc = effect_over_sd * math.sqrt(n)
    return sps.nct.sf(crit, n - 1, nc) + sps.nct.cdf(-crit, n - 1, nc)


def test_p_value_is_the_one_sample_t_tests_and_inverts_the_interval():
    values = [1.0, 2.5, 0.3, 1.8, 2.2]
    d = mean_ci(values)
    assert d.p_value == pytest.approx(sps.ttest_1samp(values, 0).pvalue, rel=1e-12)
    assert (d.p_value < 0.05) == (d.low > 0 or d.high < 0)
    touching = mean_ci([0.5, -0.1, 0.9])
    assert (touching.p_value < 0.05) == (touching.low > 0 or touching.high < 0)


def test_the_minimum_detectable_effect_is_detected_with_power_0_8():
    d = mean_ci([1.0, 2.5, 0.3, 1.8, 2.2])
    assert d.sd == pytest.approx(np.std([1.0, 2.5, 0.3, 1.8, 2.2], ddof=1))
    assert _power(d.detectable() / d.sd, 5) == pytest.approx(0.8, abs=1e-6)
    assert _power(d.detectable(power=0.9) / d.sd, 5) == pytest.approx(0.9, abs=1e-6)
    assert math.isnan(mean_ci([1.0]).detectable())


@pytest.mark.parametrize("sd, effect", [(3.0, 3.0), (4.6, 3.0), (0.9, 1.0)])
def test_seeds_needed_is_the_fewest_with_power_0_8(sd, effect):
    n = seeds_needed(sd, effect)
    assert _power(effect / sd, n) >= 0.8 > _power(effect / sd, n - 1)
    with pytest.raises(ValueError, match="sd > 0 and effect > 0"):
        seeds_needed(0.0, effect)


def test_holms_correction_keeps_only_what_survives_the_stepdown():
    # p-values about 0.004, 0.02 and 0.3: Holm at 0.05 compares them with 0.05/3, 0.05/2, 0.05.
    strong, middle, weak = mean_ci([2.0, 2.2, 1.9, 2.1]), mean_ci([1.0, 2.5, 0.3, 1.8, 2.2]), mean_ci([0.5, -0.1, 0.9])
    assert strong.p_value < 0.05 / 3 and 0.05 / 2 > middle.p_value > 0.05 / 3 and weak.p_value > 0.05
    assert holm_verdicts([strong, middle, weak], [1, -1, 1]) == ["reproduced", "contradicted", "inconclusive"]
    assert holm_verdicts([mean_ci([1.0, 2.5, 0.3, 1.8, 2.2]), mean_ci([1.0]), weak, weak], [1, 1, 1, 1])[1] == (
        "inconclusive"
    )
