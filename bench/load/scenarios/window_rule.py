"""When a step's recorded window may end (bench.load.spec.WindowRule says why these rules).

No locust import (the Locust-side shape in steps.py calls it, and tests call it directly).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

# Poisson noise: two halves of a steady window differ by chance by up to this many standard
# deviations of their summed count.
NOISE_SIGMAS = 3.0


def is_steady(ends: Sequence[float], start: float, end: float, tolerance: float) -> bool:
    """Whether the interactions completed in each half of [start, end) are about as many."""
    middle = (start + end) / 2
    first = sum(start <= at < middle for at in ends)
    second = sum(middle <= at < end for at in ends)
    total = first + second
    if total == 0:
        return False
    allowed = max(tolerance * total / 2, NOISE_SIGMAS * math.sqrt(total))
    return abs(first - second) <= allowed


def window_verdict(
    ends: Sequence[float], start: float, now: float, rule: Mapping[str, float]
) -> str | None:
    """ "rule" when the window [start, now) may end by the rule, "capped" when it must end at
    its longest, None while it goes on. `ends`: when each interaction completed."""
    elapsed = now - start
    if elapsed >= rule["max_s"]:
        return "capped"
    if elapsed < rule["min_s"]:
        return None
    inside = [at for at in ends if start <= at < now]
    if len(inside) < rule["min_interactions"]:
        return None
    return "rule" if is_steady(inside, start, now, rule["steady_tolerance"]) else None
