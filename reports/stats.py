"""Every statistic of the report: medians over repetitions, their intervals, paired ratios.

Kept in one module so that the whole report summarises repetitions the same way: a figure, a
table cell and a claim's verdict all quote the median over repetitions with the bracket of
reports/intervals.py (its method and real coverage in Estimate.label), and a ratio between two
sides pairs their repetitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from reports.intervals import (
    CONFIDENCE,
    MIN_COVERAGE,
    MIN_N_FOR_CI,
    NAN_ESTIMATE,
    RATIO_METHOD,
    Estimate,
    median_ci,
    median_text,
    method_text,
    paired_ratio_ci,
    paired_text,
)

__all__ = [
    "CONFIDENCE",
    "LEVEL_KEYS",
    "METHOD_TEXT",
    "MIN_COVERAGE",
    "MIN_N_FOR_CI",
    "NAN_ESTIMATE",
    "RATIO_METHOD",
    "Estimate",
    "any_flag",
    "estimate_of",
    "median_brackets",
    "median_ci",
    "paired_ratio_ci",
    "ratio_brackets",
    "summarise",
    "values_by_repetition",
    "values_of",
]

LEVEL_KEYS = ["deployment", "config", "scenario", "users"]
METHOD_TEXT = method_text()


def summarise(results: pd.DataFrame, metric: str, keys: Sequence[str] = LEVEL_KEYS) -> pd.DataFrame:
    """One row per group of `keys` for `metric`: n, median, low, high (the bracket), and the
    bracket's method and coverage."""
    columns = [*keys, "n", "median", "low", "high", "method", "coverage"]
    rows = results[results["metric"] == metric]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = []
    for group, frame in rows.groupby(list(keys), sort=True):
        e = median_ci(frame["value"].tolist())
        out.append([*group, e.n, e.value, e.low, e.high, e.method, e.coverage])
    return pd.DataFrame(out, columns=columns)


def estimate_of(row: Any) -> Estimate:
    """The Estimate of one row of `summarise` (a namedtuple from itertuples, or a Series)."""
    get = row.get if isinstance(row, pd.Series) else lambda k: getattr(row, k)
    return Estimate(
        float(get("median")),
        float(get("low")),
        float(get("high")),
        int(get("n")),
        str(get("method")),
        float(get("coverage")),
    )


def _level_mask(
    results: pd.DataFrame, deployment: str, config: str, scenario: str, users: int, metric: str
) -> pd.Series:
    return (
        (results["deployment"] == deployment)
        & (results["config"] == config)
        & (results["scenario"] == scenario)
        & (results["users"] == users)
        & (results["metric"] == metric)
    )


def values_of(
    results: pd.DataFrame, deployment: str, config: str, scenario: str, users: int, metric: str
) -> list[float]:
    """The per-repetition values of one metric at one load level."""
    mask = _level_mask(results, deployment, config, scenario, users, metric)
    return results.loc[mask, "value"].astype(float).tolist()


def values_by_repetition(
    results: pd.DataFrame, deployment: str, config: str, scenario: str, users: int, metric: str
) -> dict[int, float]:
    """repetition -> value of one metric at one load level: what paired_ratio_ci pairs."""
    rows = results.loc[_level_mask(results, deployment, config, scenario, users, metric)]
    found = {int(r): float(v) for r, v in zip(rows["repetition"], rows["value"], strict=True)}
    if len(found) != len(rows):
        raise ValueError(
            f"{deployment}/{config}/{scenario}/{users} users: more than one {metric} per repetition"
        )
    return found


def median_brackets(ns: Iterable[int]) -> str:
    """What the brackets around medians of these repetition counts are, once per count."""
    counts = sorted({int(n) for n in ns if n >= MIN_N_FOR_CI})
    return "; ".join(median_text(n) for n in counts)


def ratio_brackets(ns: Iterable[int]) -> str:
    """What the brackets around paired ratios of these pair counts are, once per count."""
    counts = sorted({int(n) for n in ns if n >= MIN_N_FOR_CI})
    text = "; ".join(paired_text(n) for n in counts)
    return text or f"no interval with fewer than {MIN_N_FOR_CI} paired repetitions"


def any_flag(results: pd.DataFrame, metric: str = "loadgen_bound") -> set[tuple]:
    """The load levels (deployment, config, scenario, users) where any repetition set a flag."""
    rows = results[(results["metric"] == metric) & (results["value"] >= 1)]
    return {
        (r.deployment, r.config, r.scenario, int(r.users)) for r in rows.itertuples(index=False)
    }
