"""`python -m bench run`: verify, inspect, then measure every deployment on interleaved
repetitions, and store the results (bench/store/) for the report.

Order of work: verify each deployment (a failure keeps it from being measured) and probe it;
then repetition 1 of every deployment, configuration, scenario and level, then repetition 2,
and so on (the machine's speed drifts, so frameworks are compared only within interleaved
repetitions); then cold starts, also interleaved. Server and Locust are pinned to disjoint cores.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bench import RESULTS_DIR
from bench.cli.console import raise_if_interrupted, say
from bench.clients.payloads import write_payload_file
from bench.load.scenarios import (
    BATCH_SIZES,
    CHECK_ANSWERS_ENV,
)
from bench.load.spec import LoadResult, LoadSpec, WindowResult
from bench.load.window import Target, run_load
from bench.measure.floor import measure_floor
from bench.measure.metrics import (
    failure_kinds,
    level_metrics,
)
from bench.run import environment, lock
from bench.run.checking import verify_and_probe
from bench.run.cold_starts import first_correct_prediction, measure_cold_starts, pass_start_sample
from bench.run.context import Run, log_path, noted, phase_table, rotated, timed
from bench.run.passes import CALIBRATION, Pass, passes
from bench.run.plan import Plan
from bench.run.run_info import run_info
from bench.run.slo_search import search_slo, searches_of
from bench.run.wrk_check import crosscheck_scenario, write_run_crosscheck
from bench.store.rules import run_validity
from bench.store.runs import new_run_dir, point_latest
from bench.store.table import COLD_START, FLOOR, Row, write_rows
from bench.targets.bind import Bind, binding, lines_to_say
from bench.targets.cores import (
    AUTO,
    CoreSplit,
    available_cores,
    choose_cores,
    locust_worker_count,
)
from bench.targets.manifest import Deployment
from bench.targets.pinning import pinned_to
from bench.targets.servers import (
    DeploymentError,
    ExternalDeployment,
    RunningDeployment,
    start,
    stop,
    wait_healthy,
    wait_until_idle,
)
from shared_model.model import load_model

TARGET_NOTE = (
    "Measured at {url}, a deployment this run did not start: no server CPU or memory, no cold "
    "start, no probes, no in-process floor, and only the deployment's main configuration as it "
    "runs there (no model variants or worker counts)."
)
# The load scenario whose request each floor batch size matches.
FLOOR_SCENARIOS = {BATCH_SIZES["api_single"]: "api_single", BATCH_SIZES["api_batch"]: "api_batch"}
# Locust's start-up and shutdown and server restarts around each window: the first guess of the
# time left, replaced by the measured time per level once one has finished.
LEVEL_OVERHEAD_S = 4.0


def run_benchmark(
    plan: Plan,
    deployments: list[Deployment],
    results_dir: Path = RESULTS_DIR,
    corrupt_expected: bool = False,
    wait_for_lock: bool = False,
    locust_workers: int | str = AUTO,
    target: str | None = None,
    remote_workers: int = 0,
    master_bind: str = "127.0.0.1",
    master_port: int | None = None,
    worker_secret: str | None = None,
    bind: Bind | None = None,
    cores: CoreSplit | None = None,
) -> tuple[Path, str]:
    """Run the plan; return the run folder and its status (complete, partial, interrupted).

    locust_workers: 0 runs one Locust process per load run; N runs Locust's distributed mode, a
    master and N worker processes, all on the load generator's cores; "auto" chooses by the
    load generator's cores (bench.targets.cores.locust_worker_count); remote_workers more
    workers on other hosts connect to the master at master_bind:master_port. target: the base URL of
    the one deployment given, already running elsewhere; it is verified and loaded, but not
    started, stopped, sampled, probed or cold-started, and only its main pass is measured.
    bind: where the servers it starts listen (default 127.0.0.1), recorded in run.json. cores:
    the server's and the load generator's (default: the halves of those available)."""
    if target and len(deployments) != 1:
        raise ValueError("--target measures one deployment: name it with --only NAME")
    bind = bind or Bind()
    with lock.exclusive(wait=wait_for_lock), binding(bind):
        machine = environment.machine()  # before pinning, which hides cores from this process
        if not machine["bytecode_precompiled"]:
            say(environment.BYTECODE_WARNING)
        cores = cores or choose_cores(available_cores())
        with pinned_to(cores.loadgen):
            run = Run(
                plan,
                deployments,
                load_model(),
                new_run_dir(results_dir, plan.profile),
                cores.server,
                cores.loadgen,
                locust_workers=locust_worker_count(locust_workers, cores.loadgen),
                locust_workers_requested=locust_workers,
                cores_chosen=cores.chosen,
                target=target.rstrip("/") if target else None,
                remote_workers=remote_workers,
                master_bind=master_bind,
                master_port=master_port,
                worker_secret=worker_secret,
            )
            run.info = run_info(run, machine)
            run.info["bind"] = bind.record()
            run.info["notes"] += lines_to_say(bind)
            if run.target:
                run.info["target"] = run.target
                run.info["notes"].append(TARGET_NOTE.format(url=run.target))
            return _run(run, corrupt_expected)


def _run(run: Run, corrupt_expected: bool) -> tuple[Path, str]:
    for sub in ("raw", "logs"):
        (run.run_dir / sub).mkdir()
    run.save_info()
    write_payload_files(run, corrupt_expected)
    try:
        with timed(run, "verification, probes and inspections"):
            verified = verify_and_probe(run)
        measure(run, verified)
        with timed(run, "cold starts"):
            measure_cold_starts(run, verified)
        write_run_crosscheck(run)
        failed = any(
            run.deployment_info(d)["levels_failed"] or not run.deployment_info(d)["verified"]
            for d in run.deployments
        )
        run.info["status"] = "partial" if failed else "complete"
    except BaseException:
        run.info["status"] = "interrupted"
        raise
    finally:
        run.info["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        run.info["wall_s"] = round(time.monotonic() - run.started, 1)
        run.info["phases_s"] = {name: round(s, 1) for name, s in run.phases.items()}
        run.info["validity"] = run_validity(run.rows, run.info)
        run.save_info()
        say(f"results: {run.run_dir} ({run.info['status']}, {run.info['validity']['verdict']})")
        for reason in run.info["validity"]["reasons"]:
            say(f"  not valid: {reason}")
        say(phase_table(run, run.info["wall_s"]))
    # Only a run that finished (complete or partial) gets here: an interrupted one must not
    # hide the last finished run from `make report` and `make crosscheck`.
    point_latest(run.run_dir.parent, run.run_dir)
    return run.run_dir, run.info["status"]


def write_payload_files(run: Run, corrupt_expected: bool) -> None:
    variants = run.plan.model_variants.models if run.plan.model_variants else ()
    for name in dict.fromkeys((run.model_name, *variants)):
        model = run.model if name == run.model_name else load_model(name=name)
        write_payload_file(model, run.payload_file(name), corrupt_expected)


def measure(run: Run, deployments: list[Deployment]) -> None:
    plan = run.plan
    passes_of = {
        d.name: passes(plan, d, run.model_name, len(run.server_cores))[: 1 if run.target else None]
        for d in deployments
    }
    order = {rep: rotated(deployments, rep - 1) for rep in range(1, plan.repetitions + 1)}

    def in_rep(d: Deployment, rep: int) -> list[Pass]:
        return [p for p in passes_of[d.name] if not p.aside or plan.measures_aside(rep)]

    run.levels_total = sum(p.levels_count for rep, ds in order.items() for d in ds
                           for p in in_rep(d, rep))  # fmt: skip
    run.measure_started = time.monotonic()
    for rep, ds in order.items():
        if not run.target:
            with timed(run, "in-process floor"):
                measure_floor_rows(run, rep)
        for d in ds:
            for p in in_rep(d, rep):
                measure_deployment(run, p, rep)


def measure_floor_rows(run: Run, rep: int) -> None:
    """The in-process floor of every model variant, once per repetition (it drifts with the
    machine as the load levels do), pinned to the server's cores."""
    variants = run.plan.model_variants.models if run.plan.model_variants else ()
    for model in dict.fromkeys((run.model_name, *variants)):
        raise_if_interrupted()
        say(f"in-process floor of {model} (repetition {rep}) ...")
        floor = noted(run, f"floor of {model}", partial(measure_floor, model, run.server_cores))
        for batch_size, figures in (floor or {}).items():
            scenario = FLOOR_SCENARIOS.get(batch_size)
            if scenario is None:
                continue
            for call in ("predict", "validate_and_predict"):
                metrics = {
                    f"latency_{stat}": figures[f"{call}_{stat}_ms"]
                    for stat in ("p10", "p90", "mean")
                }
                metrics["latency_p50"] = figures[f"{call}_median_ms"]
                run.rows += [
                    Row(run.run_id, FLOOR, call, scenario, 0, rep, name, value, "ms", model)
                    for name, value in metrics.items()
                ]
    write_rows(run.run_dir / "results.csv", run.rows)


