"""Verdicts over seeds: a mean with its 95 % confidence interval, and the paired difference.

The rule, declared before the runs (and used by every chapter):

- a setting's score is reported as its mean over seeds ± the half-width of the 95 %
  Student-t confidence interval of that mean;
- a claim compares a setting with its reference *seed by seed* (the same seed draws the
  same training subset and initial heads), through the mean of the paired differences
  and its 95 % t-interval;
- the claim is **reproduced** when the interval excludes 0 in the paper's direction,
  **contradicted** when it excludes 0 the other way, and **inconclusive** otherwise
  (including when fewer than two paired seeds exist);
- every verdict shows its **minimum detectable effect**: the smallest true difference its seeds
  would detect with power 0.8 by that two-sided test at α = 0.05, given the spread observed;
- over a scorecard of many claims, the verdicts are also given after **Holm's correction**
  (the same test's p-values, family-wise α = 0.05 over every judged claim and target).

Power and multiplicity come from statsmodels, not from formulas of our own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower

LEVEL = 0.95
POWER = 0.8
VERDICTS = ("reproduced", "contradicted", "inconclusive")


@dataclass(frozen=True)
class Interval:
    """A mean over n seeds and its confidence interval [low, high] (NaN-wide when n < 2)."""

    mean: float
    low: float
    high: float
    n: int
    sd: float = math.nan  # the values' standard deviation (ddof 1)

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    @property
    def p_value(self) -> float:
        """Two-sided p of the one-sample t-test of mean 0 (the test the interval inverts; NaN when n < 2)."""
        if self.n < 2 or not self.sd > 0:
            return math.nan if self.n < 2 else float(self.mean == 0)
        return float(2 * stats.t.sf(abs(self.mean) / (self.sd / math.sqrt(self.n)), self.n - 1))

    def detectable(self, power: float = POWER, level: float = LEVEL) -> float:
        """The minimum detectable effect of these n values: the true mean the two-sided t-test at
        1 - ``level`` detects with ``power``, for the standard deviation observed (NaN when n < 2)."""
        return detectable_effect(self.sd, self.n, power, level)

    def format(self, signed: bool = False, digits: int = 2) -> str:
        """ "47.56 ± 1.20" (or "+1.03 ± 2.10" when ``signed``); "(1 seed)" without an interval."""
        mean = f"{self.mean:{'+' if signed else ''}.{digits}f}"
        if self.n < 2:
            return f"{mean} (1 seed)" if self.n == 1 else "—"
        return f"{mean} ± {self.half_width:.{digits}f}"


def mean_ci(values: Sequence[float], level: float = LEVEL) -> Interval:
    """The mean of ``values`` and its two-sided Student-t confidence interval."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError(f"mean_ci expects a 1-d sequence of finite numbers, got {values!r}")
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1)
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf((1 + level) / 2, n - 1) * sd / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n, sd)


def paired_difference(setting: Mapping[int, float], reference: Mapping[int, float], level: float = LEVEL) -> Interval:
    """Mean of ``setting[s] - reference[s]`` over the seeds s both have, with its CI."""
    seeds = sorted(set(setting.keys()) & set(reference.keys()))  # keys: a pandas Series works too
    return mean_ci([setting[s] - reference[s] for s in seeds], level)


def verdict(difference: Interval, direction: int) -> str:
    """The rule above: ``direction`` is +1 when the paper says the setting is higher, -1 lower."""
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 (paper: higher) or -1 (paper: lower), got {direction!r}")
    if difference.n < 2:
        return "inconclusive"
    if difference.low > 0 or difference.high < 0:
        return "reproduced" if (difference.low > 0) == (direction > 0) else "contradicted"
    return "inconclusive"


def detectable_effect(sd: float, n: int, power: float = POWER, level: float = LEVEL) -> float:
    """The smallest true mean difference n paired seeds spreading with ``sd`` detect with ``power``
    by the verdict's two-sided t-test (NaN when n < 2 or the spread is unknown)."""
    if n < 2 or not np.isfinite(sd):
        return math.nan
    d = TTestPower().solve_power(nobs=n, alpha=1 - level, power=power, alternative="two-sided")
    return float(d * sd)


def seeds_needed(sd: float, effect: float, power: float = POWER, level: float = LEVEL) -> int:
    """Seeds a paired comparison needs to detect a true mean difference ``effect`` with ``power``
    by the verdict's two-sided t-test, when the paired differences spread with ``sd`` (a pilot's)."""
    if not (sd > 0 and effect > 0):
        raise ValueError(f"seeds_needed needs sd > 0 and effect > 0, got sd={sd!r}, effect={effect!r}")
    power_of = partial(TTestPower().power, effect / sd, alpha=1 - level, alternative="two-sided")
    n = 2  # counted up, not solved: the root finder gives up on small effects
    while power_of(nobs=n) < power:
        n += 1
    return n


def holm_verdicts(differences: Sequence[Interval], directions: Sequence[int], level: float = LEVEL) -> list[str]:
    """The verdicts of :func:`verdict` after Holm's correction over all ``differences`` at once
    (family-wise error 1 - ``level``); a difference with fewer than two seeds stays inconclusive."""
    tested = [i for i, d in enumerate(differences) if d.n >= 2]
    out = ["inconclusive"] * len(differences)
    if not tested:
        return out
    reject = multipletests([differences[i].p_value for i in tested], alpha=1 - level, method="holm")[0]
    for i, rejected in zip(tested, reject):
        if rejected:
            out[i] = "reproduced" if (differences[i].mean > 0) == (directions[i] > 0) else "contradicted"
    return out
