"""The report's statistics: medians, their intervals, paired ratios, per-level summaries."""

import math

import pandas as pd
import pytest

from bench.store.table import COLUMNS
from reports import stats, text


def test_the_median_gets_its_range_from_three_repetitions():
    estimate = stats.median_ci([100.0, 104.0, 98.0])
    assert estimate.value == 100.0
    assert estimate.n == 3
    assert (estimate.low, estimate.high) == (98.0, 104.0)
    assert estimate.has_interval and not estimate.is_interval


def test_fewer_than_three_repetitions_give_no_interval():
    estimate = stats.median_ci([100.0, 104.0])
    assert estimate.value == 102.0
    assert not estimate.has_interval
    assert text.estimate(estimate) == "102"


def test_identical_repetitions_give_a_point_interval():
    estimate = stats.median_ci([5.0, 5.0, 5.0])
    assert (estimate.value, estimate.low, estimate.high, estimate.n) == (5.0, 5.0, 5.0, 3)


def test_no_values_give_nan_not_zero():
    assert math.isnan(stats.median_ci([]).value)
    assert text.estimate(stats.median_ci([])) == "n/a"


def test_intervals_are_reproducible():
    values = [10.0, 12.0, 11.0, 13.5, 9.0]
    assert stats.median_ci(values) == stats.median_ci(values)


def test_the_paired_ratio_has_an_interval_around_it():
    ratio = stats.paired_ratio_ci({1: 115.0, 2: 116.0, 3: 114.0}, {1: 100.0, 2: 101.0, 3: 99.0})
    assert ratio.value == pytest.approx(1.15, rel=1e-3)
    assert ratio.low < ratio.value < ratio.high
    assert ratio.low > 1.10 and ratio.high < 1.20
    assert ratio.is_interval


def test_a_ratio_over_nothing_is_nan():
    assert math.isnan(stats.paired_ratio_ci({1: 1.0}, {}).value)
    assert math.isnan(stats.paired_ratio_ci({1: 1.0}, {1: 0.0}).value)


def test_summarise_gives_one_row_per_level():
    rows = [
        ("r", "flask", "default", "api_single", users, rep, "throughput", value, "1/s", "m")
        for users, values in ((1, [10.0, 11.0, 12.0]), (8, [40.0, 41.0]))
        for rep, value in enumerate(values, start=1)
    ]
    table = stats.summarise(pd.DataFrame(rows, columns=list(COLUMNS)), "throughput")
    assert table[["users", "n", "median"]].values.tolist() == [[1, 3, 11.0], [8, 2, 40.5]]
    assert math.isnan(table.loc[1, "low"])


def test_numbers_are_written_to_three_significant_digits():
    assert text.number(491.23) == "491"
    assert text.number(17.43) == "17.4"
    assert text.number(2.314) == "2.31"
    assert text.number(0.0473) == "0.047"
    assert text.number(0.0) == "0"
    assert text.ratio(stats.Estimate(0.0473, 0.046, 0.049, 3)) == "0.047\u00d7 [0.046\u20130.049]"
