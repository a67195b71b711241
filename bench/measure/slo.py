"""The highest arrival rate a deployment sustains within a latency bound (a service-level
objective), found the way MLPerf LoadGen's Server scenario finds it: open-loop trials at fixed
arrival rates (bench/load/scenarios/*_open.py), doubling the rate until a trial misses, bisecting
between the last pass and the first miss, then confirming the rate found with a repeat trial.

search_max_rate is pure (the trials come from a `measure` callable); run_open_loop_trial runs
one real trial through the engine (bench/load/window.py). No locust import: the runner must
never import it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from bench.load.locust import locustfile
from bench.load.scenarios import (
    ARRIVAL_SEED,
    ARRIVAL_SEED_ENV,
    ARRIVALS_ENV,
    INTERACTIONS,
    RATE_ENV,
)
from bench.load.spec import LoadSpec, WindowRule
from bench.load.window import Target, run_load
from bench.measure.metrics import Request, Window, late_sends
from bench.store.rules import FAILURE_ALLOWANCE, LATE_SEND_ALLOWANCE
from bench.store.table import SLO_GENERATOR_BEHIND, SLO_STEP_BUDGET

# The default bounds on p99 latency from the schedule: an API call, and a Streamlit interaction
# (a whole script rerun, which a person waits for).
API_SLO_MS = 100.0
UI_SLO_MS = 500.0
# Below this many interactions a p99 rests on a single request or none: not evidence of a pass.
MIN_INTERACTIONS = 100
MET = "met"
GENERATOR_BEHIND = "load generator behind"


@dataclass(frozen=True)
class Slo:
    """What a trial must show to pass."""

    p99_ms: float
    min_interactions: int = MIN_INTERACTIONS
    failure_allowance: float = FAILURE_ALLOWANCE
    late_send_allowance: float = LATE_SEND_ALLOWANCE

    def __post_init__(self) -> None:
        if not (math.isfinite(self.p99_ms) and self.p99_ms > 0):
            raise ValueError(f"the p99 bound must be a positive number of ms, not {self.p99_ms}")
        if self.min_interactions < 1:
            raise ValueError(f"min_interactions must be at least 1, not {self.min_interactions}")
        for name in ("failure_allowance", "late_send_allowance"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} is a fraction in [0, 1), not {getattr(self, name)}")

    def judge(self, trial: Trial) -> str:
        """MET, or why the trial did not meet the objective.

        Late sends never fail a trial that met it (their lateness is in the latency from the
        schedule), but a miss with too many of them is the load generator's as much as the
        server's, and says so.
        """
        if trial.interactions < self.min_interactions:
            return (
                f"not enough samples: {trial.interactions} interactions < {self.min_interactions}"
            )
        if trial.failures > self.failure_allowance * trial.interactions:
            miss = f"failures: {trial.failures} of {trial.interactions}"
        elif not trial.p99_ms <= self.p99_ms:  # NaN (no answer at all) misses too
            miss = f"p99 {trial.p99_ms:.1f} ms > {self.p99_ms:g} ms"
        else:
            return MET
        if trial.late_sends > self.late_send_allowance * trial.interactions:
            return (
                f"{GENERATOR_BEHIND}: {trial.late_sends} of {trial.interactions} sent late; {miss}"
            )
        return miss


API_SLO = Slo(API_SLO_MS)
UI_SLO = Slo(UI_SLO_MS)


@dataclass(frozen=True)
class Trial:
    """One open-loop run at a fixed arrival rate (requests/s); latency is from the schedule."""

    rate: float
    p99_ms: float
    interactions: int
    failures: int
    late_sends: int
    verdict: str = ""  # set by the search: MET or why not

    @property
    def met(self) -> bool:
        return self.verdict == MET


class Stop(StrEnum):
    """Why the search stopped looking for a higher rate."""

    CONVERGED = "the last pass and the first miss are within the tolerance"
    STEP_BUDGET = SLO_STEP_BUDGET
    GENERATOR_BEHIND = SLO_GENERATOR_BEHIND
    MAX_RATE = "the maximum rate met the objective"
    LOWEST_RATE_MISSED = "the start rate already missed the objective"


@dataclass(frozen=True)
class SloResult:
    rate: float | None  # the highest sustainable rate found, None when there is none
    confirmed: bool  # a repeat trial at `rate` met the objective too
    stopped: Stop
    trials: tuple[Trial, ...]  # in the order they ran, each with its verdict

    @property
    def generator_bound(self) -> bool:
        """Some trial missed with the load generator behind its schedule: the rate found may be
        the generator's limit rather than the server's."""
        return any(t.verdict.startswith(GENERATOR_BEHIND) for t in self.trials)


def search_max_rate(
    measure: Callable[[float], Trial],
    slo: Slo,
    start_rate: float,
    *,
    max_rate: float | None = None,
    tolerance: float = 0.10,
    max_steps: int = 12,
    max_confirmations: int = 3,
    min_rate: float | None = None,
) -> SloResult:
    """The highest arrival rate whose trial meets `slo`, to within `tolerance` (relative).

    Doubles from `start_rate` until a trial misses or `max_rate` is reached (when `start_rate`
    itself misses, halves instead, down to `min_rate`, until a trial passes), then bisects
    between the last pass and the first miss; bracketing and bisection together run at most
    `max_steps` trials. A trial above the last pass that missed with the load generator behind
    its schedule is void: it says nothing of the server, so the search goes no higher and the
    rate found is a lower bound (Stop.GENERATOR_BEHIND). Then the rate found is measured again:
    if the repeat misses, the rate steps down by `tolerance` and is tried again, at most
    `max_confirmations` trials in all. A rate no repeat confirms is reported as None.
    """
    if not (math.isfinite(start_rate) and start_rate > 0):
        raise ValueError(f"start_rate must be a positive rate, not {start_rate}")
    if max_rate is not None and not max_rate >= start_rate:
        raise ValueError(f"max_rate ({max_rate}) must be at least start_rate ({start_rate})")
    if not 0 < tolerance < 1:
        raise ValueError(f"tolerance is a fraction in (0, 1), not {tolerance}")
    if max_steps < 1 or max_confirmations < 0:
        raise ValueError("max_steps must be at least 1 and max_confirmations at least 0")
    trials: list[Trial] = []

    def passes(rate: float) -> bool:
        trial = measure(rate)
        trials.append(dataclasses.replace(trial, verdict=slo.judge(trial)))
        return trials[-1].met

    def void() -> bool:
        return trials[-1].verdict.startswith(GENERATOR_BEHIND)

    passed, missed = _first_pass(passes, start_rate, min_rate, max_steps, trials)
    if passed is None:
        return SloResult(None, False, Stop.LOWEST_RATE_MISSED, tuple(trials))
    behind = False
    while missed is None and len(trials) < max_steps and passed != max_rate:
        rate = passed * 2 if max_rate is None else min(passed * 2, max_rate)
        passed, missed = (rate, None) if passes(rate) else (passed, rate)
        behind = missed is not None and void()
    while (
        not behind
        and missed is not None
        and missed - passed > tolerance * passed
        and len(trials) < max_steps
    ):
        rate = (passed + missed) / 2
        passed, missed = (rate, missed) if passes(rate) else (passed, rate)
        behind = missed == rate and void()
    if behind:
        stopped = Stop.GENERATOR_BEHIND
    elif missed is None:
        stopped = Stop.MAX_RATE if passed == max_rate else Stop.STEP_BUDGET
    else:
        stopped = Stop.CONVERGED if missed - passed <= tolerance * passed else Stop.STEP_BUDGET

    if max_confirmations == 0:
        return SloResult(passed, False, stopped, tuple(trials))
    candidate = passed
    for _ in range(max_confirmations):
        if passes(candidate):
            return SloResult(candidate, True, stopped, tuple(trials))
        candidate *= 1 - tolerance
    return SloResult(None, False, stopped, tuple(trials))


def _first_pass(
    passes: Callable[[float], bool],
    start_rate: float,
    min_rate: float | None,
    max_steps: int,
    trials: list[Trial],
) -> tuple[float | None, float | None]:
    """(the first rate that passed, the lowest that missed above it: None when none did)."""
    if passes(start_rate):
        return start_rate, None
    rate = start_rate
    while min_rate is not None and rate / 2 >= min_rate and len(trials) < max_steps:
        missed, rate = rate, rate / 2
        if passes(rate):
            return rate, missed
    return None, None


class TrialError(RuntimeError):
    """A trial that produced no measurement (Locust failed, overstayed or stopped early)."""


def trial_from_log(rate: float, requests: list[Request], window: Window) -> Trial:
    """The figures of one open-loop trial. Every interaction due inside the window counts once,
    answered or not (failed, dropped at the cap, or unfinished when Locust stopped), so a stall
    at the end of the window cannot hide behind requests that never came back."""
    due = [r for r in requests if r.name in INTERACTIONS and window.holds(r.start)]
    ok_ms = np.array([r.ms for r in due if r.ok])
    return Trial(
        rate=rate,
        p99_ms=float(np.percentile(ok_ms, 99)) if ok_ms.size else math.nan,
        interactions=len(due),
        failures=sum(not r.ok for r in due),
        late_sends=late_sends(requests, window),
    )


def open_loop_spec(
    scenario: str,
    rate: float,
    window_s: float,
    base: LoadSpec,
    arrivals: str = "poisson",
    seed: int = ARRIVAL_SEED,
) -> LoadSpec:
    """One open-loop trial: `scenario` (an open-loop locustfile's stem, e.g. "api_single_open")
    with one user sending `rate` per second at arrivals drawn from `seed`, for a fixed window of
    `window_s` after the warm-up; the rest (target, cores, payloads, set-up bound) as in
    `base`."""
    if not locustfile(scenario).is_file():
        raise ValueError(f"no locustfile {locustfile(scenario)}")
    return dataclasses.replace(
        base,
        scenario=scenario,
        steps=(1,),
        rate=float(rate),
        rule=WindowRule.fixed(window_s),
        env={
            **base.env,
            RATE_ENV: repr(float(rate)),
            ARRIVALS_ENV: arrivals,
            ARRIVAL_SEED_ENV: str(seed),
        },
    )


def run_open_loop_trial(spec: LoadSpec, target: Target) -> Trial:
    """Run one open-loop trial through the engine and read it. Raises TrialError when there is
    nothing to measure."""
    result = run_load(spec, target)
    if result.interrupted:
        raise KeyboardInterrupt
    if result.failed or not result.windows:
        where = spec.out_prefix.with_suffix(".locust.log")
        raise TrialError(f"no measurement at {spec.rate:g}/s: {result.failure}; see {where}")
    window = result.windows[0]
    return trial_from_log(float(spec.rate or 0), window.requests, window.window)
