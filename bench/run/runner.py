"""`python -m bench run`: verify, inspect, then measure every deployment on interleaved
repetitions, and store the results (bench/store/schema.py) for the report.

Order of work: verify each deployment (a failure keeps it from being measured) and probe it;
then repetition 1 of every deployment, configuration, scenario and level, then repetition 2,
and so on (the machine's speed drifts, so frameworks are compared only within interleaved
repetitions); then cold starts, also interleaved. Server and Locust are pinned to disjoint cores.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bench import RESULTS_DIR
from bench.cli.console import raise_if_interrupted, say
from bench.clients.payloads import write_payload_file
from bench.load.locust import kill_locust, start_locust, wait_locust
from bench.load.peer_auth import read_refusals
from bench.load.scenarios import (
    BATCH_SIZES,
    CHECK_ANSWERS_ENV,
    INCOMPLETE_LOG_EXIT_CODE,
)
from bench.measure.floor import measure_floor
from bench.measure.metrics import (
    failure_kinds,
    level_metrics,
    read_request_logs,
    recorded_window,
)
from bench.measure.sampler import TreeSampler
from bench.measure.validity import run_validity
from bench.run import environment, lock
from bench.run.checking import verify_and_probe
from bench.run.cold_starts import measure_cold_starts
from bench.run.context import Run, log_path, noted, rotated
from bench.run.passes import CALIBRATION, Pass, passes
from bench.run.plan import Plan
from bench.run.run_info import run_info
from bench.run.slo_search import measure_slo
from bench.store.schema import (
    FLOOR,
    Row,
    new_run_dir,
    point_latest,
    write_rows,
)
from bench.targets.bind import Bind, binding, lines_to_say
from bench.targets.manifest import Deployment
from bench.targets.servers import (
    DeploymentError,
    ExternalDeployment,
    RunningDeployment,
    split_cores,
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
    locust_workers: int = 0,
    target: str | None = None,
    remote_workers: int = 0,
    master_bind: str = "127.0.0.1",
    master_port: int | None = None,
    worker_secret: str | None = None,
    bind: Bind | None = None,
) -> tuple[Path, str]:
    """Run the plan; return the run folder and its status (complete, partial, interrupted).

    locust_workers: 0 runs one Locust process per level; N runs Locust's distributed mode, a
    master and N worker processes, all on the load generator's cores; remote_workers more
    workers on other hosts connect to the master at master_bind:master_port. target: the base URL of
    the one deployment given, already running elsewhere; it is verified and loaded, but not
    started, stopped, sampled, probed or cold-started, and only its main pass is measured.
    bind: where the servers it starts listen (default 127.0.0.1), recorded in run.json."""
    if target and len(deployments) != 1:
        raise ValueError("--target measures one deployment: name it with --only NAME")
    bind = bind or Bind()
    with lock.exclusive(wait=wait_for_lock), binding(bind):
        machine = environment.machine()  # before pinning, which hides cores from this process
        if not machine["bytecode_precompiled"]:
            say(environment.BYTECODE_WARNING)
        server_cores, loadgen_cores = split_cores()
        with pinned_to(loadgen_cores):
            run = Run(
                plan,
                deployments,
                load_model(),
                new_run_dir(results_dir, plan.profile),
                server_cores,
                loadgen_cores,
                locust_workers=locust_workers,
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


@contextlib.contextmanager
def pinned_to(cores: tuple[int, ...]) -> Iterator[None]:
    """Keep this process (the runner's sampling threads) off the server's cores, and give the
    caller its cores back afterwards."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _run(run: Run, corrupt_expected: bool) -> tuple[Path, str]:
    for sub in ("raw", "logs"):
        (run.run_dir / sub).mkdir()
    run.save_info()
    write_payload_files(run, corrupt_expected)
    try:
        verified = verify_and_probe(run)
        measure(run, verified)
        measure_slo(run, verified)
        measure_cold_starts(run, verified)
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
        run.info["validity"] = run_validity(run.rows, run.info)
        run.save_info()
        say(f"results: {run.run_dir} ({run.info['status']}, {run.info['validity']['verdict']})")
        for reason in run.info["validity"]["reasons"]:
            say(f"  not valid: {reason}")
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
    run.levels_total = sum(
        p.levels_count for ds in order.values() for d in ds for p in passes_of[d.name]
    )
    run.measure_started = time.monotonic()
    for rep, ds in order.items():
        if not run.target:
            measure_floor_rows(run, rep)
        for d in ds:
            for p in passes_of[d.name]:
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
    if run.target:
        for scenario in p.scenarios:
            for users in p.levels:
                raise_if_interrupted()
                run.levels_done += 1
                progress(run, p, scenario, users, rep)
                measure_level(
                    run, ExternalDeployment(p.deployment, run.target), p, scenario, users, rep
                )
        return
    running: RunningDeployment | None = None
    try:
        for scenario in p.scenarios:
            for users in p.levels:
                raise_if_interrupted()
                run.levels_done += 1
                progress(run, p, scenario, users, rep)
                if running is None or running.process.poll() is not None:
                    running = restart(run, p, rep, running)
                    if running is None:
                        why = "the deployment could not be (re)started"
                        run.fail_level(p.deployment, p.label, scenario, users, rep, why, p.model)
                        continue
                measure_level(run, running, p, scenario, users, rep)
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
    try:
        running = start(
            p.deployment,
            p.config,
            cores=run.server_cores,
            log_path=log_path(run, p.deployment, p.label, f"r{rep}{suffix}"),
            extra_env=p.server_env,
        )
        wait_healthy(running)
        # gunicorn answers health as soon as one worker is up; the others may still be loading.
        wait_until_idle(running)
    except DeploymentError as exc:
        say(f"    {exc}")
        if running is not None:
            stop(running)
        return None
    return running


def measure_level(
    run: Run,
    running: RunningDeployment | ExternalDeployment,
    p: Pass,
    scenario: str,
    users: int,
    rep: int,
) -> None:
    plan, d, config = run.plan, running.deployment, p.label
    fail = partial(run.fail_level, d, config, scenario, users, rep, model=p.model)
    model_part = "" if p.model == run.model_name else f"-{p.model}"
    prefix = run.run_dir / "raw" / f"{d.name}-{config}{model_part}-{scenario}-u{users}-r{rep}"
    # Set-up (a Streamlit session's first run loads the model) may take up to a start-up.
    max_run_time = d.startup_timeout_s + plan.warmup_s + plan.window_s + 5
    # The null target answers a constant: the load generator reads it but cannot check it.
    locust_env = {CHECK_ANSWERS_ENV: "0"} if d.role == CALIBRATION else {}
    locust = start_locust(
        scenario, running.base_url, users, plan.warmup_s, plan.window_s, max_run_time, prefix,
        run.loadgen_cores, run.payload_file(p.model), extra_env=locust_env,
        locust_workers=run.locust_workers, remote_workers=run.remote_workers,
        master_bind_host=run.master_bind, master_port=run.master_port,
        worker_secret=run.worker_secret,
    )  # fmt: skip
    try:
        with TreeSampler(running.tree) as server, TreeSampler(locust.tree) as loadgen:
            code = wait_locust(locust, max_run_time + 30, between=raise_if_interrupted)
            load_ended = time.time()
    except subprocess.TimeoutExpired:
        fail("Locust did not stop after its run time")
        return
    finally:
        kill_locust(locust)
        refused = record_refusals(run, locust.refusals_log, prefix.name)
    if refused:
        fail(f"the Locust master refused {len(refused)} peer message(s): {refused[0]['reason']}")
        return
    if code == INCOMPLETE_LOG_EXIT_CODE:
        fail(f"a Locust worker's last request-log lines never reached the master; see {prefix}*")
        return
    if running.process.poll() is not None:
        code = running.process.returncode
        tail = running.log_tail(3) or "(its log is empty)"
        fail(f"the server exited (code {code}) during the level: {tail}")
        return
    try:
        requests_ = read_request_logs(locust.request_logs)
        window = recorded_window(requests_, plan.warmup_s, plan.window_s)
    except (OSError, ValueError) as exc:
        fail(f"no request log: {exc}; see {', '.join(log.name for log in locust.output_logs)}")
        return
    raise_if_interrupted()  # before the level is stored: an interrupted level is not kept
    # Locust quits just after the window by itself; ending before it means its run-time cap
    # cut the load short. (The last logged answer may end well before the window does when
    # each interaction takes as long as the window: that is slow, not short.)
    if load_ended < window.end:
        fail("Locust stopped before the window ended (its run-time cap)")
        return
    metrics = level_metrics(
        requests_,
        window,
        [] if run.target else server.between(window.start, window.end),
        loadgen.between(window.start, window.end),
        # Workers sharing fewer cores than their number cannot exceed those cores together.
        loadgen_processes=max(1, min(run.locust_workers, len(run.loadgen_cores))),
    )
    run.add(d, config, scenario, users, rep, metrics, p.model)
    kinds = failure_kinds(requests_, window)
    say(
        f"    {metrics['throughput']:.1f}/s  p50 {metrics['latency_p50']:.1f} ms"
        f"  p99 {metrics['latency_p99']:.1f} ms  server CPU {metrics['server_cpu']:.0f}%"
        f"  Locust CPU {metrics['loadgen_cpu']:.0f}%"
        + (f"  failures {kinds}" if kinds else "")
        + ("  [load-generator bound]" if metrics["loadgen_bound"] else "")
    )


def record_refusals(run: Run, path: Path | None, level: str) -> list[dict[str, str]]:
    """What the level's master refused, kept in run.json (refused_peers, which make the run
    INVALID; a worker of another level, told to quit, only as a note). Returns the refusals."""
    entries = read_refusals(path)
    run.info["notes"] += [
        f"{level}: a worker left over from another level ({e['peer']}) was told to quit"
        for e in entries
        if e["kind"] == "stale"
    ]
    refused = [e for e in entries if e["kind"] != "stale"]
    if refused:
        run.info.setdefault("refused_peers", []).extend({**e, "level": level} for e in refused)
    return refused


def progress(run: Run, p: Pass, scenario: str, users: int, rep: int) -> None:
    finished = run.levels_done - 1
    per_level = (
        (time.monotonic() - run.measure_started) / finished
        if finished
        else run.plan.warmup_s + run.plan.window_s + LEVEL_OVERHEAD_S
    )
    left_s = (run.levels_total - finished) * per_level
    say(
        f"[{run.levels_done}/{run.levels_total}] rep {rep}/{run.plan.repetitions}  "
        f"{p.deployment.name}/{p.label}"
        + ("" if p.model == run.model_name else f" [{p.model}]")
        + f"  {scenario}  {users} users   "
        f"~{int(left_s // 60)} min {int(left_s % 60):02d} s of load left"
    )