def measure_deployment(run: Run, p: Pass, rep: int) -> None:
    """One pass of one repetition: a fresh server (a new process per pass and repetition is
    variance the comparison must keep) measured at every scenario, each scenario one load run
    that steps through the pass's levels on the same warm server."""
    if run.target:
        target = ExternalDeployment(p.deployment, run.target)
        for scenario in p.scenarios:
            measure_scenario(run, target, p, scenario, rep)
        return
    running: RunningDeployment | None = None
    try:
        for scenario in p.scenarios:
            raise_if_interrupted()
            if running is None or running.process.poll() is not None:
                with timed(run, "server starts"):
                    running = restart(run, p, rep, running)
                if running is None:
                    why = "the deployment could not be (re)started"
                    for users in p.levels:
                        run.fail_level(p.deployment, p.label, scenario, users, rep, why, p.model)
                    run.levels_done += len(p.levels)
                    continue
            measure_scenario(run, running, p, scenario, rep)
    finally:
        if running is not None:
            stop(running)


def restart(
    run: Run, p: Pass, rep: int, previous: RunningDeployment | None
) -> RunningDeployment | None:
    if previous is not None:
        stop(previous)
    running = None
    suffix = "" if p.model == run.model_name else f"-{p.model}"
    d = p.deployment
    sample = None if previous else pass_start_sample(run, d, p.label, p.model, rep)
    try:
        running = start(
            d,
            p.config,
            cores=run.server_cores,
            log_path=log_path(run, d, p.label, f"r{rep}{suffix}"),
            extra_env=p.server_env,
        )
        if sample is None:
            wait_healthy(running)
        else:
            seconds = first_correct_prediction(running, run.model)
            run.add(d, "default", COLD_START, 0, sample, {"cold_start_s": seconds})
            say(f"    cold start {sample}/{run.plan.cold_starts_of(d)}: {seconds:.2f} s")
        # gunicorn answers health as soon as one worker is up; the others may still be loading.
        wait_until_idle(running)
    except DeploymentError as exc:
        say(f"    {exc}")
        if sample is not None:
            run.fail_level(d, "default", COLD_START, 0, sample, str(exc))
        if running is not None:
            stop(running)
        return None
    return running


