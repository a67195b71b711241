"""The run's SLO searches: for each deployment, configuration and scenario the plan names, the
highest open-loop arrival rate whose p99 latency (from the schedule) stays under the bound,
confirmed by a repeat trial (bench/measure/slo.py).

A search runs once per run, in the first repetition, on the server of the pass it belongs to,
right after that pass's closed-loop load: the server is warm and no start is spent on it. It is
seeded from the closed-loop peak just measured there: the first rate tried is SEED_SHARE of
that peak (the plan's start rate when there is none), and from there it doubles, or halves
when the seed already misses. After a trial that missed, the next waits until the server has
drained the backlog the overload left (its CPU idle again).
"""

from __future__ import annotations

import dataclasses
import math

from bench.cli.console import raise_if_interrupted, say
from bench.load.scenarios import ARRIVAL_SEED, OPEN_LOOP_SCENARIOS
from bench.load.spec import LoadSpec
from bench.load.window import Target
from bench.measure.slo import (
    Slo,
    SloResult,
    Stop,
    Trial,
    TrialError,
    open_loop_spec,
    run_open_loop_trial,
    search_max_rate,
)
from bench.run.context import Run
from bench.run.passes import Pass
from bench.store.table import OPEN_LOOP, SLO
from bench.targets.manifest import Deployment
from bench.targets.servers import wait_until_idle

# The seed's share of the closed-loop peak: an open loop at half the rate a closed loop reached
# usually meets a bound the closed loop's own latency met.
SEED_SHARE = 0.5
# The search halves a missing seed down to this share of it at most.
LOWEST_SHARE = 1 / 16


def searches_of(run: Run, p: Pass, rep: int) -> list[str]:
    """The scenarios whose SLO this pass searches in this repetition (none after the first)."""
    plan, d = run.plan.slo, p.deployment
    if plan is None or rep != 1 or p.model != run.model_name or p.label != p.config:
        return []
    if not run.plan.searches_slo(d):
        return []
    if p.config not in (("default",) if run.target else plan.configs):
        return []
    return [s for s in p.scenarios if s in plan.bounds_ms and s in OPEN_LOOP_SCENARIOS]


def search_slo(run: Run, target: Target, p: Pass, scenario: str, closed: LoadSpec) -> None:
    """One search on the pass's running server; `closed` is the closed-loop load run of the
    same scenario, whose target, cores and payloads the trials share."""
    plan, d = run.plan.slo, p.deployment
    assert plan is not None
    bound = plan.bounds_ms[scenario]
    say(f"  SLO search: {d.name}/{p.config} {scenario}, p99 <= {bound:g} ms")
    slo = Slo(bound, min_interactions=plan.trial_minimum(scenario))
    peak = closed_loop_peak(run, d, p.config, scenario)
    start = SEED_SHARE * peak if peak else plan.start_rates[scenario]
    trials = iter(range(1, 1000))
    drains: list[float] = []

    def measure_rate(rate: float) -> Trial:
        raise_if_interrupted()
        # Enough interactions for a p99 at low rates: the window grows to hold them.
        window_s = max(plan.window_s, 1.2 * slo.min_interactions / rate)
        index = next(trials)
        prefix = run.run_dir / "raw" / f"{d.name}-{p.config}-{scenario}-open-t{index}"
        base = dataclasses.replace(closed, warmup_s=plan.warmup_s, out_prefix=prefix)
        spec = open_loop_spec(
            OPEN_LOOP_SCENARIOS[scenario], rate, window_s, base, seed=ARRIVAL_SEED + index
        )
        try:
            trial = run_open_loop_trial(spec, target)
        except TrialError as exc:
            # A harness failure, not the server missing its SLO: the search is not measured
            # (the caller notes it in the run) rather than read as a miss.
            raise TrialError(f"no measurement at {rate:.1f}/s: {exc}") from exc
        say(f"    {rate:.1f}/s: p99 {trial.p99_ms:.1f} ms, {trial.interactions} due, "
            f"{trial.failures} failed, {trial.late_sends} sent late")  # fmt: skip
        if not trial.met:
            drains.append(round(drain(target), 2))
        return trial

    result = search_max_rate(
        measure_rate, slo, start, max_steps=plan.max_steps, min_rate=start * LOWEST_SHARE
    )
    store_slo(run, d, p.config, scenario, slo, result)
    run.deployment_info(d).setdefault("slo_drains", {})[f"{p.config}/{scenario}"] = drains
    run.deployment_info(d).setdefault("slo_seeds", {})[f"{p.config}/{scenario}"] = {
        "closed_loop_peak": peak,
        "start_rate": start,
    }


def drain(target: Target) -> float:
    """Wait until the server has worked off what an overloaded trial left queued (its CPU goes
    idle), so that the next trial does not pay for this one's backlog; returns seconds waited."""
    return wait_until_idle(target)


def closed_loop_peak(run: Run, d: Deployment, config: str, scenario: str) -> float | None:
    """The highest closed-loop throughput this run has stored for the pass so far."""
    values = [
        r.value
        for r in run.rows
        if r.deployment == d.name
        and r.config == config
        and r.scenario == scenario
        and r.model == run.model_name
        and r.metric == "throughput"
        and r.users > 0
        and math.isfinite(r.value)
    ]
    return max(values) if values and max(values) > 0 else None


def store_slo(
    run: Run, d: Deployment, config: str, scenario: str, slo: Slo, result: SloResult
) -> None:
    for index, trial in enumerate(result.trials, start=1):
        metrics = {
            "offered_rate": trial.rate,
            "latency_p99": trial.p99_ms,
            "interactions": float(trial.interactions),
            "failures": float(trial.failures),
            "late_sends": float(trial.late_sends),
            "met_slo": float(trial.met),
        }
        run.add(d, config, f"{OPEN_LOOP}{scenario}", 0, index, metrics)
    summary = {
        "slo_max_rate": math.nan if result.rate is None else result.rate,
        "slo_p99_bound": slo.p99_ms,
        "slo_confirmed": float(result.confirmed),
        "slo_trials": float(len(result.trials)),
    }
    run.add(d, config, f"{SLO}{scenario}", 0, 0, summary)
    run.deployment_info(d).setdefault("slo_stops", {})[f"{config}/{scenario}"] = str(
        result.stopped.value
    )
    at_least = "at least " if result.stopped in (Stop.STEP_BUDGET, Stop.GENERATOR_BEHIND) else ""
    shown = "none" if result.rate is None else f"{at_least}{result.rate:.1f}/s"
    say(f"  max rate under the SLO: {shown} ({'confirmed' if result.confirmed else 'unconfirmed'})")
