"""The report's intervals hold what they say: coverage on simulated repetitions, ranges named as
ranges, ratios paired by repetition."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from bench.store.table import COLUMNS
from reports import intervals, stats

SEED = 20240613
DRAWS = 2000
TRUE_RATIO = 1.2
DRIFT_SD = 0.10  # the machine's speed from one repetition to the next, on both sides alike
NOISE_SD = 0.02  # each side's own noise within a repetition


def _paired_draws(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """DRAWS runs of n repetitions of two sides, a / b = TRUE_RATIO in the log-median."""
    drift = np.exp(rng.normal(0.0, DRIFT_SD, size=(DRAWS, n)))
    a = 100.0 * TRUE_RATIO * drift * np.exp(rng.normal(0.0, NOISE_SD, size=(DRAWS, n)))
    b = 100.0 * drift * np.exp(rng.normal(0.0, NOISE_SD, size=(DRAWS, n)))
    return a, b


def _by_repetition(values: np.ndarray) -> dict[int, float]:
    return {i: float(v) for i, v in enumerate(values, start=1)}


def _unpaired_bootstrap(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The report's former ratio interval: each side resampled on its own, ratio of medians."""

    def ratio(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.median(x, axis=axis) / np.median(y, axis=axis)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = scipy_stats.bootstrap(
            (a, b),
            ratio,
            n_resamples=500,
            method="percentile",
            vectorized=True,
            rng=np.random.default_rng(SEED),
        ).confidence_interval
    return float(found.low), float(found.high)


def paired_coverage() -> tuple[float, float, float]:
    """(coverage of the paired t-interval, its mean width, the unpaired bootstrap's mean width)
    over DRAWS runs of 5 repetitions with a shared drift."""
    a, b = _paired_draws(5, np.random.default_rng(SEED))
    held, widths, unpaired = 0, [], []
    for x, y in zip(a, b, strict=True):
        e = stats.paired_ratio_ci(_by_repetition(x), _by_repetition(y))
        held += e.low <= TRUE_RATIO <= e.high
        widths.append(e.high - e.low)
        low, high = _unpaired_bootstrap(x, y)
        unpaired.append(high - low)
    return held / DRAWS, float(np.mean(widths)), float(np.mean(unpaired))


def median_coverage(n: int, draws: int = 20_000) -> float:
    """How often the median's bracket of n lognormal repetitions holds the true median."""
    rng = np.random.default_rng(SEED + n)
    true_median = math.exp(3.0)
    samples = np.exp(rng.normal(3.0, 0.5, size=(draws, n)))
    held = 0
    for row in samples:
        e = stats.median_ci(row.tolist())
        held += e.low <= true_median <= e.high
    return held / draws


def test_the_paired_ratio_interval_covers_the_true_ratio_and_is_narrower_than_unpaired():
    coverage, paired_width, unpaired_width = paired_coverage()
    assert coverage >= 0.93
    # The drift moves both sides of a repetition alike: pairing cancels it, resampling each
    # side on its own counts it twice.
    assert unpaired_width > paired_width


@pytest.mark.parametrize("n", [5, 9])
def test_the_median_interval_covers_the_true_median(n):
    assert median_coverage(n) >= 0.93


def test_three_repetitions_give_a_range_with_its_coverage():
    e = stats.median_ci([10.0, 12.0, 11.0])
    assert e.method == intervals.RANGE
    assert e.coverage == pytest.approx(0.75)
    assert not e.is_interval
    assert (e.low, e.high) == (10.0, 12.0)
    assert "range" in e.label and "75 %" in e.label and "not an interval" in e.label


def test_five_repetitions_give_their_range_with_its_real_coverage():
    e = stats.median_ci([10.0, 12.0, 11.0, 13.0, 9.0])
    assert e.method == intervals.RANGE
    assert e.coverage == pytest.approx(1 - 2 * 0.5**5)
    assert e.is_interval
    assert (e.low, e.high) == (9.0, 13.0)
    assert "range of 5 repetitions" in e.label and "94 %" in e.label


def test_nine_repetitions_give_the_order_statistic_interval():
    e = stats.median_ci([float(v) for v in range(1, 10)])
    assert e.method == intervals.ORDER_STATISTICS
    assert (e.low, e.high) == (2.0, 8.0)  # k = 2: the largest reaching the nominal level
    assert e.coverage >= intervals.CONFIDENCE
    assert e.coverage == pytest.approx(1 - 2 * scipy_stats.binom.cdf(1, 9, 0.5))


def test_pairing_uses_only_the_repetitions_both_sides_have():
    a = {1: 110.0, 2: 120.0, 3: 130.0, 4: 140.0}
    b = {2: 100.0, 3: 100.0, 4: 100.0, 5: 100.0}
    e = stats.paired_ratio_ci(a, b)
    assert e.n == 3
    assert e.value == pytest.approx((1.2 * 1.3 * 1.4) ** (1 / 3))
    assert e.method == intervals.PAIRED_T and e.is_interval


def test_fewer_than_three_pairs_give_no_interval():
    e = stats.paired_ratio_ci({1: 2.0, 2: 4.0, 3: 6.0}, {1: 1.0, 2: 2.0})
    assert e.n == 2
    assert e.value == pytest.approx(2.0)
    assert not e.has_interval


def test_values_by_repetition_keys_each_value_by_its_repetition():
    rows = [
        ("r", "flask", "default", "api_single", 1, rep, "throughput", value, "1/s", "m")
        for rep, value in ((2, 20.0), (1, 10.0), (3, 30.0))
    ]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    found = stats.values_by_repetition(frame, "flask", "default", "api_single", 1, "throughput")
    assert found == {1: 10.0, 2: 20.0, 3: 30.0}


def test_two_values_in_one_repetition_are_refused():
    rows = [
        ("r", "flask", "default", "api_single", 1, 1, "throughput", value, "1/s", "m")
        for value in (10.0, 11.0)
    ]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    with pytest.raises(ValueError, match="more than one throughput per repetition"):
        stats.values_by_repetition(frame, "flask", "default", "api_single", 1, "throughput")


def test_the_method_text_names_both_methods_and_the_real_coverage():
    text = stats.METHOD_TEXT
    assert "order-statistic" in text and "t-interval" in text
    assert intervals.percent(intervals.range_coverage(3)) in text
    assert "bootstrap" not in text
