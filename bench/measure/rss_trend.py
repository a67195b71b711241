"""Whether a server's memory grows under steady load: the least-squares slope of its RSS samples,
with its confidence interval."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

from bench.measure.sampler import Sample


@dataclass(frozen=True)
class RssTrend:
    start_mib: float
    end_mib: float
    growth_mib: float
    growth_percent: float
    # Least squares over every sample. Successive samples are correlated, so the standard error
    # is a lower bound on the slope's uncertainty.
    slope_mib_per_hour: float | None
    slope_stderr_mib_per_hour: float | None
    samples: int
    span_s: float


def rss_trend(samples: Sequence[Sample]) -> RssTrend | None:
    """RSS of the server's tree from the first sample to the last, and its least-squares slope.

    Samples of a dead tree (no process) are left out; None when no sample is left.
    """
    alive = [s for s in samples if s.processes > 0]
    if not alive:
        return None
    first, last = alive[0], alive[-1]
    start_mib, end_mib = mib(first.rss_bytes), mib(last.rss_bytes)
    slope = stderr = None
    if len(alive) >= 3 and last.at > first.at:
        fit = stats.linregress(
            [(s.at - first.at) / 3600 for s in alive], [mib(s.rss_bytes) for s in alive]
        )
        slope, stderr = float(fit.slope), float(fit.stderr)
    return RssTrend(
        start_mib=start_mib,
        end_mib=end_mib,
        growth_mib=end_mib - start_mib,
        growth_percent=100 * (end_mib - start_mib) / start_mib if start_mib else math.nan,
        slope_mib_per_hour=slope,
        slope_stderr_mib_per_hour=stderr,
        samples=len(alive),
        span_s=last.at - first.at,
    )


def mib(n_bytes: float) -> float:
    return float(n_bytes) / 2**20
