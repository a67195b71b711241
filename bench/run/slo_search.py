"""The run's SLO searches: per deployment, configuration and scenario the plan names, the highest open-loop rate under the latency bound."""

from __future__ import annotations

import contextlib
import math
from functools import partial

from bench.cli.console import raise_if_interrupted, say
from bench.load.scenarios import (
    OPEN_LOOP_SCENARIOS,
)
from bench.measure.slo import (
    Slo,
    SloResult,
    Trial,
    TrialError,
    run_open_loop_trial,
    search_max_rate,
)
from bench.run.context import Run, log_path, noted
from bench.run.passes import CALIBRATION
from bench.store.schema import (
    OPEN_LOOP,
    SLO,
)
from bench.targets.manifest import Deployment
from bench.targets.servers import (
    ExternalDeployment,
    serving,
)


def measure_slo(run: Run, deployments: list[Deployment]) -> None:
    """For each deployment, configuration and scenario the plan names: the highest open-loop
    arrival rate whose p99 latency (from the schedule) stays under the bound, confirmed by a
    repeat trial (bench/measure/slo.py). One server start per search."""
    plan = run.plan.slo
    if plan is None:
        return
    for d in deployments:
        if d.role == CALIBRATION or not run.plan.searches_slo(d):
            continue
        configs = ["default"] if run.target else [c for c in plan.configs if c in d.configs]
        for config in configs:
            for scenario in (s for s in d.scenarios if s in plan.bounds_ms):
                raise_if_interrupted()
                if scenario not in OPEN_LOOP_SCENARIOS:
                    continue
                bound = plan.bounds_ms[scenario]
                say(f"SLO search: {d.name}/{config} {scenario}, p99 <= {bound:g} ms")
                noted(run, f"{d.name}/{config} {scenario} SLO search",
                      partial(search_slo, run, d, config, scenario))  # fmt: skip


def search_slo(run: Run, d: Deployment, config: str, scenario: str) -> None:
    plan = run.plan.slo
    assert plan is not None
    slo = Slo(plan.bounds_ms[scenario], min_interactions=plan.trial_minimum(scenario))
    logs = log_path(run, d, config, f"slo-{scenario}")
    server = (
        contextlib.nullcontext(ExternalDeployment(d, run.target))
        if run.target
        else serving(d, config, cores=run.server_cores, log_path=logs)
    )
    with server as running:
        step = iter(range(1, 1000))

        def measure_rate(rate: float) -> Trial:
            raise_if_interrupted()
            # Enough interactions for a p99 at low rates: the window grows to hold them.
            window_s = max(plan.window_s, 1.2 * slo.min_interactions / rate)
            prefix = run.run_dir / "raw" / f"{d.name}-{config}-{scenario}-open-t{next(step)}"
            try:
                trial = run_open_loop_trial(
                    OPEN_LOOP_SCENARIOS[scenario], running.base_url, rate, plan.warmup_s,
                    window_s, prefix, run.loadgen_cores, run.payload_file(),
                    setup_s=d.startup_timeout_s,
                )  # fmt: skip
            except TrialError as exc:
                # A harness failure, not the server missing its SLO: the search is not measured
                # (measure_slo notes it in the run) rather than read as a miss.
                raise TrialError(f"no measurement at {rate:.1f}/s: {exc}") from exc
            say(f"    {rate:.1f}/s: p99 {trial.p99_ms:.1f} ms, {trial.interactions} due, "
                f"{trial.failures} failed, {trial.late_sends} sent late")  # fmt: skip
            return trial

        result = search_max_rate(
            measure_rate, slo, plan.start_rates[scenario], max_steps=plan.max_steps
        )
    store_slo(run, d, config, scenario, slo, result)


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
    shown = "none" if result.rate is None else f"{result.rate:.1f}/s"
    say(f"  max rate under the SLO: {shown} ({'confirmed' if result.confirmed else 'unconfirmed'})")