def load_spec(run: Run, p: Pass, scenario: str, base_url: str, rep: int) -> LoadSpec:
    d = p.deployment
    model_part = "" if p.model == run.model_name else f"-{p.model}"
    prefix = run.run_dir / "raw" / f"{d.name}-{p.label}{model_part}-{scenario}-r{rep}"
    # The null target answers a constant: the load generator reads it but cannot check it.
    env = {CHECK_ANSWERS_ENV: "0"} if d.role == CALIBRATION else {}
    return LoadSpec(
        scenario=scenario,
        base_url=base_url,
        steps=p.levels,
        warmup_s=run.plan.warmup_s,
        rule=run.plan.window_rule(scenario, variant=p.model != run.model_name),
        cores=run.loadgen_cores,
        payload_file=run.payload_file(p.model),
        out_prefix=prefix,
        # Set-up (a Streamlit session's first run loads the model) may take up to a start-up.
        setup_s=d.startup_timeout_s,
        workers=run.workers,
        env=env,
    )


def measure_scenario(run: Run, target: Target, p: Pass, scenario: str, rep: int) -> None:
    """The closed-loop load run of one scenario, then its SLO search when this pass has one."""
    spec = load_spec(run, p, scenario, target.base_url, rep)
    progress(run, p, scenario, rep)
    with timed(run, "closed-loop load (Locust)"):
        result = run_load(spec, target)
    if result.interrupted:  # an interrupted load run is not kept
        raise KeyboardInterrupt
    store_windows(run, p, scenario, rep, result)
    with timed(run, "wrk cross-check"):
        crosscheck_scenario(run, target, p, scenario, rep)
    if scenario in searches_of(run, p, rep):
        what = f"{p.deployment.name}/{p.config} {scenario} SLO search"
        with timed(run, "SLO search"):
            noted(run, what, partial(search_slo, run, target, p, scenario, spec))


