"""How numbers are written in the report, the same in every table, figure and sentence."""

from __future__ import annotations

import math

from reports.stats import Estimate

TIMES = "\u00d7"  # the multiplication sign written after a ratio
DASH = "\u2013"  # the en dash between the two ends of an interval


def number(value: float | int | None, digits: int | None = None) -> str:
    """A figure with sensible precision: 3 significant digits unless `digits` is given."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    value = float(value)
    if digits is None:
        if value.is_integer():
            return f"{int(value):,}"
        digits = digits_for(value)
    return f"{value:,.{digits}f}"


def digits_for(value: float) -> int:
    """Decimals that give about three significant digits."""
    size = abs(value)
    return 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 0.1 else 3


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def interval(estimate: Estimate, digits: int | None = None) -> str:
    """The bracket after a figure (interval or range), or "" when there is none."""
    if not estimate.has_interval:
        return ""
    return f" [{number(estimate.low, digits)}{DASH}{number(estimate.high, digits)}]"


def estimate(value: Estimate, digits: int | None = None) -> str:
    """The median, then its bracket when there is one (an interval or a range: Estimate.label
    says which, with its real coverage), both to the same precision."""
    if math.isnan(value.value):
        return "n/a"
    if digits is None and not float(value.value).is_integer():
        digits = digits_for(value.value)
    return f"{number(value.value, digits)}{interval(value, digits)}"


def ratio(value: Estimate) -> str:
    """A ratio with the multiplication sign, then its interval in brackets."""
    if math.isnan(value.value):
        return "n/a"
    digits = max(2, digits_for(value.value)) if value.value < 10 else digits_for(value.value)
    return f"{number(value.value, digits)}{TIMES}{interval(value, digits)}"
