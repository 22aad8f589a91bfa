"""Verdicts over seeds: a mean with its 95 % confidence interval, and the paired difference.

The rule, declared before the runs (and used by every chapter):

- a setting's score is reported as its mean over seeds ± the half-width of the 95 %
  Student-t confidence interval of that mean;
- a claim compares a setting with its reference *seed by seed* (the same seed draws the
  same training subset and initial heads), through the mean of the paired differences
  and its 95 % t-interval;
- the claim is **reproduced** when the interval excludes 0 in the paper's direction,
  **contradicted** when it excludes 0 the other way, and **inconclusive** otherwise
  (including when fewer than two paired seeds exist).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95
VERDICTS = ("reproduced", "contradicted", "inconclusive")


@dataclass(frozen=True)
class Interval:
    """A mean over n seeds and its confidence interval [low, high] (NaN-wide when n < 2)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

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
    half = float(stats.t.ppf((1 + level) / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


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