def store_windows(run: Run, p: Pass, scenario: str, rep: int, result: LoadResult) -> None:
    d, spec = p.deployment, result.spec
    run.levels_done += len(p.levels)
    run.info["notes"] += [f"{spec.out_prefix.name}: {note}" for note in result.notes]
    if result.refused:
        entries = [{**e, "level": spec.out_prefix.name} for e in result.refused]
        run.info.setdefault("refused_peers", []).extend(entries)
    # The load generator's CPU is sampled here: only the local workers, on these cores, count.
    processes = max(1, min(run.locust_workers, len(run.loadgen_cores)))
    for window in result.windows:
        metrics = level_metrics(
            window.requests,
            window.window,
            [] if run.target else window.server,
            window.loadgen,
            # Workers sharing fewer cores than their number cannot exceed those cores together.
            loadgen_processes=processes,
        )
        metrics |= window_flags(window)
        run.add(d, p.label, scenario, window.users, rep, metrics, p.model)
        say_level(window.users, metrics, failure_kinds(window.requests, window.window))
    for users in p.levels[len(result.windows) :]:
        run.fail_level(d, p.label, scenario, users, rep, result.failure or "no window", p.model)


def window_flags(window: WindowResult) -> dict[str, float]:
    return {"window_steady": float(window.steady), "window_capped": float(window.ended == "capped")}


def say_level(users: int, metrics: dict[str, float], kinds: dict[str, int]) -> None:
    say(
        f"    {users:>3} users: {metrics['throughput']:.1f}/s  p50 {metrics['latency_p50']:.1f} ms"
        f"  p99 {metrics['latency_p99']:.1f} ms  server CPU {metrics['server_cpu']:.0f}%"
        f"  Locust CPU {metrics['loadgen_cpu']:.0f}%  window {metrics['window']:.1f} s"
        + ("" if metrics["window_steady"] else " (not steady)")
        + (f"  failures {kinds}" if kinds else "")
        + ("  [load-generator bound]" if metrics["loadgen_bound"] else "")
    )


def progress(run: Run, p: Pass, scenario: str, rep: int) -> None:
    """Which load run starts, and the time of load left: measured per level once one has
    finished, a first guess before."""
    finished = run.levels_done
    per_level = (
        (time.monotonic() - run.measure_started) / finished
        if finished
        else run.plan.warmup_s + run.plan.window_s + LEVEL_OVERHEAD_S
    )
    left_s = (run.levels_total - finished) * per_level
    levels = ", ".join(str(users) for users in p.levels)
    say(
        f"[{finished + 1}-{finished + len(p.levels)}/{run.levels_total}] rep "
        f"{rep}/{run.plan.repetitions}  {p.deployment.name}/{p.label}"
        + ("" if p.model == run.model_name else f" [{p.model}]")
        + f"  {scenario}  {levels} users   "
        f"~{int(left_s // 60)} min {int(left_s % 60):02d} s of load left"
    )
