"""Every statistic of the report: medians over repetitions, their bootstrap intervals, ratios.

Kept in one module so that the whole report summarises repetitions the same way: a figure, a
table cell and a claim's verdict all quote the median over repetitions, and, with at least
MIN_N_FOR_CI repetitions, a 95 % percentile-bootstrap interval of that median.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
MIN_N_FOR_CI = 3
N_RESAMPLES = 2000
# A fixed seed: rebuilding the report from the same stored run gives the same intervals.
SEED = 20220222
LEVEL_KEYS = ["deployment", "config", "scenario", "users"]
METHOD_TEXT = (
    f"median over repetitions; with n ≥ {MIN_N_FOR_CI} repetitions a {CONFIDENCE:.0%} "
    f"percentile-bootstrap interval of the median (scipy.stats.bootstrap, {N_RESAMPLES} "
    f"resamples, fixed seed {SEED}); a ratio between two deployments is the ratio of their "
    "medians with a bootstrap interval resampling both sides independently. With only 3 "
    "repetitions the percentile bootstrap of a median spans the lowest to the highest "
    "repetition: read such an interval as the range of the repetitions"
)


@dataclass(frozen=True)
class Estimate:
    """A median (or a ratio of medians) with its interval; low/high are NaN below MIN_N_FOR_CI."""

    value: float
    low: float
    high: float
    n: int

    @property
    def has_interval(self) -> bool:
        return not (math.isnan(self.low) or math.isnan(self.high))


NAN_ESTIMATE = Estimate(math.nan, math.nan, math.nan, 0)


def _percentile_ci(samples: Sequence[np.ndarray], statistic) -> tuple[float, float]:
    # Percentile rather than BCa: with 3 to 5 repetitions BCa's jackknife is unstable and
    # warns on ties; the percentile interval is the plain, explainable choice.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.bootstrap(
            tuple(samples),
            statistic,
            n_resamples=N_RESAMPLES,
            confidence_level=CONFIDENCE,
            method="percentile",
            vectorized=True,
            rng=np.random.default_rng(SEED),
        )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _median(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(x, axis=axis)


def median_ci(values: Sequence[float]) -> Estimate:
    """The median of the repetitions, with its bootstrap interval when there are enough."""
    data = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if data.size == 0:
        return NAN_ESTIMATE
    median = float(np.median(data))
    if data.size < MIN_N_FOR_CI:
        return Estimate(median, math.nan, math.nan, int(data.size))
    if np.ptp(data) == 0:  # identical repetitions: the interval is the point
        return Estimate(median, median, median, int(data.size))
    low, high = _percentile_ci([data], _median)
    return Estimate(median, low, high, int(data.size))


def ratio_ci(numerator: Sequence[float], denominator: Sequence[float]) -> Estimate:
    """median(numerator) / median(denominator), with an interval from resampling both sides."""
    a = np.asarray([v for v in numerator if not math.isnan(v)], dtype=float)
    b = np.asarray([v for v in denominator if not math.isnan(v)], dtype=float)
    if a.size == 0 or b.size == 0 or np.median(b) == 0:
        return NAN_ESTIMATE
    value = float(np.median(a) / np.median(b))
    n = int(min(a.size, b.size))
    if n < MIN_N_FOR_CI:
        return Estimate(value, math.nan, math.nan, n)
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return Estimate(value, value, value, n)

    def ratio(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.median(x, axis=axis) / np.median(y, axis=axis)

    low, high = _percentile_ci([a, b], ratio)
    return Estimate(value, low, high, n)


def summarise(results: pd.DataFrame, metric: str, keys: Sequence[str] = LEVEL_KEYS) -> pd.DataFrame:
    """One row per group of `keys` for `metric`: n, median, low, high (the interval)."""
    columns = [*keys, "n", "median", "low", "high"]
    rows = results[results["metric"] == metric]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = []
    for group, frame in rows.groupby(list(keys), sort=True):
        estimate = median_ci(frame["value"].tolist())
        out.append([*group, estimate.n, estimate.value, estimate.low, estimate.high])
    return pd.DataFrame(out, columns=columns)


def values_of(
    results: pd.DataFrame, deployment: str, config: str, scenario: str, users: int, metric: str
) -> list[float]:
    """The per-repetition values of one metric at one load level."""
    mask = (
        (results["deployment"] == deployment)
        & (results["config"] == config)
        & (results["scenario"] == scenario)
        & (results["users"] == users)
        & (results["metric"] == metric)
    )
    return results.loc[mask, "value"].astype(float).tolist()


def any_flag(results: pd.DataFrame, metric: str = "loadgen_bound") -> set[tuple]:
    """The load levels (deployment, config, scenario, users) where any repetition set a flag."""
    rows = results[(results["metric"] == metric) & (results["value"] >= 1)]
    return {
        (r.deployment, r.config, r.scenario, int(r.users)) for r in rows.itertuples(index=False)
    }
