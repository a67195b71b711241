"""The report's intervals, each with its method and its real coverage.

The median of n repetitions gets the exact distribution-free order-statistic interval
[x_(k), x_(n-k+1)]: for any continuous distribution it holds the true median with probability
1 - 2 * P(Binom(n, 1/2) <= k - 1), whatever the shape. k is the largest whose coverage reaches
CONFIDENCE. With n <= 5 not even k = 1 ([min, max]) does; then [min, max] is given with the
coverage it really has, and below MIN_COVERAGE it is called a range, never an interval, and
decides nothing.

A ratio between two sides pairs repetition i of one with repetition i of the other (the runner
interleaves them, so the pair shares the machine's state at that moment) and gives the
geometric mean of the per-repetition ratios with a t-interval on their logarithms.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
# [min, max] of 5 repetitions holds the median 93.75 % of the time: close enough to the nominal
# level to read as an interval that says so. Of 4 (87.5 %) or 3 (75 %) it misses one time in
# eight or four: that is the spread of the repetitions, not an interval.
MIN_COVERAGE = 0.90
MIN_N_FOR_CI = 3

ORDER_STATISTICS = "order statistics"  # [x_(k), x_(n-k+1)] reaching CONFIDENCE
RANGE = "range"  # [min, max], short of CONFIDENCE; an interval only from MIN_COVERAGE
PAIRED_T = "paired log-ratio t"
NONE = "none"  # no bounds: fewer than MIN_N_FOR_CI values


@dataclass(frozen=True)
class Estimate:
    """A median or a ratio with its bounds, how they were found and how often such bounds hold
    the true value. low/high are NaN without bounds (fewer than MIN_N_FOR_CI values)."""

    value: float
    low: float
    high: float
    n: int
    method: str = ""  # one of the methods above; "" when built by hand, coverage unknown
    coverage: float = math.nan  # the real probability that [low, high] holds the true value

    @property
    def has_interval(self) -> bool:
        """Bounds to show: an interval or a range (see is_interval)."""
        return not (math.isnan(self.low) or math.isnan(self.high))

    @property
    def is_interval(self) -> bool:
        """Bounds that may decide something: their real coverage reaches MIN_COVERAGE."""
        return self.has_interval and self.coverage >= MIN_COVERAGE

    @property
    def label(self) -> str:
        """What the brackets after the figure are, with their real coverage ("" for none)."""
        if not self.has_interval:
            return ""
        if self.method == PAIRED_T:
            return paired_text(self.n)
        if self.method in (ORDER_STATISTICS, RANGE):
            return median_text(self.n)
        return "bounds of an unstated method"


NAN_ESTIMATE = Estimate(math.nan, math.nan, math.nan, 0, NONE)


def percent(share: float) -> str:
    return f"{share:.0%}".replace("%", " %")


RATIO_METHOD = (
    f"{percent(CONFIDENCE)} t-interval of the geometric mean of the per-repetition ratios"
)


def range_coverage(n: int) -> float:
    """How often [min, max] of n values holds the true median: 1 - 2 * (1/2)^n."""
    return 1.0 - 2.0 * 0.5**n


@lru_cache(maxsize=256)
def order_statistic(n: int) -> tuple[int, float]:
    """(k, coverage) of the median's interval [x_(k), x_(n-k+1)]: the largest k reaching
    CONFIDENCE, or k = 1 with its real coverage where none does."""
    if n < 1:
        raise ValueError(f"an interval of the median needs at least one value, got n = {n}")
    k = 1
    while k + 1 <= (n + 1) // 2 and _coverage(n, k + 1) >= CONFIDENCE:
        k += 1
    return k, _coverage(n, k)


def _coverage(n: int, k: int) -> float:
    return float(1.0 - 2.0 * stats.binom.cdf(k - 1, n, 0.5))


def median_text(n: int) -> str:
    """The brackets around a median of n repetitions, in words, with their real coverage."""
    if n < MIN_N_FOR_CI:
        return f"no interval with fewer than {MIN_N_FOR_CI} repetitions"
    k, coverage = order_statistic(n)
    if coverage >= CONFIDENCE:
        return (
            f"order-statistic interval of the median ({_ordinal(k)} to {_ordinal(n - k + 1)} of "
            f"{n} repetitions), covers the median {percent(coverage)}"
        )
    if coverage >= MIN_COVERAGE:
        return f"range of {n} repetitions, covers the median {percent(coverage)}"
    return (
        f"range of {n} repetitions (lowest to highest), covers the median only "
        f"{percent(coverage)}: a range, not an interval"
    )


def paired_text(n: int) -> str:
    return (
        f"{RATIO_METHOD}, over {n} pairs (repetition i of one side over repetition i of the other)"
    )


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def median_ci(values: Sequence[float]) -> Estimate:
    """The median of the repetitions (NaN left out), with its order-statistic interval or its
    range from MIN_N_FOR_CI values."""
    data = np.sort(np.asarray([v for v in values if not math.isnan(v)], dtype=float))
    n = int(data.size)
    if n == 0:
        return NAN_ESTIMATE
    median = float(np.median(data))
    if n < MIN_N_FOR_CI:
        return Estimate(median, math.nan, math.nan, n, NONE)
    k, coverage = order_statistic(n)
    method = ORDER_STATISTICS if coverage >= CONFIDENCE else RANGE
    return Estimate(median, float(data[k - 1]), float(data[n - k]), n, method, coverage)


def paired_ratio_ci(a: Mapping[int, float], b: Mapping[int, float]) -> Estimate:
    """a / b paired by repetition, over the repetitions both sides have (NaN left out): the
    geometric mean of a_i / b_i, with a t-interval on log(a_i / b_i) from MIN_N_FOR_CI pairs.
    NaN when a side is zero or negative: such a ratio has no logarithm."""
    pairs = [(a[i], b[i]) for i in sorted(set(a) & set(b))]
    pairs = [(x, y) for x, y in pairs if not (math.isnan(x) or math.isnan(y))]
    n = len(pairs)
    if n == 0 or any(x <= 0 or y <= 0 for x, y in pairs):
        return Estimate(math.nan, math.nan, math.nan, n, NONE)
    logs = np.log([x / y for x, y in pairs])
    centre = float(np.mean(logs))
    if n < MIN_N_FOR_CI:
        return Estimate(math.exp(centre), math.nan, math.nan, n, NONE)
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * np.std(logs, ddof=1) / math.sqrt(n))
    return Estimate(
        math.exp(centre),
        math.exp(centre - half),
        math.exp(centre + half),
        n,
        PAIRED_T,
        CONFIDENCE,
    )


def method_text() -> str:
    """How every median, ratio and bracket of the report is computed, coverage included."""
    M = "\u2212"  # the minus sign of the formulas
    short = [n for n in range(MIN_N_FOR_CI, 64) if order_statistic(n)[1] < CONFIDENCE]
    ranges = ", ".join(f"n = {n}: {percent(range_coverage(n))}" for n in reversed(short))
    return (
        f"median over repetitions; from n = {MIN_N_FOR_CI} repetitions the median's bracket is "
        f"the exact distribution-free order-statistic interval [x_(k), x_(n{M}k+1)], k the largest "
        f"whose coverage 1 {M} 2·P(Binom(n, ½) ≤ k {M} 1) reaches {percent(CONFIDENCE)}; where not "
        f"even [min, max] reaches it (n ≤ {max(short)}) the bracket is [min, max] with the "
        f"coverage it really has ({ranges}), called a range, not an interval, below "
        f"{percent(MIN_COVERAGE)}, and a range decides no reading. A ratio between two "
        "deployments (or stacks, or configurations) pairs repetition i of one with repetition i "
        "of the other, which the runner interleaves on the same machine, over the repetitions "
        "both have: the figure is the geometric mean of the per-repetition ratios, the bracket "
        f"a {percent(CONFIDENCE)} t-interval on their logarithms, exp(mean ± t(n{M}1) · sd / √n) "
        f"(scipy.stats.t), from {MIN_N_FOR_CI} pairs"
    )
